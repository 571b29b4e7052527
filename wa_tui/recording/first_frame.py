"""A viewer's first frame: what a recorder stored of its newest poll, read with SQLite,
zlib and JSON alone, and drawn as the recorder judged it.

The recorder keeps its newest poll's snapshot as parsed (`newest`, wa_tui/recording/
format.py) beside that poll's judgement (`derived`): a follower draws both before it
loads the parser, the analysis or the history (the vitals' 30 minutes, the change log),
which it reads next, in a thread, to go on as a follower (wa_tui/recording/follow.py).
A recording without them (an older recorder's; a poll judged by an older format), or
with a document that does not parse, has no first frame: the follower then starts the
long way, reading the poll whole, which says what it cannot read.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wa_tui.core.freshness import DEFAULT_INTERVAL
from wa_tui.model.judgement import Change, Finding, Summary, changes_of, findings_of
from wa_tui.model.snapshot import Snapshot
from wa_tui.recording.codec import inflated
from wa_tui.recording.read_only import open_read_only

# The judgement document's version the first frame reads (format.JUDGED: the whole
# judgement, the summary with it); older polls have no first frame.
JUDGED_WHOLE = 4


@dataclass(frozen=True)
class FirstFrame:
    """The newest poll of a recording, as the recorder parsed and judged it."""

    path: Path
    deployment: str
    interval: float
    heartbeat: datetime | None
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    summary: Summary
    changes: tuple[Change, ...]  # what the poll changed, as the change log shows it


def first_frame(path: Path) -> FirstFrame | None:
    """The first frame of the recording at `path`, or None when it keeps none (then the
    follower reads its newest poll whole). RecordingError: no recording is there, or one
    written by a newer wa-tui."""
    db, meta = open_read_only(path)
    with closing(db):
        try:
            row = db.execute(
                "SELECT newest.body, derived.body FROM newest "
                "JOIN derived ON derived.poll = newest.poll WHERE newest.id = 1"
            ).fetchone()
        except sqlite3.Error:  # no such table: an older recorder's file
            return None
    if row is None:
        return None
    try:
        judgement = inflated(row[1])
        if int(judgement.get("judged", 3)) < JUDGED_WHOLE or not judgement.get("summary"):
            return None
        return FirstFrame(
            path,
            meta.deployment,
            meta.interval or DEFAULT_INTERVAL,
            meta.heartbeat,
            Snapshot.from_document(inflated(row[0])),
            findings_of(judgement["findings"]),
            Summary.from_document(judgement["summary"]),
            changes_of(judgement["changes"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # read whole, the long way, which says what it cannot read
