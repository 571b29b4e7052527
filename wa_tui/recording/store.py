"""Recordings: every poll's answers, stored so a replay recomputes exactly what was seen.

The file is SQLite (Python's standard library, readable by any SQLite tool):

- `meta(key, value)`: `format` (2), `wa_tui_version`, `deployment`, `url`, `started`.
- `blobs(id, digest, body)`: zlib-compressed JSON, stored once by content (SHA-256 of the
  uncompressed bytes): a node's support entry, less its readings (clock, free space), is
  stored again only when it changed; so is a health answer.
- `polls(id, at, received, error, support, readings, health, stats)`: one row a poll, in
  order. `at` is ISO 8601 UTC; `received` the recorder's monotonic clock (rates);
  `error` why the poll failed (then the rest is null); `support` the id of a blob
  `{"meta": ..., "shape": "keyed" | "single", "entries": {node: blob id}}`; `readings`
  zlib JSON `{node: {field: value}}`; `health` a blob id, or a string why there was none;
  `stats` zlib JSON `{path: answer | {"error": why}}`. The readings and stats are each a
  stream compressed against the poll before; every KEYFRAME_EVERY polls one stands alone.
- `derived(poll, body, changes, side)` (format 2): what the watcher made of a good poll, zlib JSON
  `{"findings": [[code, severity, message, nodes, shards]], "vitals": history point, "changes":
  [[seen_at, kind, message, severity, node]], "side": [paths]}`; and `events(poll, at,
  what)`, the polls worth jumping to. A replay opens from these and the polls' times
  alone, and reads a poll's answers only when it shows it (starting at the keyframe
  before it); a report reads them without reading an answer again. A format-1 file
  (no `derived`) still opens: it is read whole, the slow way, and never rewritten.

Every poll is one transaction (WAL journal): a recorder killed at any moment leaves a
file that replays up to its last complete poll. Secrets are masked before they are
written (the screen's rule, wa_tui.core.secrets) and the file is created 0600. Plain Python.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wa_tui import __version__
from wa_tui.analysis import Change, ChangeKind, Finding, Severity
from wa_tui.analysis.accounting import PollFacts, Shape
from wa_tui.analysis.events import event_of
from wa_tui.analysis.vitals import HistoryPoint
from wa_tui.api.answers import Answers, decode_answer
from wa_tui.api.endpoints import DB_STATS, HEALTH, SETTINGS, SUPPORT, WEBHOOK_CA, WEBHOOK_PROBE
from wa_tui.api.models import READING_FIELDS, SINGLE_NODE_ID, is_keyed
from wa_tui.core import clock
from wa_tui.core.errors import ApiStatusError, RecordingError, UnreadableAnswer, WAError
from wa_tui.core.secrets import mask_tree, may_hold_secrets
from wa_tui.watch.poller import PollResult, Reader
from wa_tui.watch.watcher import Consumer, Phase, Update

FORMAT = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
    id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS polls (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    received REAL NOT NULL,
    error TEXT,
    support INTEGER REFERENCES blobs(id),
    readings BLOB,
    health TEXT,
    stats BLOB
);
CREATE TABLE IF NOT EXISTS derived (
    poll INTEGER PRIMARY KEY, body BLOB NOT NULL, changes INTEGER NOT NULL, side TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (poll INTEGER PRIMARY KEY, at TEXT NOT NULL, what TEXT NOT NULL);
"""


POLL_COLUMNS = "id, at, received, error, support, readings, health, stats"


KEYFRAME_EVERY = 120  # polls: a readings or stats stream starts afresh this often


class _Packer:
    """A stream of JSON values, each compressed against the one before it (zlib's preset
    dictionary): a poll's counters differ from the last poll's in a few digits. Every
    KEYFRAME_EVERY values one stands alone, so a replay can start there."""

    def __init__(self) -> None:
        self._previous: bytes | None = None
        self._count = 0

    def pack(self, value: object) -> bytes:
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        previous, self._previous = self._previous, raw
        self._count += 1
        if previous is None or self._count % KEYFRAME_EVERY == 1:
            return b"K" + zlib.compress(raw, 6)
        packer = zlib.compressobj(6, zdict=previous)
        return b"D" + packer.compress(raw) + packer.flush()


class _Unpacker:
    def __init__(self) -> None:
        self._previous: bytes | None = None

    def unpack(self, body: bytes) -> Any:
        """The value; ValueError for a delta whose predecessor was not read."""
        return json.loads(self.advance(body))

    def advance(self, body: bytes) -> bytes:
        """The value's JSON, not parsed: enough to read the frame after it."""
        if body[:1] == b"K":
            raw = zlib.decompress(body[1:])
        elif body[:1] != b"D":
            raise ValueError("not a frame of this format")
        elif self._previous is None:
            raise ValueError("a delta without the poll before it")
        else:
            unpacker = zlib.decompressobj(zdict=self._previous)
            raw = unpacker.decompress(body[1:]) + unpacker.flush()
        self._previous = raw
        return raw


class Recorder:
    """Writes polls to a recording. One per file; `close()` when done."""

    def __init__(
        self,
        path: Path,
        deployment: str,
        url: str,
        max_bytes: int | None = None,
        keep_seconds: float | None = None,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self.polls = 0
        self._known: dict[bytes, int] = {}  # blob digest -> id, for this session
        self._readings, self._stats = _Packer(), _Packer()
        # Polls recorded without what the watcher made of them (a bundle's copy) are read
        # here, as the watcher would have: every recording has its `derived` rows.
        self._reader: Reader | None = None
        self._codes: frozenset[str] = frozenset()  # of the last good poll, for events
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # 0600 from the first byte
            os.close(fd)
            os.chmod(path, 0o600)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._first = self._id("SELECT COUNT(*) FROM polls") == 0
        except (OSError, sqlite3.Error) as exc:
            raise RecordingError(f"cannot record to {path}: {exc}") from None
        for key, value in {
            "format": FORMAT,
            "wa_tui_version": __version__,
            "deployment": deployment,
            "url": url,
        }.items():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self._db.close()

    def _blob(self, value: object) -> int:
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
        digest = hashlib.sha256(raw).digest()
        known = self._known.get(digest)
        if known is not None:
            return known
        row = self._db.execute("SELECT id FROM blobs WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            cursor = self._db.execute(
                "INSERT INTO blobs (digest, body) VALUES (?, ?)", (digest, zlib.compress(raw, 6))
            )
            row = (cursor.lastrowid,)
        self._known[digest] = row[0]
        return row[0]

    def record(
        self,
        at: datetime,
        received: float,
        answers: Answers | None,
        error: str | None,
        result: PollResult | None = None,
    ) -> None:
        """One poll: its answers (masked), or the error that kept it from them; and what
        the watcher made of it (`result`; read here from the answers when not given)."""
        if answers is not None and (result is None or result.snapshot is None):
            result = self._derive(answers)
        try:
            self._db.execute("BEGIN")
            if answers is None:
                cursor = self._db.execute(
                    "INSERT INTO polls (at, received, error) VALUES (?, ?, ?)",
                    (at.isoformat(), received, error or "unknown error"),
                )
            else:
                cursor = self._record_answers(at, received, answers)
            self._record_derived(cursor.lastrowid, at, result if answers else None)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise RecordingError(f"cannot write to {self.path}: {exc}") from None
        self.polls += 1
        if self.max_bytes is not None or self.keep_seconds is not None:
            self._drop_oldest(at)

    def _derive(self, answers: Answers) -> PollResult | None:
        if self._reader is None:
            self._reader = Reader()
        try:
            return self._reader.read(answers)
        except WAError:
            return None

    def _record_derived(self, poll: int | None, at: datetime, result: PollResult | None) -> None:
        """What the watcher made of the poll, and the event it is if it is one."""
        findings = result.findings if result is not None and result.snapshot else ()
        changes = result.changes if result is not None else ()
        if result is not None and result.snapshot is not None:
            document = derived_document(result)
            body = zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)
            self._db.execute(
                "INSERT INTO derived (poll, body, changes, side) VALUES (?, ?, ?, ?)",
                (poll, body, len(document["changes"]), " ".join(document["side"])),
            )
        codes = frozenset(f.code for f in findings)
        what = event_of(self._codes, codes, changes)
        if result is not None and result.snapshot is not None:
            self._codes = codes
        if what and not self._first:
            self._db.execute(
                "INSERT INTO events (poll, at, what) VALUES (?, ?, ?)", (poll, at.isoformat(), what)
            )
        self._first = False

    def _record_answers(self, at: datetime, received: float, answers: Answers) -> sqlite3.Cursor:
        support = _decoded_or_raw(answers.support, SUPPORT)
        manifest, readings = self._split_support(support)
        health: str
        if isinstance(answers.health, WAError):
            health = json.dumps({"error": str(answers.health)})
        else:
            decoded = _decoded_or_raw(answers.health, HEALTH)
            health = str(self._blob(_masked(decoded, answers.health)))
        stats = {
            path: {"error": _error_document(body)}
            if isinstance(body, WAError)
            else _masked(_decoded_or_raw(body, path), body)
            for path, body in answers.stats.items()
        }
        return self._db.execute(
            "INSERT INTO polls (at, received, support, readings, health, stats) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                at.isoformat(),
                received,
                manifest,
                self._readings.pack(readings),
                health,
                self._stats.pack(stats),
            ),
        )

    def _split_support(self, support: object) -> tuple[int, dict[str, Any]]:
        """The manifest's blob id, and each node's readings: entries stored apart from
        their readings, so a node that sent the same is not stored again."""
        section = support.get("support") if isinstance(support, dict) else None
        if not isinstance(section, dict):
            return self._blob({"raw": mask_tree(support)}), {}
        keyed = is_keyed(section)
        entries = section.items() if keyed else [(SINGLE_NODE_ID, section)]
        ids, readings = {}, {}
        for node, entry in entries:
            if isinstance(entry, dict):
                moving = {k: entry[k] for k in READING_FIELDS if k in entry}
                rest = {k: v for k, v in entry.items() if k not in moving}
                if moving:
                    readings[node] = moving
                ids[node] = self._blob(mask_tree(rest))
            else:
                ids[node] = self._blob({"raw_entry": mask_tree(entry)})
        rest_of_answer = {k: v for k, v in support.items() if k != "support"}  # type: ignore[union-attr]
        shape = "keyed" if keyed else "single"
        return self._blob({"meta": rest_of_answer, "shape": shape, "entries": ids}), readings

    def _drop_oldest(self, now: datetime) -> None:
        """--keep / --max-size: the oldest polls go (and blobs only they used). What
        stays starts at a keyframe, so it replays from its first poll."""
        keep_from = None
        if self.keep_seconds is not None:
            horizon = datetime.fromtimestamp(now.timestamp() - self.keep_seconds, now.tzinfo)
            keep_from = self._id("SELECT MIN(id) FROM polls WHERE at >= ?", horizon.isoformat())
        too_big = self.max_bytes is not None and self.path.stat().st_size > self.max_bytes
        if too_big:  # a tenth of the polls at a time
            tenth = self._id(
                "SELECT id FROM polls ORDER BY id LIMIT 1 OFFSET (SELECT COUNT(*) / 10 FROM polls)"
            )
            keep_from = max(keep_from or 0, tenth or 0)
        if keep_from is None:
            return
        keyframe = self._id(
            "SELECT MAX(id) FROM polls WHERE id <= ? AND substr(readings, 1, 1) = X'4B'", keep_from
        )
        if keyframe is None or keyframe <= (self._id("SELECT MIN(id) FROM polls") or 0):
            return
        for table, column in (("polls", "id"), ("derived", "poll"), ("events", "poll")):
            self._db.execute(f"DELETE FROM {table} WHERE {column} < ?", (keyframe,))
        self._forget_unused_blobs()
        if too_big:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")

    def _id(self, query: str, *parameters: object) -> int | None:
        row = self._db.execute(query, parameters).fetchone()
        return row[0] if row else None

    def _forget_unused_blobs(self) -> None:
        used: set[int] = set()
        for (manifest_id,) in self._db.execute("SELECT DISTINCT support FROM polls"):
            if manifest_id is None:
                continue
            used.add(manifest_id)
            manifest = self._read_blob(manifest_id)
            used.update(manifest.get("entries", {}).values())
        for (health,) in self._db.execute("SELECT DISTINCT health FROM polls"):
            if health and health.isdigit():
                used.add(int(health))
        all_ids = {row[0] for row in self._db.execute("SELECT id FROM blobs")}
        unused = all_ids - used
        self._db.executemany("DELETE FROM blobs WHERE id = ?", [(i,) for i in unused])
        self._known = {d: i for d, i in self._known.items() if i not in unused}

    def _read_blob(self, blob_id: int) -> Any:
        (body,) = self._db.execute("SELECT body FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        return json.loads(zlib.decompress(body))


# The answers a poll carries now and then that the reader keeps until the next (the
# settings every 5 minutes, the webhook's CA, a probe): a replay moving in time reads the
# last of each before the poll it shows.
SIDE_PATHS = (SETTINGS, WEBHOOK_CA, WEBHOOK_PROBE)
# And the database's stats, read once a minute: their gauges and counters carry over the
# polls between. `derived` says which of these a poll carried.
CARRIED_PATHS = (*SIDE_PATHS, DB_STATS)


@dataclass(frozen=True)
class Derived:
    """What the watcher made of one good poll, as recorded."""

    findings: tuple[Finding, ...]
    vitals: HistoryPoint | None  # what the vitals' history keeps of it
    changes: tuple[Change, ...]
    side: tuple[str, ...]  # which of CARRIED_PATHS the poll carried
    shape: Shape | None  # None in a recording made before shapes were kept

    def facts(self, at: datetime) -> PollFacts:
        """What an account reads of the poll."""
        return PollFacts(at, self.shape, self.findings, self.vitals)


def derived_document(result: PollResult) -> dict[str, Any]:
    answers, facts = result.answers, result.facts
    return {
        "findings": [
            [f.code, int(f.severity), f.message, list(f.nodes), list(f.shards)]
            for f in result.findings
        ],
        "vitals": facts.vitals,
        "changes": [
            [c.seen_at.isoformat(), c.kind.value, c.message, int(c.severity), c.node]
            for c in result.changes
        ],
        "side": [p for p in CARRIED_PATHS if answers is not None and p in answers.stats],
        "shape": facts.shape.document() if facts.shape else None,
    }


def derived_of(document: Mapping[str, Any]) -> Derived:
    return Derived(
        tuple(
            Finding(Severity(severity), code, message, tuple(nodes), tuple(shards))
            for code, severity, message, nodes, shards in document["findings"]
        ),
        document.get("vitals"),
        tuple(
            Change(datetime.fromisoformat(at), ChangeKind(kind), message, Severity(severity), node)
            for at, kind, message, severity, node in document["changes"]
        ),
        tuple(document.get("side", ())),
        Shape.from_document(shape) if (shape := document.get("shape")) else None,
    )


def _masked(value: object, raw: bytes) -> object:
    return mask_tree(value) if may_hold_secrets(raw) else value


def _decoded_or_raw(body: bytes, path: str) -> object:
    """An answer as JSON, or (not JSON at all) as text, so a replay meets it as it was."""
    try:
        return decode_answer(body, path)
    except WAError:
        return {"__raw__": body.decode("utf-8", "replace")}


def _error_document(error: WAError) -> dict[str, Any]:
    return {
        "message": str(error),
        "status": error.status if isinstance(error, ApiStatusError) else None,
    }


@dataclass(frozen=True)
class RecordedPoll:
    at: datetime
    received: float
    answers: Answers | None
    error: str | None


@dataclass(frozen=True)
class Recording:
    """What a recording holds, read back; `stopped` says where reading stopped early."""

    meta: Mapping[str, str]
    polls: tuple[RecordedPoll, ...]
    stopped: str | None = None


def read_recording(path: Path, expected_shards: int | None = None) -> Recording:
    """Every complete poll of the recording at `path`, in order. A damaged file gives
    what could be read, and `stopped` says where and why."""
    if not path.is_file():
        raise RecordingError(f"{path}: no such recording")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        meta = dict(db.execute("SELECT key, value FROM meta"))
    except sqlite3.Error as exc:
        raise RecordingError(f"{path}: not a wa-tui recording ({exc})") from None
    reader = _PollReader(db, expected_shards)
    polls: list[RecordedPoll] = []
    stopped = None
    try:
        for row in db.execute(f"SELECT {POLL_COLUMNS} FROM polls ORDER BY id"):
            try:
                polls.append(reader.poll(row))
            except (sqlite3.Error, ValueError, TypeError, KeyError, zlib.error) as exc:
                if not polls and reader.before_first_keyframe(exc):
                    continue  # the oldest polls were dropped (--max-size, --keep)
                why = type(exc).__name__
                stopped = f"poll {row[0]} is damaged ({why}): replaying the {len(polls)} before it"
                break
    except sqlite3.Error as exc:
        stopped = f"the file is damaged after {len(polls)} polls ({exc})"
    finally:
        db.close()
    return Recording(meta, tuple(polls), stopped)


_DAMAGE = (sqlite3.Error, ValueError, TypeError, KeyError, zlib.error)


class RecordingFile:
    """A recording opened for replay and reports: each poll's time and outcome held in
    memory (a day of polls is a few MB), its answers and what was derived from them read
    when asked. Reading poll after poll follows the streams; a poll anywhere else is read
    from the keyframe before it, the polls between followed without being parsed."""

    def __init__(self, path: Path, expected_shards: int | None = None) -> None:
        if not path.is_file():
            raise RecordingError(f"{path}: no such recording")
        self.path = path
        self.stopped: str | None = None  # set when a damaged poll ends what can be read
        try:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self.meta: dict[str, str] = dict(self._db.execute("SELECT key, value FROM meta"))
            rows = self._db.execute(
                "SELECT id, at, received, error IS NOT NULL, substr(readings, 1, 1) = X'4B' "
                "FROM polls ORDER BY id"
            ).fetchall()
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            raise RecordingError(f"{path}: not a wa-tui recording ({exc})") from None
        # What stays after --keep or --max-size starts at a keyframe; a poll before the
        # first (a recorder that died mid-prune) cannot be read.
        first = next((i for i, row in enumerate(rows) if row[3] or row[4]), len(rows))
        rows = rows[first:]
        self.ids = [row[0] for row in rows]
        self.ats = [datetime.fromisoformat(row[1]) for row in rows]
        self.times = [at.timestamp() for at in self.ats]  # the same, to bisect
        self.received = [row[2] for row in rows]
        self.failed = [bool(row[3]) for row in rows]
        self._keyframes = [i for i, row in enumerate(rows) if row[4]]
        self._index_of = {poll_id: i for i, poll_id in enumerate(self.ids)}
        self._shards = expected_shards
        self._cursor: _PollReader | None = None
        self._cursor_at = -1
        self.indexed = "derived" in tables and self._derived_count() == self.failed.count(False)

    def __len__(self) -> int:
        return len(self.ids)

    def close(self) -> None:
        self._db.close()

    def _derived_count(self) -> int:
        first = self.ids[0] if self.ids else 0
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM derived WHERE poll >= ?", (first,)
        ).fetchone()
        return count

    def poll(self, index: int) -> RecordedPoll:
        """Poll `index`: its answers as recorded (RecordingError if it is damaged)."""
        try:
            if self._cursor is None or index != self._cursor_at + 1:
                self._seek(index)
            assert self._cursor is not None
            row = self._row(index)
            poll = self._cursor.poll(row)
        except _DAMAGE as exc:
            self._cursor = None
            raise RecordingError(
                f"poll {self.ids[index]} is damaged ({type(exc).__name__})"
            ) from None
        self._cursor_at = index
        return poll

    def _row(self, index: int) -> tuple[Any, ...]:
        query = f"SELECT {POLL_COLUMNS} FROM polls WHERE id = ?"
        row = self._db.execute(query, (self.ids[index],)).fetchone()
        if row is None:
            raise KeyError(f"poll {self.ids[index]}")
        return row

    def _seek(self, index: int) -> None:
        """The streams brought to just before `index`, from the keyframe before it."""
        start = max((k for k in self._keyframes if k <= index), default=0)
        self._cursor = _PollReader(self._db, self._shards)
        query = f"SELECT {POLL_COLUMNS} FROM polls WHERE id >= ? AND id < ? ORDER BY id"
        for row in self._db.execute(query, (self.ids[start], self.ids[index])):
            self._cursor.skip(row)

    def derived(self, index: int) -> Derived | None:
        """What the watcher made of poll `index` (None for a failed poll)."""
        return self.derived_between(index, index + 1).get(index)

    def derived_between(self, start: int, stop: int, changed: bool = False) -> dict[int, Derived]:
        """Polls `start` to `stop - 1`, by index (`changed`: only those with changes)."""
        if start >= stop or not self.indexed:
            return {}
        condition = " AND changes > 0" if changed else ""
        rows = self._db.execute(
            f"SELECT poll, body FROM derived WHERE poll >= ? AND poll <= ?{condition}",
            (self.ids[start], self.ids[stop - 1]),
        )
        return {
            self._index_of[poll]: derived_of(json.loads(zlib.decompress(body)))
            for poll, body in rows
        }

    def last_with(self, path: str, before: int) -> int | None:
        """The last poll before `before` that carried the side answer `path`."""
        if not self.indexed or before <= 0:
            return None
        row = self._db.execute(
            "SELECT MAX(poll) FROM derived WHERE poll < ? AND instr(side, ?) > 0",
            (self.ids[before], path),
        ).fetchone()
        return self._index_of.get(row[0]) if row and row[0] is not None else None

    def changed_before(self, stop: int, most: int) -> list[Change]:
        """The changes of polls before `stop`, newest first, at most `most`."""
        if not self.indexed or stop <= 0:
            return []
        changes: list[Change] = []
        rows = self._db.execute(
            "SELECT body FROM derived WHERE poll <= ? AND changes > 0 ORDER BY poll DESC",
            (self.ids[stop - 1],),
        )
        for (body,) in rows:
            changes += derived_of(json.loads(zlib.decompress(body))).changes
            if len(changes) >= most:
                break
        return changes[:most]

    def failures(self) -> dict[int, str]:
        """The failed polls, by index: what kept each from an answer."""
        rows = self._db.execute("SELECT id, error FROM polls WHERE error IS NOT NULL")
        return {self._index_of[poll]: error for poll, error in rows if poll in self._index_of}

    def events(self) -> list[tuple[int, str]]:
        """The recorded events: poll index and what happened."""
        if not self.indexed:
            return []
        rows = self._db.execute("SELECT poll, what FROM events ORDER BY poll")
        return [(self._index_of[poll], what) for poll, what in rows if poll in self._index_of]


def _encode(value: object) -> bytes:
    if isinstance(value, dict) and set(value) == {"__raw__"}:
        return str(value["__raw__"]).encode()
    return json.dumps(value, ensure_ascii=False).encode()


class _PollReader:
    """Polls read back in order: blobs cached, the compressed streams followed."""

    def __init__(self, db: sqlite3.Connection, shards: int | None) -> None:
        self.db = db
        self.shards = shards
        self.blobs: dict[int, Any] = {}
        self.readings, self.stats = _Unpacker(), _Unpacker()

    def before_first_keyframe(self, exc: Exception) -> bool:
        return isinstance(exc, ValueError) and "without the poll before it" in str(exc)

    def blob(self, blob_id: int) -> Any:
        if blob_id not in self.blobs:
            row = self.db.execute("SELECT body FROM blobs WHERE id = ?", (blob_id,)).fetchone()
            if row is None:
                raise KeyError(f"blob {blob_id}")
            self.blobs[blob_id] = json.loads(zlib.decompress(row[0]))
        return self.blobs[blob_id]

    def skip(self, row: tuple[Any, ...]) -> None:
        """Follow the streams past a poll without reading it (a seek to a later one)."""
        readings, stats = row[5], row[7]
        if readings:
            self.readings.advance(readings)
        if stats:
            self.stats.advance(stats)

    def poll(self, row: tuple[Any, ...]) -> RecordedPoll:
        _, at, received, error, support_id, readings, health, stats = row
        moment = datetime.fromisoformat(at)
        if error is not None:
            return RecordedPoll(moment, received, None, error)
        moving = self.readings.unpack(readings) if readings else {}
        recorded_stats = self.stats.unpack(stats) if stats else {}
        answers = Answers(
            _encode(self._support(self.blob(support_id), moving)),
            self._health(health),
            moment,
            self.shards,
            {path: _stats_answer(answer) for path, answer in recorded_stats.items()},
            received,
        )
        return RecordedPoll(moment, received, answers, None)

    def _support(self, manifest: dict[str, Any], moving: dict[str, Any]) -> object:
        if "raw" in manifest:
            return manifest["raw"]
        entries = {
            node: {**self.blob(blob_id), **moving.get(node, {})}
            for node, blob_id in manifest["entries"].items()
        }
        section = entries.get(SINGLE_NODE_ID, {}) if manifest["shape"] == "single" else entries
        return {"support": section, **manifest["meta"]}

    def _health(self, health: str) -> bytes | WAError:
        if health.isdigit():
            return _encode(self.blob(int(health)))
        return UnreadableAnswer(json.loads(health)["error"])


def _stats_answer(answer: object) -> bytes | WAError:
    if isinstance(answer, dict) and set(answer) == {"error"}:
        document = answer["error"]
        status = document.get("status")
        if status:
            return ApiStatusError(document["message"], "", status=status)
        return UnreadableAnswer(document["message"])
    return _encode(answer)


def recording_consumer(recorder: Recorder) -> Consumer:
    """A watcher's subscriber that records each poll (in a thread: SQLite and zlib take
    milliseconds the event loop keeps for keys)."""

    async def record(update: Update) -> None:
        result = update.result
        if update.phase is not Phase.POLLED or result is None:
            return
        answers = result.answers
        at = answers.fetched_at if answers else clock.now()
        received = answers.received if answers else clock.monotonic()
        error = None if answers else str(result.error)
        await asyncio.to_thread(recorder.record, at, received, answers, error, result)

    return record
