"""Reading a recording back, poll by poll (`RecordingFile`: replay, follow, reports, the
bundle), a damaged poll said as such."""

from __future__ import annotations

import bisect
import json
import sqlite3
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wa_tui.api.answers import Answers
from wa_tui.core.errors import (
    ApiStatusError,
    RecordingError,
    SlowAnswer,
    UnreadableAnswer,
    WAError,
)
from wa_tui.model.judgement import Change
from wa_tui.model.snapshot import SINGLE_NODE_ID
from wa_tui.recording.codec import IS_KEYFRAME, Unpacker, encode_answer, inflated
from wa_tui.recording.format import (
    POLL_COLUMNS,
    Derived,
    derived_of,
)
from wa_tui.recording.read_only import open_read_only, read_meta


@dataclass(frozen=True)
class RecordedPoll:
    at: datetime
    received: float
    answers: Answers | None
    error: str | None


DAMAGE = (sqlite3.Error, ValueError, TypeError, KeyError, zlib.error)


@dataclass(frozen=True)
class Growth:
    """What a recorder changed in a recording since a viewer last looked."""

    added: int  # polls at the end
    dropped: int  # polls pruned from the start


class RecordingFile:
    """A recording opened for replay and reports: each poll's time and outcome held in
    memory (a day of polls is a few MB), its answers and what was derived from them read
    when asked. Reading poll after poll follows the streams; a poll anywhere else is read
    from the keyframe before it, the polls between followed without being parsed."""

    def __init__(self, path: Path, expected_shards: int | None = None) -> None:
        self.path = path
        self.stopped: str | None = None  # set when a damaged poll ends what can be read
        self.ids: list[int] = []
        self.ats: list[datetime] = []
        self.times: list[float] = []  # the same, to bisect
        self.received: list[float] = []
        self.failed: list[bool] = []
        self._keyframes: list[int] = []
        self._index_of: dict[int, int] = {}
        self._shards = expected_shards
        self._cursor: PollReader | None = None
        self._cursor_at = -1
        self._db, self.info = open_read_only(path, threads=True)
        try:
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
            rows = self._rows_after(0)
        except sqlite3.Error as exc:
            self._db.close()
            raise RecordingError(f"{path}: not a wa-tui recording ({exc})") from None
        # What stays after --keep or --max-size starts at a keyframe; a poll before the
        # first (a recorder that died mid-prune) cannot be read.
        first = next((i for i, row in enumerate(rows) if row[3] or row[4]), len(rows))
        self._add(rows[first:])
        self.indexed = "derived" in tables and self._derived_count() == self.failed.count(False)
        self._version = self._data_version()

    @property
    def meta(self) -> Mapping[str, str]:
        """The meta as written (`info`: as read)."""
        return self.info.values

    def _rows_after(self, last_id: int) -> list[tuple[Any, ...]]:
        return self._db.execute(
            f"SELECT id, at, received, error IS NOT NULL, {IS_KEYFRAME} "
            "FROM polls WHERE id > ? ORDER BY id",
            (last_id,),
        ).fetchall()

    def _add(self, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            index = len(self.ids)
            self.ids.append(row[0])
            at = datetime.fromisoformat(row[1])
            self.ats.append(at)
            self.times.append(at.timestamp())
            self.received.append(row[2])
            self.failed.append(bool(row[3]))
            if row[4]:
                self._keyframes.append(index)
            self._index_of[row[0]] = index

    def _data_version(self) -> int:
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        return version

    @property
    def interval(self) -> float | None:
        """The recorder's interval, as it wrote it (None before recorders wrote it)."""
        return self.info.interval

    @property
    def judged_with(self) -> dict[str, float] | None:
        """The thresholds its recorder judged with (None: a recording made before they
        were written, or unreadable)."""
        return self.info.thresholds

    @property
    def heartbeat(self) -> datetime | None:
        """When the recorder last said it was alive (None if it never did)."""
        return self.info.heartbeat

    def grow(self) -> Growth:
        """What a recorder wrote since the last look: the polls it added at the end, those
        its pruning dropped from the start (the indexes after them move down by as many),
        its heartbeat. Cheap when nothing was written (SQLite's data version says so)."""
        try:
            version = self._data_version()
            if version == self._version:
                return Growth(0, 0)
            self._version = version
            self.info = read_meta(self._db, self.path)
            (first_id,) = self._db.execute("SELECT MIN(id) FROM polls").fetchone()
            dropped = self._drop_before(first_id)
            added = self._rows_after(self.ids[-1] if self.ids else 0)
        except sqlite3.Error as exc:
            raise RecordingError(f"{self.path}: cannot be read now ({exc})") from None
        self._add(added)
        return Growth(len(added), dropped)

    def _drop_before(self, first_id: int | None) -> int:
        """Forget the polls before `first_id` (pruned by the recorder): how many."""
        dropped = len(self.ids) if first_id is None else bisect.bisect_left(self.ids, first_id)
        if not dropped:
            return 0
        for column in (self.ids, self.ats, self.times, self.received, self.failed):
            del column[:dropped]
        self._keyframes = [k - dropped for k in self._keyframes if k >= dropped]
        self._index_of = {poll_id: i for i, poll_id in enumerate(self.ids)}
        self._cursor, self._cursor_at = None, -1
        return dropped

    def __len__(self) -> int:
        return len(self.ids)

    def close(self) -> None:
        self._db.close()

    def _derived_count(self) -> int:
        if not self.ids:
            return 0
        (count,) = self._db.execute(  # of the polls read (a recorder may be adding more)
            "SELECT COUNT(*) FROM derived WHERE poll BETWEEN ? AND ?", (self.ids[0], self.ids[-1])
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
        except DAMAGE as exc:
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
        self._cursor = PollReader(self._db, self._shards)
        query = f"SELECT {POLL_COLUMNS} FROM polls WHERE id >= ? AND id < ? ORDER BY id"
        for row in self._db.execute(query, (self.ids[start], self.ids[index])):
            self._cursor.skip(row)

    def derived(self, index: int) -> Derived | None:
        """What the watcher made of poll `index` (None for a failed poll)."""
        document = self.judgement(index)
        return derived_of(document) if document is not None else None

    def judgement(self, index: int) -> dict[str, Any] | None:
        """The `derived` document of poll `index` as the recorder wrote it (None for a
        failed poll, or a recording made before they were kept)."""
        if not self.indexed:
            return None
        row = self._db.execute(
            "SELECT body FROM derived WHERE poll = ?", (self.ids[index],)
        ).fetchone()
        return inflated(row[0]) if row else None

    def derived_between(self, start: int, stop: int, changed: bool = False) -> dict[int, Derived]:
        """Polls `start` to `stop - 1`, by index (`changed`: only those with changes)."""
        if start >= stop or not self.indexed:
            return {}
        condition = " AND changes > 0" if changed else ""
        rows = self._db.execute(
            f"SELECT poll, body FROM derived WHERE poll >= ? AND poll <= ?{condition}",
            (self.ids[start], self.ids[stop - 1]),
        )
        return {self._index_of[poll]: derived_of(inflated(body)) for poll, body in rows}

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
            changes += derived_of(inflated(body)).changes
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


class PollReader:
    """Polls read back in order: blobs cached, the compressed streams followed."""

    def __init__(self, db: sqlite3.Connection, shards: int | None) -> None:
        self.db = db
        self.shards = shards
        self.blobs: dict[int, Any] = {}
        self.readings, self.stats = Unpacker(), Unpacker()

    def blob(self, blob_id: int) -> Any:
        if blob_id not in self.blobs:
            row = self.db.execute("SELECT body FROM blobs WHERE id = ?", (blob_id,)).fetchone()
            if row is None:
                raise KeyError(f"blob {blob_id}")
            self.blobs[blob_id] = inflated(row[0])
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
            encode_answer(self._support(self.blob(support_id), moving)),
            self._health(health),
            moment,
            self.shards,
            {path: stats_answer(answer) for path, answer in recorded_stats.items()},
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
            return encode_answer(self.blob(int(health)))
        return UnreadableAnswer(json.loads(health)["error"])


def stats_answer(answer: object) -> bytes | WAError:
    if isinstance(answer, dict) and set(answer) == {"error"}:
        document = answer["error"]
        status = document.get("status")
        if status:
            limited = bool(document.get("limited"))
            return ApiStatusError(document["message"], "", status=status, limited=limited)
        if document.get("slow"):
            return SlowAnswer(document["message"])
        return UnreadableAnswer(document["message"])
    return encode_answer(answer)
