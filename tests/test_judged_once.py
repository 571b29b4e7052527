"""Judged once, drawn anywhere: a recorder judges each poll with its thresholds, and
every reader of its recording shows that judgement, whatever its own config says."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import WA_TUI, record_polls
from wa_tui.recording.follow import FollowWatcher
from wa_tui.recording.replay import ReplayWatcher

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process


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
    # Every reader says whose judgement it shows, and by which thresholds.
    judged = json.loads(snapshot.stdout)["judged"]
    assert judged["by"] == "as the recorder judged it"
    assert judged["thresholds"]["expiry_warning_days"] == 90
    assert replay.status.judged is None and follower.status.judged is None


def _config(tmp_path: Path, days: int) -> Path:
    """A reader's config: the deployment `demo`, warning `days` before expiry."""
    path = tmp_path / "reader.toml"
    path.write_text(
        f'[deployments.demo]\nurl = "https://127.0.0.1:1"\nusername = "admin"\n'
        f'password_env = "DEMO_PASSWORD"\nexpiry_warning_days = {days}\n'
    )
    return path


def test_the_readers_config_judges_only_when_asked_and_says_so(
    judged_at_90_days: Path, tmp_path: Path
) -> None:
    path, config = judged_at_90_days, _config(tmp_path, 5)
    reading = ("--from-recording", str(path), "--config", str(config), "--profile", "demo")
    shown = _run("snapshot", *reading, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert [f["code"] for f in json.loads(shown.stdout)["findings"]] == ["BUILD_EXPIRING"]

    rejudged = _run("snapshot", *reading, "--rejudge", "--format", "json")
    assert rejudged.returncode == 0, rejudged.stderr
    document = json.loads(rejudged.stdout)
    assert document["findings"] == []  # 80 days left: nothing at 5 days' warning
    assert document["judged"]["by"].startswith("re-judged with this config")
    assert document["judged"]["thresholds"]["expiry_warning_days"] == 5
    text = _run("snapshot", *reading, "--rejudge").stdout
    assert "judged: re-judged with this config (--rejudge)" in text.splitlines()[1]
    check = _run("check", *reading, "--rejudge", "--max-age", "1h")
    assert check.returncode == 0, check.stdout
    assert check.stdout.startswith("WA-TUI OK - (re-judged with this config (--rejudge))")

    replay = ReplayWatcher.open(path, rejudge=True)
    replay.go(len(replay) - 1)
    assert replay.findings == () and replay.status.judged is not None


def test_an_unreadable_judgement_is_judged_at_reading_and_said_so(
    judged_at_90_days: Path,
) -> None:
    path = judged_at_90_days
    with sqlite3.connect(path) as db:
        db.execute("UPDATE derived SET body = ?", (zlib.compress(b'{"findings": 5}'),))
    replay = ReplayWatcher.open(path)
    replay.go(len(replay) - 1)
    assert replay.findings == ()  # the reader's own thresholds: no warning at 80 days
    assert replay.status.judged is not None and "unreadable" in replay.status.judged
    shown = _run("snapshot", "--from-recording", str(path), "--max-age", "1h")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    assert "judged: judged at reading" in shown.stdout
    check = _run("check", "--from-recording", str(path), "--max-age", "1h")
    assert check.returncode == 0 and "(judged at reading" in check.stdout, check.stdout
