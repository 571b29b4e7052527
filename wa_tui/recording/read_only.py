"""Opening a recording to read it: the one way (replay, follow, `check`, the bundle, the
report), read-only and never a writer, with its meta parsed once. Plain Python: what
`check` reads of a recording loads SQLite and JSON alone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wa_tui.core.errors import RecordingError
from wa_tui.core.text import visible

# 4: each good poll's `derived` row holds the whole judgement, versioned ("judged"), and
# the meta the thresholds it was judged by; 3: the check line and status; 2: `derived`.
FORMAT = "4"
# The judgement document's version, in each `derived` body as "judged" (absent before 4).
JUDGED = 4


@dataclass(frozen=True)
class Meta:
    """A recording's `meta` table: as written (`values`), and what readers ask of it."""

    values: Mapping[str, str]
    deployment: str
    url: str
    interval: float | None  # the recorder's (None before recorders wrote it)
    heartbeat: datetime | None  # when the recorder last said it was alive
    thresholds: dict[str, float] | None  # what it judged with (None before format 4)

    @classmethod
    def of(cls, values: Mapping[str, str], path: Path) -> Meta:
        """The meta of the recording at `path` (RecordingError: written by a newer wa-tui,
        in a format this one would misread)."""
        written = values.get("format", "1")
        if not written.isdigit() or int(written) > int(FORMAT):
            raise RecordingError(
                f"{path}: recorded in format {visible(written, limit=12)} by a newer wa-tui "
                f"(this one reads up to {FORMAT}): upgrade wa-tui to read it"
            )
        return cls(
            dict(values),
            values.get("deployment") or path.stem,
            values.get("url", ""),
            _number(values.get("interval")),
            _moment(values.get("heartbeat")),
            _thresholds(values.get("thresholds")),
        )


def open_read_only(path: Path, threads: bool = False) -> tuple[sqlite3.Connection, Meta]:
    """The recording at `path`, opened read-only (a viewer that may not write the file or
    its folder opens it all the same: SQLite reads a WAL file's side files as they are),
    and its meta. `threads`: the connection is used from more than one thread, one at a
    time. RecordingError: there is no recording there."""
    if not path.is_file():
        raise RecordingError(f"{path}: no such recording")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=not threads)
    except sqlite3.Error as exc:
        raise RecordingError(f"{path}: not a wa-tui recording ({exc})") from None
    try:
        return db, read_meta(db, path)
    except BaseException:
        db.close()
        raise


def read_meta(db: sqlite3.Connection, path: Path) -> Meta:
    """The meta as it is now (a recorder rewrites its heartbeat)."""
    try:
        values = dict(db.execute("SELECT key, value FROM meta"))
    except sqlite3.Error as exc:
        raise RecordingError(f"{path}: not a wa-tui recording ({exc})") from None
    return Meta.of(values, path)


def _number(value: str | None) -> float | None:
    try:
        return float(value) or None if value else None
    except ValueError:
        return None


def _moment(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _thresholds(value: str | None) -> dict[str, float] | None:
    try:
        values = json.loads(value) if value else None
        return {str(k): float(v) for k, v in values.items()} if values else None
    except (ValueError, TypeError, AttributeError):
        return None
