"""The last poll of a recording as `check` prints it, read with SQLite, zlib and JSON
alone: a recorder (format 3) stores each good poll's check line and status, judged with
its thresholds, so `check` from it loads no HTTP client, no model, no validation. And
whether the recorder is alive: its heartbeat, or the last poll's time in a recording made
before heartbeats. Plain Python."""

from __future__ import annotations

import sqlite3
import zlib
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wa_tui.core.errors import RecordingError
from wa_tui.core.freshness import DEFAULT_INTERVAL, freshness
from wa_tui.recording.codec import inflated
from wa_tui.recording.read_only import open_read_only


@dataclass(frozen=True)
class LastPoll:
    """What `check` needs of a recording: its last poll's line and status when stored
    (None: read the poll), the deployment's name and url, the recorder's last sign of
    life and interval."""

    line: str | None
    status: int
    error: str | None  # why the last poll failed, as recorded
    deployment: str
    url: str
    alive: datetime | None
    interval: float

    def stale(self, max_age: float | None) -> str | None:
        """Why the recorder is taken to have stopped (its last sign of life older than
        `max_age`, default three of its intervals: core/freshness.py), or None."""
        if self.alive is None:
            return "the recording holds no poll"
        age = freshness(self.alive, self.interval, max_age)
        return age.why_stopped("recorder's last sign of life") if age.stopped else None


def last_poll(path: Path) -> LastPoll:
    """The recording at `path`, read for `check` (RecordingError: it is no recording)."""
    db, meta = open_read_only(path)
    try:
        with closing(db):
            poll = db.execute("SELECT id, at, error FROM polls ORDER BY id DESC LIMIT 1").fetchone()
            body = None
            if poll is not None and poll[2] is None:
                row = db.execute("SELECT body FROM derived WHERE poll = ?", (poll[0],)).fetchone()
                body = row[0] if row else None
    except sqlite3.Error as exc:
        raise RecordingError(f"{path}: not a wa-tui recording ({exc})") from None
    line, status = None, 3
    if body is not None:
        try:
            line, status = inflated(body).get("check") or (None, 3)
        except (zlib.error, ValueError, TypeError, AttributeError) as exc:
            raise RecordingError(f"{path}: its last poll is damaged ({exc})") from None
    last_at = datetime.fromisoformat(poll[1]) if poll else None
    return LastPoll(
        line,
        status,
        poll[2] if poll else None,
        meta.deployment,
        meta.url,
        meta.heartbeat or last_at,
        meta.interval or DEFAULT_INTERVAL,
    )
