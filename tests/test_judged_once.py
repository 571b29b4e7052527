"""Judged once, drawn anywhere: a recorder judges each poll with its thresholds, and
every reader of its recording shows that judgement, whatever its own config says."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import WA_TUI, record_polls
from wa_tui.recording.follow import FollowWatcher
from wa_tui.recording.replay import ReplayWatcher


@pytest.fixture
def judged_at_90_days(start_simulator: StartSimulator, tmp_path: Path) -> Path:
    """A recording of a healthy deployment whose build expires in 80 days, judged by a
    recorder that warns 90 days ahead (a reader's default is 14: no finding)."""
    server = start_simulator()
    path = tmp_path / "judged.db"
    asyncio.run(record_polls(server, path, 0, judged_with={"expiry_warning_days": 90}))
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WA_TUI_")}
    return subprocess.run([*WA_TUI, *args], capture_output=True, text=True, env=env, timeout=60)


def test_every_reader_shows_the_recorders_judgement(judged_at_90_days: Path) -> None:
    path = judged_at_90_days
    replay = ReplayWatcher.open(path)
    replay.go(len(replay) - 1)
    assert [f.code for f in replay.findings] == ["BUILD_EXPIRING"]
    assert replay.summary is not None and replay.summary.top_finding == "BUILD_EXPIRING"
    follower = FollowWatcher.attach(path)
    follower.go(len(follower) - 1)
    assert [f.code for f in follower.findings] == ["BUILD_EXPIRING"]

    snapshot = _run("snapshot", "--from-recording", str(path), "--format", "json")
    assert snapshot.returncode == 0, snapshot.stderr
    assert [f["code"] for f in json.loads(snapshot.stdout)["findings"]] == ["BUILD_EXPIRING"]
    check = _run("check", "--from-recording", str(path), "--max-age", "1h")
    assert check.returncode == 1 and check.stdout.startswith("WA-TUI WARNING - BUILD_EXPIRING")
    report = _run("report", str(path), "--format", "json")
    assert [f["code"] for f in json.loads(report.stdout)["findings"]] == ["BUILD_EXPIRING"]
