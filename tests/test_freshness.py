"""One freshness rule: the same recording, held at several ages, is called the same by
every view (the status line, the fleet, the exporter, `check`, the follower)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import record_polls
from wa_tui.core import clock
from wa_tui.core.freshness import STOPPED_AFTER_INTERVALS, missed_polls
from wa_tui.outputs.exporter import WatchersCollector
from wa_tui.outputs.fleet import row_of
from wa_tui.recording.follow import FollowWatcher
from wa_tui.recording.last_poll import last_poll
from wa_tui.ui.fleet_screen import cells
from wa_tui.ui.status_bar import render_status

INTERVAL = 10.0

# Age in intervals -> the word every view must use.
AGES = {0.5: "fresh", 2.5: "late", 4.0: "stopped", 12.0: "stopped"}


def _exported(watcher: FollowWatcher) -> dict[str, float]:
    return {
        family.name: family.samples[0].value
        for family in WatchersCollector([watcher]).collect()
        if family.name in ("wa_last_poll_age_seconds", "wa_data_late", "wa_poll_interval_seconds")
    }


@pytest.fixture
async def recording(start_simulator: StartSimulator, tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    await record_polls(start_simulator(), path, steps=0, interval=INTERVAL)
    return path


@pytest.mark.parametrize("intervals", sorted(AGES))
async def test_every_view_calls_a_recording_of_an_age_the_same(
    recording: Path, intervals: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = FollowWatcher.attach(recording)
    await watcher.seek(len(watcher) - 1)
    last = last_poll(recording)
    assert last.alive is not None
    now: datetime = last.alive + timedelta(seconds=intervals * INTERVAL)
    monkeypatch.setattr(clock, "now_precise", lambda: now)
    monkeypatch.setattr(clock, "now", lambda: now.replace(microsecond=0))
    word = AGES[intervals]

    # `check --from-recording` (default --max-age: three intervals) and the follower.
    stale = last.stale(None)
    await watcher.look()
    stopped = watcher.following.stopped
    assert (stale is not None) == (stopped is not None) == (word == "stopped")
    if stale is not None:
        assert "--max-age, by default 3 intervals" in stale
    # A longer --max-age keeps it alive: the same rule, the user's limit.
    assert last.stale(intervals * INTERVAL + 60) is None

    # The status line counts the age out loud once late, as the follower's status does.
    line = render_status(watcher).plain
    assert ("last poll" in line) == (word != "fresh"), line
    assert ("recorder stopped" in line) == (word == "stopped"), line

    # The fleet's cell, and the exporter's gauges.
    assert cells(row_of(watcher))["age"].plain.split(" ·")[0] == word
    exported = _exported(watcher)
    assert exported["wa_poll_interval_seconds"] == INTERVAL
    assert exported["wa_data_late"] == float(word != "fresh")
    assert exported["wa_last_poll_age_seconds"] >= intervals * INTERVAL - 1
    watcher.recording.close()


def test_a_gap_of_more_than_the_stopped_limit_is_missed_polls() -> None:
    """The account's missed polls: the gap a source would be called stopped across."""
    assert not missed_polls(STOPPED_AFTER_INTERVALS * INTERVAL, INTERVAL)
    assert missed_polls(STOPPED_AFTER_INTERVALS * INTERVAL + 1, INTERVAL)
