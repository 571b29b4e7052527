"""`wa-tui report`: the incident scenario recorded over simulated time, accounted, and
checked against the truth the simulator wrote as it went (wa_tui/simulator/incident.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList, Static

from tests.conftest import StartSimulator
from tests.helpers import plain, target_for, until_nodes, wait_for
from wa_tui.analysis.accounting import Account
from wa_tui.cli.main import main
from wa_tui.core import clock
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.recording.writer import Recorder
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.simulator.faults import Fault, FaultPlan
from wa_tui.simulator.incident import IncidentTruth, incident_story
from wa_tui.ui.account_screen import AccountScreen
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.replay_app import ReplayApp
from wa_tui.watch.watcher import Watcher

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

POLL_SECONDS = 15
STEP_SECONDS = 60  # the story's: four polls a step
STEPS = 16  # through the webhook's outage and a quiet step after it


@pytest.fixture
def incident(
    start_simulator: StartSimulator, tmp_path: Path
) -> Iterator[tuple[SimulatorServer, IncidentTruth]]:
    deployment = SimDeployment.multiconnect(8, spares=2)
    truth = IncidentTruth(tmp_path / "truth.json")
    server = start_simulator(
        deployment,
        story=incident_story(deployment, truth),
        step_seconds=3600,  # the test steps it
        faults=FaultPlan(),
    )
    yield server, truth


async def record_incident(
    server: SimulatorServer,
    path: Path,
    seconds: Callable[[float], None],
    failing_polls: range = range(0),
    unrecorded_polls: range = range(0),
) -> None:
    """The story stepped every STEP_SECONDS, a poll every POLL_SECONDS, each recorded
    (the recorder's own call, in this thread: the clock is simulated)."""
    recorder = Recorder(path, "incident", server.url)
    async with Watcher(target_for(server, name="incident")) as watcher:
        for poll in range(STEPS * STEP_SECONDS // POLL_SECONDS + 1):
            if poll * POLL_SECONDS % STEP_SECONDS == 0:
                server.advance()
            seconds(1)  # a poll is answered a moment after the step
            if poll in unrecorded_polls:
                seconds(POLL_SECONDS - 1)
                continue
            server.faults.always = Fault.HTML_502 if poll in failing_polls else None
            result = await watcher.poll()
            answers = result.answers
            at = answers.fetched_at if answers else clock.now()
            error = None if answers else str(result.error)
            recorder.record(at, clock.monotonic(), answers, error, result)
            seconds(POLL_SECONDS - 1)
    recorder.close()


@pytest.fixture
async def recorded(
    incident: tuple[SimulatorServer, IncidentTruth],
    seconds: Callable[[float], None],
    tmp_path: Path,
) -> tuple[Path, IncidentTruth]:
    """The whole incident, recorded: the recording's path and the truth."""
    server, truth = incident
    path = tmp_path / "incident.db"
    await record_incident(server, path, seconds)
    return path, truth


def _at(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _within_a_poll(seen: str | None, true: str | None, window: float = 0) -> bool:
    """The report sees a change at the first poll after it: never before, at most one
    interval after (and a share counted over a `window`, that much later)."""
    late = (_at(seen) - _at(true)).total_seconds()
    return 0 <= late <= POLL_SECONDS + window


def _down(account: Account) -> dict[int, float]:
    return {shard: account.down_seconds(shard) for shard in account.shards}


async def test_the_report_gives_each_failover_and_shard_downtime_as_they_were(
    recorded: tuple[Path, IncidentTruth], tmp_path: Path
) -> None:
    path, truth = recorded
    account = ReplayWatcher.open(path).account()
    document = account.document()
    written = json.loads((tmp_path / "truth.json").read_text())
    assert written == truth.document
    ((failover,), (true_failover,)) = document["failovers"], written["failovers"]
    assert failover["lost_node"] == true_failover["lost_node"]
    assert failover["new_node"] == true_failover["new_node"]
    assert _within_a_poll(failover["lost_at"], true_failover["lost_at"])
    assert _within_a_poll(failover["restored_at"], true_failover["restored_at"])
    shards = {s["shard"]: s for s in document["shards"]}
    assert set(shards) == set(range(-1, 8))
    true_down: dict[int, list[dict[str, Any]]] = {}
    for interval in written["shards"]:
        true_down.setdefault(interval["shard"], []).append(interval)
    assert true_down.keys() == {s for s, seconds in _down(account).items() if seconds}
    for shard, intervals in true_down.items():
        seen = shards[shard]["intervals"]
        assert [i["why"] for i in seen] == [i["why"] for i in intervals]
        for got, want in zip(seen, intervals, strict=True):
            assert _within_a_poll(got["from"], want["from"])
            assert _within_a_poll(got["until"], want["until"])
        true_seconds = sum((_at(i["until"]) - _at(i["from"])).total_seconds() for i in intervals)
        assert abs(shards[shard]["down_seconds"] - true_seconds) <= POLL_SECONDS
    (outage,) = written["webhook_outages"]
    failing = [f for f in document["findings"] if f["code"] == "CALLBACK_FAILING"]
    # Its share is of the last minute's callbacks: raised within it, cleared after it.
    assert failing and _within_a_poll(failing[0]["raised_at"], outage["from"], window=60)
    assert _within_a_poll(failing[-1]["cleared_at"], outage["until"], window=60)
    assert document["vitals"]["callback_queue"]["peak"] > 0
    assert document["covered"]["gaps"] == []
    assert document["covered"]["polls"] == STEPS * STEP_SECONDS // POLL_SECONDS + 1


async def test_a_recording_with_a_gap_reports_the_gap_not_downtime(
    incident: tuple[SimulatorServer, IncidentTruth],
    seconds: Callable[[float], None],
    tmp_path: Path,
) -> None:
    server, _ = incident
    path = tmp_path / "gappy.db"
    # Failing polls across the shard's socket coming back; then wa-tui not running.
    await record_incident(
        server, path, seconds, failing_polls=range(28, 31), unrecorded_polls=range(50, 56)
    )
    account = ReplayWatcher.open(path).account()
    gaps = account.document()["covered"]["gaps"]
    assert [g["why"][:8] for g in gaps] == ["HTTP 502", "nothing "]
    failed, unrecorded = gaps
    assert _at(failed["until"]) - _at(failed["from"]) == timedelta(seconds=3 * POLL_SECONDS)
    assert _at(unrecorded["until"]) - _at(unrecorded["from"]) == timedelta(seconds=7 * POLL_SECONDS)
    # No poll saw the shard between: its downtime is the polls' that did.
    assert all(interval.end is not None for spans in account.shards.values() for interval in spans)


async def test_report_writes_markdown_json_and_charts_0600_and_masks(
    recorded: tuple[Path, IncidentTruth], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = recorded
    out = tmp_path / "review"
    assert main(["report", str(path), "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.md")
    for name in ("report.md", "report.json", "callbacks.svg", "shards.svg"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    markdown = (out / "report.md").read_text()
    assert "## Failovers of the primary master" in markdown
    assert "![Callback queue and failure share](callbacks.svg)" in markdown
    assert "CALLBACK_FAILING" in (out / "callbacks.svg").read_text()
    assert main(["report", str(path), "--format", "json", "--since", "09:04"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["covered"]["from"] == "2026-11-26T09:04:01Z"
    assert document["failovers"] == []  # the failover was at 09:01
    down = [(i["from"][11:16], i["why"][-6:]) for s in document["shards"] for i in s["intervals"]]
    assert down == [("09:05", "ket DN"), ("09:07", "ket SC")]  # a coreapp's socket
    assert main(["report", str(path), "--until", "yesterday"]) == 2
    assert "--until 'yesterday': not a time" in capsys.readouterr().err


async def test_i_in_replay_accounts_the_recording_and_enter_jumps_there(
    recorded: tuple[Path, IncidentTruth],
) -> None:
    path, truth = recorded
    app = ReplayApp(ReplayWatcher.open(path))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.replay.position >= 0)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        screen = app.screen
        assert isinstance(screen, AccountScreen)
        title = plain(screen.query_one("#account-title", Static))
        assert "as the recording saw it" in title and "1 failover ·" in title
        chart = plain(screen.query_one("#account-chart-2", Static))
        assert "shards down" in chart and "█" in chart and "▀" in chart
        lost = next(i for i, (_, what) in enumerate(screen.moments) if "lost" in what)
        moments = screen.query_one("#account-moments", OptionList)
        moments.highlighted = lost
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AccountScreen))
        true_loss = _at(truth.document["failovers"][0]["lost_at"])
        await wait_for(pilot, lambda: app.replay.at is not None and app.replay.at > true_loss)
        assert app.replay.at is not None
        assert (app.replay.at - true_loss).total_seconds() <= POLL_SECONDS


async def test_i_live_accounts_what_this_session_saw_at_80x24(
    incident: tuple[SimulatorServer, IncidentTruth],
) -> None:
    server, _ = incident
    app = WaTuiApp([target_for(server, interval=0.2)])
    async with app.run_test(size=(80, 24)) as pilot:  # a classic SSH terminal
        await until_nodes(pilot)
        server.advance()  # all healthy
        server.advance()  # the primary master lost
        await wait_for(pilot, lambda: app.watcher.account().failovers)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        screen = app.screen
        assert isinstance(screen, AccountScreen)
        assert "as this session saw it" in plain(screen.query_one("#account-title", Static))
        assert any("NO_PRIMARY_MASTER raised" in what for _, what in screen.moments)
        moments = screen.query_one("#account-moments", OptionList)
        box = screen.query_one("#account")
        # The charts leave the moments room: three rows at least, inside the box.
        await wait_for(pilot, lambda: moments.size.height >= 3)
        assert box.content_region.contains_region(moments.region)
        await pilot.press("enter")  # live: nothing to jump to, said so
        await wait_for(pilot, lambda: any("replay" in n.message for n in app._notifications))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AccountScreen))


def test_a_recording_of_the_first_format_is_accounted_the_same(
    recorded: tuple[Path, IncidentTruth], tmp_path: Path
) -> None:
    """Made before `derived` rows were written: each poll derived again, the same
    account (a copy is changed here; a recording is evidence, never rewritten)."""
    path, _ = recorded
    older = tmp_path / "format-1.db"
    shutil.copy(path, older)
    with sqlite3.connect(older) as db:
        db.execute("DROP TABLE derived")
        db.execute("DROP TABLE events")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    watcher = ReplayWatcher.open(older)
    assert not watcher.recording.indexed
    account = watcher.account().document()
    assert account == ReplayWatcher.open(path).account().document()
    assert account["failovers"] and account["covered"]["polls"] == len(watcher)
