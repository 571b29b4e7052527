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
import zlib
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from wa_tui.core.freshness import DEFAULT_INTERVAL, freshness
from wa_tui.model.judgement import Change, Finding, Severity, Summary, changes_of, findings_of
from wa_tui.model.snapshot import Snapshot
from wa_tui.recording.codec import inflated
from wa_tui.recording.read_only import JUDGED, open_read_only
from wa_tui.watch.state import Capabilities, Said, Tone, WatchStatus

RECORDER_BADGE = "⇄ RECORDER"  # a recorder's polls on screen: never taken for this one's


@dataclass(frozen=True, eq=False)
class FirstFrame:
    """The newest poll of a recording, as the recorder parsed and judged it: a source the
    dashboard draws as it draws a watcher, until the follower has read the poll with its
    history (`can.ready` is False meanwhile: nothing to act on yet)."""

    path: Path
    name: str  # the deployment's, as its follower names it
    interval: float
    snapshot: Snapshot
    findings: tuple[Finding, ...]
    summary: Summary
    changes: tuple[Change, ...]  # the change log, as of this poll
    status: WatchStatus = field(default_factory=WatchStatus)

    can = Capabilities(polls=False, sends=False, follows=True, writes=False, ready=False)
    tls_unverified = False  # read from a file
    vitals = None  # the vitals come with the history
    webhook = None
    changes_rewritten = 0
    shows_now = True
    ticking = False

    @property
    def recorded_in(self) -> Path:
        return self.path

    @property
    def changes_seen(self) -> int:
        return len(self.changes)

    @property
    def severity(self) -> Severity | None:
        return self.summary.severity

    def said(self) -> Said:
        doing: tuple[tuple[str, Tone], ...] = (
            ("  following the recorder · reading its history…", "recorder"),
        )
        return Said(RECORDER_BADGE, "recorder", doing, error_first=True)


def recorder_stopped(heartbeat: datetime | None, interval: float) -> str | None:
    """Why a recorder is taken to have stopped, from its heartbeat (the one freshness
    rule, wa_tui/core/freshness.py); None: it is alive."""
    alive = freshness(heartbeat, interval)
    if alive.age is None:
        return "recorder stopped: it has not written a heartbeat"
    if alive.stopped:
        return f"recorder stopped: no heartbeat for {alive.age_text}"
    return None


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
        if int(judgement.get("judged", 3)) < JUDGED or not judgement.get("summary"):
            return None
        snapshot = Snapshot.from_document(inflated(row[0]))
        interval = meta.interval or DEFAULT_INTERVAL
        stopped = recorder_stopped(meta.heartbeat or snapshot.fetched_at, interval)
        return FirstFrame(
            path,
            meta.deployment,
            interval,
            snapshot,
            findings_of(judgement["findings"]),
            Summary.from_document(judgement["summary"]),
            changes_of(judgement["changes"]),
            WatchStatus(error=stopped),  # said as its follower says it
        )
    except (zlib.error, KeyError, TypeError, ValueError, AttributeError):
        return None  # read whole, the long way, which says what it cannot read
