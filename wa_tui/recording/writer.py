"""The recorder: each poll written in one transaction, secrets masked first, entries stored
once by content, the oldest polls dropped past `--keep` / `--max-size`. One recorder a
file (an exclusive lock says so to a second one); a heartbeat every interval, even while
the deployment fails, says the recorder is alive."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from wa_tui import __version__
from wa_tui.analysis.events import event_of
from wa_tui.api.answers import Answers, decode_answer
from wa_tui.api.endpoints import HEALTH, SUPPORT
from wa_tui.api.models import is_keyed
from wa_tui.core import clock
from wa_tui.core.errors import RecordingError, WAError
from wa_tui.core.secrets import mask_phones, mask_tree, may_hold_secrets
from wa_tui.core.thresholds import DEFAULTS
from wa_tui.model.judgement import Change
from wa_tui.model.snapshot import READING_FIELDS, SINGLE_NODE_ID, Node, Snapshot
from wa_tui.outputs.check import check_line
from wa_tui.recording.codec import IS_KEYFRAME, Packer, deflated, inflated
from wa_tui.recording.format import SCHEMA, derived_document, derived_of, error_document
from wa_tui.recording.read_only import FORMAT
from wa_tui.recording.reader import RecordedPoll
from wa_tui.watch.reader import PollResult, Reader
from wa_tui.watch.state import Consumer, Phase, Update

log = logging.getLogger(__name__)


class Recorder:
    """Writes polls to a recording. One per file; `close()` when done. `mode` and `group`:
    the file's permissions and group (0600, or 0640 for an on-call group that reads);
    `interval`: the recorder's, written beside the heartbeat."""

    def __init__(
        self,
        path: Path,
        deployment: str,
        url: str,
        max_bytes: int | None = None,
        keep_seconds: float | None = None,
        mode: int = 0o600,
        interval: float | None = None,
        group: int | None = None,
        say: Callable[[str], object] | None = None,  # None: to the log
        redact_phone: bool = False,
        thresholds: Mapping[str, float] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.redact_phone = redact_phone  # phone numbers masked before they are written
        # What its watcher judges with (core/thresholds.py keys): in the meta, for readers.
        self.thresholds = {**DEFAULTS, **(thresholds or {})}
        # A write that fails (a full disk) is said once, and writing again once it works.
        self._say = say or log.warning
        self.trouble: str | None = None
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self.polls = 0
        self._known: dict[bytes, int] = {}  # blob digest -> id, for this session
        # A node entry as sent (digest) -> the id of its blob, masked: an entry sent again
        # is not masked again (masking is most of a poll's writing).
        self._entries: dict[bytes, int] = {}
        # Each node of the last newest document, masked as written, by id: a node sent
        # unchanged is the same object in the next poll, and is not masked again.
        self._node_documents: dict[str, tuple[Node, object]] = {}
        self._readings, self._stats = Packer(), Packer()
        # Polls recorded without what the watcher made of them (a bundle's copy) are read
        # here, as the watcher would have: every recording has its `derived` rows.
        self._reader: Reader | None = None
        self._codes: frozenset[str] = frozenset()  # of the last good poll, for events
        # A poll's transaction and a heartbeat come from different threads: one at a time.
        self._writing = threading.Lock()
        self._beaten = -float("inf")  # clock.monotonic() of the last heartbeat written
        try:
            # The mode from the first byte; SQLite gives its side files (-wal, -shm) the same.
            self._lock = os.open(path, os.O_RDWR | os.O_CREAT, mode)
            if group is not None:
                os.fchown(self._lock, -1, group)
            os.fchmod(self._lock, mode)
        except OSError as exc:
            raise RecordingError(f"cannot record to {path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)
            raise RecordingError(
                f"{path}: another wa-tui is recording to it (one recorder a file)"
            ) from None
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._first = self._id("SELECT COUNT(*) FROM polls") == 0
        except (OSError, sqlite3.Error) as exc:
            os.close(self._lock)
            raise RecordingError(f"cannot record to {path}: {exc}") from None
        for key, value in {
            "format": FORMAT,
            "wa_tui_version": __version__,
            "deployment": deployment,
            "url": url,
            "interval": "" if interval is None else f"{interval:g}",
            # What it judges with; a bundle's copy carries its source's (`settings`).
            **({"thresholds": json.dumps(self.thresholds, sort_keys=True)} if thresholds else {}),
            **(settings or {}),  # what another recording was judged with (a bundle's copy)
        }.items():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def beat(self, at: datetime) -> None:
        """The heartbeat: the recorder is alive at `at`, whatever its deployment answers
        (a viewer tells "the recorder stopped" from "the deployment is unreachable")."""
        try:
            with self._writing:
                self._beat(at)
        except sqlite3.Error as exc:
            self._failed(RecordingError(f"cannot write to {self.path}: {exc}"))

    def _beat(self, at: datetime) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('heartbeat', ?)", (at.isoformat(),))
        self._beaten = clock.monotonic()

    def silent_for(self) -> float:
        """Seconds since the last heartbeat (a poll written is one)."""
        return clock.monotonic() - self._beaten

    def _failed(self, error: RecordingError) -> None:
        """A write failed (nothing of it stays: one transaction): said once; the streams
        start afresh, so the next poll written stands alone; RecordingError."""
        self._readings, self._stats = Packer(), Packer()
        self._known.clear()  # blobs of the rolled-back poll were never stored
        self._entries.clear()
        if self.trouble is None:
            self._say(f"{error}: polling goes on; writing again when it can")
        self.trouble = str(error)
        raise error

    def _wrote(self) -> None:
        if self.trouble is not None:
            self.trouble = None
            self._say(f"{self.path}: writing again")

    def close(self) -> None:
        """Closed once, however often asked (the lock goes with it). The file is left out
        of WAL mode, whole, with no side file: a viewer who may read it and not write its
        folder (where SQLite would make them) opens it all the same. While a viewer reads
        it this cannot be, and the side files stay, for such viewers to read."""
        if self._lock >= 0:
            with self._writing, contextlib.suppress(sqlite3.Error):  # after a poll's write
                self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.close()
            os.close(self._lock)
            self._lock = -1

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
        judgement, changes, newest = None, (), None
        if result is not None and result.snapshot is not None:
            judgement = derived_document(result)
            judgement["check"] = list(check_line(result, self.thresholds["expiry_warning_days"]))
            newest = self._newest(result.snapshot)
        if result is not None:
            changes = result.changes
        self._commit(RecordedPoll(at, received, answers, error), judgement, changes, newest)

    def _newest(self, snapshot: Snapshot) -> bytes:
        """The snapshot's document for a viewer's first frame, masked as answers are; a
        node sent unchanged (the same object: build_snapshot) is masked once."""
        known, self._node_documents = self._node_documents, {}

        def node_document(node: Node) -> object:
            kept = known.get(node.id)
            if kept is None or kept[0] is not node:
                kept = (node, self._masked(snapshot.node_document(node)))
            self._node_documents[node.id] = kept
            return kept[1]

        document = snapshot.document(node_document)
        nodes = document.pop("nodes")
        masked = self._masked(document)
        assert isinstance(masked, dict)
        return deflated({**masked, "nodes": nodes})

    def copy(self, poll: RecordedPoll, judgement: dict[str, Any] | None) -> None:
        """A poll of another recording with the judgement recorded of it (`derived`), as
        it was: a bundle's copy is the recorder's word, not judged again (a poll of a
        recording made before judgements were kept is read here, as `record` does)."""
        if judgement is None or poll.answers is None:
            self.record(poll.at, poll.received, poll.answers, poll.error)
            return
        self._commit(poll, judgement, derived_of(judgement).changes)

    def _commit(
        self,
        poll: RecordedPoll,
        judgement: dict[str, Any] | None,
        changes: Sequence[Change],
        newest: bytes | None = None,
    ) -> None:
        try:
            with self._writing:
                if self.max_bytes is not None or self.keep_seconds is not None:
                    self._drop_oldest(poll.at)  # first: what it frees takes the new poll
                self._write(poll, judgement, changes, newest)
        except RecordingError as exc:
            self._failed(exc)
        self.polls += 1
        self._wrote()

    def _write(
        self,
        poll: RecordedPoll,
        judgement: dict[str, Any] | None,
        changes: Sequence[Change],
        newest: bytes | None,
    ) -> None:
        at, answers = poll.at, poll.answers
        try:
            self._db.execute("BEGIN")
            if answers is None:
                cursor = self._db.execute(
                    "INSERT INTO polls (at, received, error) VALUES (?, ?, ?)",
                    (at.isoformat(), poll.received, poll.error or "unknown error"),
                )
            else:
                cursor = self._record_answers(at, poll.received, answers)
            self._record_derived(cursor.lastrowid, at, judgement if answers else None, changes)
            if newest is not None and answers is not None:  # the first frame a viewer draws
                self._db.execute(
                    "INSERT OR REPLACE INTO newest VALUES (1, ?, ?)", (cursor.lastrowid, newest)
                )
            self._beat(clock.now_precise())  # a poll written says the recorder is alive
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise RecordingError(f"cannot write to {self.path}: {exc}") from None

    def _derive(self, answers: Answers) -> PollResult | None:
        if self._reader is None:
            self._reader = Reader()
        try:
            return self._reader.read(answers)
        except WAError:
            return None

    def _record_derived(
        self,
        poll: int | None,
        at: datetime,
        judgement: dict[str, Any] | None,
        changes: Sequence[Change],
    ) -> None:
        """What the watcher made of the poll, and the event it is if it is one."""
        if judgement is not None:
            if self.redact_phone:  # what findings and changes say of the answers
                judgement = mask_phones(judgement)  # type: ignore[assignment]
            assert isinstance(judgement, dict)
            body = deflated(judgement)
            self._db.execute(
                "INSERT INTO derived (poll, body, changes, side) VALUES (?, ?, ?, ?)",
                (poll, body, len(judgement["changes"]), " ".join(judgement["side"])),
            )
        codes = frozenset(f[0] for f in judgement["findings"]) if judgement else frozenset()
        what = event_of(self._codes, codes, changes)
        if judgement is not None:
            self._codes = codes
        if self.redact_phone:
            what = str(mask_phones(what))
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
            health = str(self._blob(self._masked(decoded, answers.health)))
        stats = {
            path: {"error": error_document(body)}
            if isinstance(body, WAError)
            else self._masked(_decoded_or_raw(body, path), body)
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

    def _masked(self, value: object, raw: bytes | None = None) -> object:
        """What is written of an answer: secrets masked (skipped when `raw` cannot hold
        one), and with `redact_phone` the phone numbers too."""
        if raw is None or may_hold_secrets(raw):
            value = mask_tree(value)
        return mask_phones(value) if self.redact_phone else value

    def _entry_blob(self, entry: dict[str, Any]) -> int:
        """A node entry's blob: masked and stored the first time it is sent."""
        raw = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(raw.encode()).digest()
        if (known := self._entries.get(digest)) is None:
            known = self._entries[digest] = self._blob(self._masked(entry))
        return known

    def _split_support(self, support: object) -> tuple[int, dict[str, Any]]:
        """The manifest's blob id, and each node's readings: entries stored apart from
        their readings, so a node that sent the same is not stored again."""
        section = support.get("support") if isinstance(support, dict) else None
        if not isinstance(section, dict):
            return self._blob({"raw": self._masked(support)}), {}
        keyed = is_keyed(section)
        entries = section.items() if keyed else [(SINGLE_NODE_ID, section)]
        ids, readings = {}, {}
        for node, entry in entries:
            if isinstance(entry, dict):
                moving = {k: entry[k] for k in READING_FIELDS if k in entry}
                rest = {k: v for k, v in entry.items() if k not in moving}
                if moving:
                    readings[node] = moving
                ids[node] = self._entry_blob(rest)
            else:
                ids[node] = self._blob({"raw_entry": self._masked(entry)})
        rest_of_answer = {k: v for k, v in support.items() if k != "support"}  # type: ignore[union-attr]
        shape = "keyed" if keyed else "single"
        return self._blob({"meta": rest_of_answer, "shape": shape, "entries": ids}), readings

    def _drop_oldest(self, now: datetime) -> None:
        """--keep / --max-size: the oldest polls go (and blobs only they used). What
        stays starts at a keyframe, so it replays from its first poll."""
        keep_from = None
        if self.keep_seconds is not None:
            horizon = datetime.fromtimestamp(now.timestamp() - self.keep_seconds, now.tzinfo)
            # In id order, stopping at the first: the polls before it are the few not yet
            # dropped (a scan of the whole file every poll would grow with it).
            keep_from = self._id(
                "SELECT id FROM polls WHERE at >= ? ORDER BY id LIMIT 1", horizon.isoformat()
            )
        too_big = self.max_bytes is not None and self._bytes_used() > self.max_bytes
        if too_big:  # a tenth of the polls at a time
            tenth = self._id(
                "SELECT id FROM polls ORDER BY id LIMIT 1 OFFSET (SELECT COUNT(*) / 10 FROM polls)"
            )
            keep_from = max(keep_from or 0, tenth or 0)
        if keep_from is None:
            return
        keyframe = self._id(f"SELECT MAX(id) FROM polls WHERE id <= ? AND {IS_KEYFRAME}", keep_from)
        if keyframe is None or keyframe <= (self._id("SELECT MIN(id) FROM polls") or 0):
            return
        try:
            self._db.execute("BEGIN")
            for table, column in (("polls", "id"), ("derived", "poll"), ("events", "poll")):
                self._db.execute(f"DELETE FROM {table} WHERE {column} < ?", (keyframe,))
            self._forget_unused_blobs()
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise RecordingError(f"cannot prune {self.path}: {exc}") from None
        # No VACUUM (it needs free space, as much as the file): the pages freed take the
        # next polls; the WAL, checkpointed, is written over from its start.
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _bytes_used(self) -> int:
        """The file's pages in use (the freed ones are reused, the file never shrinks)."""
        pages = self._id("PRAGMA page_count") or 0
        free = self._id("PRAGMA freelist_count") or 0
        return (pages - free) * (self._id("PRAGMA page_size") or 4096)

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
        self._entries = {d: i for d, i in self._entries.items() if i not in unused}

    def _read_blob(self, blob_id: int) -> Any:
        (body,) = self._db.execute("SELECT body FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        return inflated(body)


def _decoded_or_raw(body: bytes, path: str) -> object:
    """An answer as JSON, or (not JSON at all) as text, so a replay meets it as it was."""
    try:
        return decode_answer(body, path)
    except WAError:
        return {"__raw__": body.decode("utf-8", "replace")}


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
        with contextlib.suppress(RecordingError):  # said by the recorder, once
            await asyncio.to_thread(recorder.record, at, received, answers, error, result)

    return record
