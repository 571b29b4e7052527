"""A recorder's folder as a fleet (`wa-tui --follow DIR`): one row per recording, from the
judgement its recorder stored with its last good poll (format 4: the summary, the
findings), read with SQLite, zlib and JSON alone. One look at the folder per interval:
a recording whose file did not change since (SQLite's data version) is not read again,
so hundreds of recordings cost next to nothing between their polls."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from wa_tui.core.errors import RecordingError
from wa_tui.core.freshness import DEFAULT_INTERVAL, freshness
from wa_tui.model.judgement import Severity, Summary
from wa_tui.outputs.fleet import UNREADABLE, FleetRow, summary_row
from wa_tui.recording.codec import inflated
from wa_tui.recording.read_only import Meta, open_read_only, read_meta

LAST_POLL = "SELECT id, error FROM polls ORDER BY id DESC LIMIT 1"
LAST_JUDGEMENT = "SELECT body FROM derived ORDER BY poll DESC LIMIT 1"


@dataclass
class _Followed:
    """One recording of the folder: its connection, what was last read of it."""

    db: sqlite3.Connection
    version: int
    row: FleetRow
    alive: datetime | None = None  # the recorder's last sign of life


class RecordingsFolder:
    """The fleet a recorder writes in `folder`: rows by deployment, and which file each
    is (`path_of`), for `enter` to open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.title = f"recorded in {folder}"
        self._followed: dict[Path, _Followed] = {}
        self._paths: dict[str, Path] = {}  # the file of each row, by its name

    @property
    def every(self) -> float:
        """How often the folder is looked at: its recorders' shortest interval."""
        intervals = [f.row.interval for f in self._followed.values()]
        return min(intervals, default=DEFAULT_INTERVAL)

    def files(self) -> list[Path]:
        """The recordings in the folder now (OSError: it cannot be read)."""
        with os.scandir(self.folder) as entries:
            return sorted(Path(e.path) for e in entries if e.name.endswith(".db"))

    def path_of(self, deployment: str) -> Path | None:
        """The recording of `deployment`'s row (None: no such row now)."""
        return self._paths.get(deployment)

    async def rows(self) -> list[FleetRow]:
        """Every recording's row now (read in a thread: hundreds of small SQLite reads)."""
        return await asyncio.to_thread(self.look)

    def look(self) -> list[FleetRow]:
        files = self.files()
        for gone in self._followed.keys() - set(files):
            self._followed.pop(gone).db.close()
        rows, self._paths = [], {}
        for path in files:
            row = self._row(path)
            if row.deployment in self._paths:  # two recordings of one name: by file
                row = replace(row, deployment=path.stem)
            self._paths[row.deployment] = path
            rows.append(row)
        return rows

    def cannot_open(self, deployment: str) -> str | None:
        if self.path_of(deployment) is not None:
            return None
        return f"{deployment}: its recording is no longer in {self.folder}"

    async def aclose(self) -> None:
        for followed in self._followed.values():
            followed.db.close()
        self._followed.clear()

    def _row(self, path: Path) -> FleetRow:
        followed = self._followed.get(path)
        try:
            if followed is None:
                db, meta = open_read_only(path)
                followed = self._followed[path] = _Followed(db, -1, _waiting(meta))
            (version,) = followed.db.execute("PRAGMA data_version").fetchone()
            if version != followed.version:
                followed.row, followed.alive = _read(followed.db, path)
                followed.version = version
        except (RecordingError, sqlite3.Error, zlib.error, ValueError, KeyError, TypeError) as exc:
            why = str(exc) if isinstance(exc, RecordingError) else f"{path}: damaged ({exc})"
            return FleetRow(path.stem, Severity.CRITICAL, UNREADABLE, error=why)
        return _stopped_or(followed.row, followed.alive)


def _waiting(meta: Meta) -> FleetRow:
    """A recording's row before its first good poll is read."""
    return FleetRow(meta.deployment, None, "waiting", interval=meta.interval or DEFAULT_INTERVAL)


def _read(db: sqlite3.Connection, path: Path) -> tuple[FleetRow, datetime | None]:
    """The row of a recording: its last good poll as the recorder judged it, and the last
    poll's error when the deployment did not answer then."""
    meta = read_meta(db, path)
    row = _waiting(meta)
    last = db.execute(LAST_POLL).fetchone()
    judged = db.execute(LAST_JUDGEMENT).fetchone()
    if judged is not None:
        document = inflated(judged[0])
        if document.get("summary") is None:
            return replace(row, error="recorded by an older wa-tui: enter opens it"), None
        summary = Summary.from_document(document["summary"])
        codes = {code for code, *_ in document["findings"]}
        row = summary_row(meta.deployment, summary, codes, row.interval)
    if last is not None and last[1] is not None:
        row = replace(row, severity=Severity.CRITICAL, state=UNREADABLE, error=last[1])
    return row, meta.heartbeat or row.fetched_at


def _stopped_or(row: FleetRow, alive: datetime | None) -> FleetRow:
    """A row whose recorder stopped says so (its heartbeat: core/freshness.py); the age
    cell counts how long, so the text does not tick."""
    if alive is None or not freshness(alive, row.interval).stopped:
        return row
    return replace(row, severity=Severity.CRITICAL, state=UNREADABLE, error="recorder stopped")
