"""What real deployments answer beyond the docs' examples (docs/wa-api.md, "What real
deployments do"), each played by the simulator over TCP: webapps behind a balancer, a
webapp out of processes, older builds' names and labels."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import WA_TUI, target_for
from wa_tui.analysis.vitals import Vitals
from wa_tui.api.endpoints import APP_STATS, DB_STATS, SUPPORT
from wa_tui.core.errors import ApiStatusError
from wa_tui.model.judgement import Severity
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.simulator.faults import Fault
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.simulator.traffic import webapps
from wa_tui.watch.watcher import Watcher


def _behind_a_balancer(count: int) -> SimDeployment:
    deployment = SimDeployment.multiconnect(8, spares=2)
    deployment.traffic.webapps = webapps(count)
    return deployment


async def _vitals_every(
    watcher: Watcher, seconds: Callable[[float], None], polls: int, step: float = 5.0
) -> list[Vitals]:
    """The vitals of `polls` polls, `step` simulated seconds apart."""
    seen = []
    for _ in range(polls):
        seconds(step)
        result = await watcher.poll()
        assert result.vitals is not None, result.error
        seen.append(result.vitals)
    return seen


async def test_webapps_behind_a_balancer_are_each_rated_and_summed(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    """Three webapps (50, 20 and 8 requests/s) behind a round-robin balancer: each
    /metrics answer is one webapp's; the total is theirs, poll after poll."""
    deployment = _behind_a_balancer(3)
    truth = sum(w.requests_per_s for w in deployment.traffic.webapps)
    server = start_simulator(deployment, balance="request")
    async with Watcher(target_for(server)) as watcher:
        seen = await _vitals_every(watcher, seconds, 12)
    totals = [v.api_requests_per_s for v in seen[6:]]  # each webapp read twice by then
    assert all(t is not None and abs(t - truth) <= 0.1 * truth for t in totals), (truth, totals)
    assert seen[-1].webapps_said() == "3 webapps"
    assert {w.node for w in seen[-1].webapps} == {w.node for w in deployment.traffic.webapps}
    assert seen[-1].web_queue_len == 128  # a capacity, the same each poll


async def test_a_balancer_by_connection_is_said_not_passed_for_all(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    """A balancer that keeps a webapp per connection: wa-tui sees only the webapps its
    connections reached, says how many, and totals theirs alone."""
    deployment = _behind_a_balancer(3)
    loads = {w.node: w.requests_per_s for w in deployment.traffic.webapps}
    server = start_simulator(deployment, balance="connection")
    async with Watcher(target_for(server)) as watcher:
        seen = await _vitals_every(watcher, seconds, 8)
    last, answered_by = seen[-1], server.metrics_answered_by
    reached = {deployment.traffic.webapps[i].node for i in answered_by[-4:]}
    assert {w.node for w in last.webapps} == reached
    said = last.webapps_said()
    assert said is not None and said.startswith(f"{len(reached)} ")  # "1 of 2 webapps seen"
    # The total is of the webapps read twice (a rate), the last time within the window.
    rated = {node for node in reached if answered_by.count(_index(deployment, node)) >= 2}
    total = sum(loads[node] for node in rated)
    assert last.api_requests_per_s is not None
    assert abs(last.api_requests_per_s - total) <= 0.1 * total


def _index(deployment: SimDeployment, node: str) -> int:
    return [w.node for w in deployment.traffic.webapps].index(node)


async def test_a_webapp_out_of_processes_for_a_minute_is_saturated(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    server = start_simulator(SCENARIOS["webapp-saturated"]())
    async with Watcher(target_for(server)) as watcher:
        await _vitals_every(watcher, seconds, 1)
        assert "WEBAPP_SATURATED" not in {f.code for f in watcher.findings}  # not yet
        seen = await _vitals_every(watcher, seconds, 13)
        (saturated,) = [f for f in watcher.findings if f.code == "WEBAPP_SATURATED"]
    assert saturated.severity is Severity.CRITICAL
    assert "10 of 10 pending connections" in saturated.message
    assert seen[-1].web_idle_processes == 0 and seen[-1].web_total_processes == 8


async def test_an_older_build_names_its_callbacks_and_its_failures_read_as_http(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    server = start_simulator(SCENARIOS["older-build-callbacks"]())
    async with Watcher(target_for(server)) as watcher:
        seen = await _vitals_every(watcher, seconds, 3)
        (failing,) = [f for f in watcher.findings if f.code == "CALLBACK_FAILING"]
    assert seen[-1].callbacks_per_s and abs(seen[-1].callback_success - 0.4) < 0.01  # type: ignore[operator]
    assert "HTTP 301" in failing.message and "error 1" in failing.message


async def test_db_requests_by_their_real_labels(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    server = start_simulator(SCENARIOS["db-errors"]())  # `write` failing, as wacore says
    async with Watcher(target_for(server)) as watcher:
        seen = await _vitals_every(watcher, seconds, 3)
        (errors,) = [f for f in watcher.findings if f.code == "DB_ERRORS"]
    assert errors.severity is Severity.CRITICAL and "database writes failing" in errors.message
    assert seen[-1].db_read_errors_per_s == 0.0
    assert [label for label, _ in seen[-1].db_errors_by_request] == ["write"]


@pytest.mark.slow
def test_simulate_webapps_writes_the_truth_and_says_its_modes(tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    process = subprocess.Popen(
        [*WA_TUI, "simulate", "--webapps", "3", "--balance", "connection", "--truth", str(truth)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("url: http://127.0.0.1:")
        written = json.loads(truth.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert written["api_requests_per_second"] == sum(written["webapps"].values())
    assert len(set(written["webapps"].values())) == 3  # unequal loads
    helped = subprocess.run([*WA_TUI, "simulate", "--help"], capture_output=True, text=True)
    assert "--webapps N" in helped.stdout and "--balance" in helped.stdout
    refused = subprocess.run(
        [*WA_TUI, "simulate", "--webapps", "0"], capture_output=True, text=True, timeout=30
    )
    assert refused.returncode == 2 and "--webapps takes 1 to 16" in refused.stderr


async def test_polls_stay_within_the_apis_concurrency_limit(
    start_simulator: StartSimulator,
) -> None:
    """The API answers 503 past two requests in flight: wa-tui, at its default of two,
    is never that load, and support and health go first."""
    server = start_simulator(concurrency_limit=2, request_seconds=0.05)
    async with Watcher(target_for(server)) as watcher:
        for _ in range(4):
            result = await watcher.poll()
            assert result.error is None, result.error
    assert server.limited_answers == 0 and server.most_in_flight == 2
    assert result.vitals is not None and not result.vitals.unavailable


@pytest.mark.slow
def test_check_with_a_sample_stays_within_the_limit(start_simulator: StartSimulator) -> None:
    server = start_simulator(concurrency_limit=2, request_seconds=0.05)
    done = _check(server, "--sample", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert server.limited_answers == 0 and server.most_in_flight <= 2


@pytest.mark.slow
def test_a_limited_login_is_waited_for_as_asked(start_simulator: StartSimulator) -> None:
    server = start_simulator(limited_logins=1)
    done = _check(server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert server.limited_answers == 1 and server.logins == 1  # once more, not a burst


async def test_the_apis_own_503_is_limiting_not_down_and_a_balancers_is_unreachable(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(concurrency_limit=1, request_seconds=0.05)
    async with Watcher(target_for(server)) as watcher:
        result = await watcher.poll()
    vitals = result.vitals
    said = str(result.error) if result.error else str(vitals.unavailable if vitals else "")
    assert "the API is limiting us" in said, said
    server.concurrency_limit = None
    server.faults.always = Fault.HTML_503
    async with Watcher(target_for(server)) as watcher:
        failed = await watcher.poll()
    assert isinstance(failed.error, ApiStatusError) and not failed.error.limited
    assert "limiting" not in str(failed.error)


async def test_limited_for_minutes_is_a_finding_and_asks_no_more(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    server = start_simulator(limited_paths=frozenset({APP_STATS}))
    async with Watcher(target_for(server)) as watcher:
        for poll in range(5):
            result = await watcher.poll()
            limited = [f for f in result.findings if f.code == "API_LIMITED"]
            assert bool(limited) == (poll >= 3), (poll, limited)  # from 3 minutes on
            seconds(60)
    assert "limiting wa-tui for 4m" in limited[0].message and APP_STATS in limited[0].message
    assert server.requests[APP_STATS] <= 5  # never more often than it polls


def _check(server: SimulatorServer, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WA_TUI_USERNAME": server.username, "WA_TUI_PASSWORD": server.password}
    return subprocess.run(
        [*WA_TUI, "check", "--url", server.url, *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.slow
async def test_slow_database_stats_never_hold_the_poll(start_simulator: StartSimulator) -> None:
    """`/v1/stats/db` answering in 1.5 s, polls every 0.1 s: support and health go on
    meanwhile, the vitals say the stats are out, and their numbers come when they do."""
    server = start_simulator(db_stats_seconds=1.5)
    target = target_for(server, interval=0.1)
    async with Watcher(target) as watcher:
        await watcher.poll()  # asks them aside, after its own
        said = []
        deadline = asyncio.get_running_loop().time() + 10
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            vitals = (await watcher.poll()).vitals
            assert vitals is not None
            if DB_STATS in vitals.unavailable:
                said.append(vitals.unavailable[DB_STATS])
            if vitals.pending_messages is not None:
                break
    assert server.requests[SUPPORT] >= 8  # a poll every interval while they were out
    assert said and said[0].why.startswith("slow: asked") and not said[0].failed
    assert vitals.pending_messages == 12 and server.requests[DB_STATS] == 1


@pytest.mark.slow
def test_database_stats_past_their_own_timeout_are_said_in_the_snapshot(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator(db_stats_seconds=5)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[deployments.big]\nurl = "{server.url}"\nusername = "{server.username}"\n'
        'password_env = "BIG_PASSWORD"\ndb_stats_timeout = 0.5\ntimeout = 10\n'
    )
    env = {**os.environ, "BIG_PASSWORD": server.password}
    done = subprocess.run(
        [*WA_TUI, "snapshot", "--config", str(config), "--profile", "big", "--no-recorder"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (said,) = [line for line in done.stdout.splitlines() if line.startswith(f"{DB_STATS}:")]
    assert f"no answer from {server.url}{DB_STATS} within 0.5s" in said
    assert "raise db_stats_timeout" in said


@pytest.mark.slow
async def test_w_and_the_polls_share_one_limit(start_simulator: StartSimulator) -> None:
    """`W` reads the settings and the webhook's CA beside the polls: one limit for all."""
    from tests.helpers import SIZE, until_nodes, wait_for
    from wa_tui.ui.app import WaTuiApp
    from wa_tui.ui.webhook_screen import WebhookScreen

    server = start_simulator(concurrency_limit=2, request_seconds=0.05)
    app = WaTuiApp([target_for(server, interval=0.2)])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("W")
        await wait_for(pilot, lambda: isinstance(app.screen, WebhookScreen))
        await wait_for(pilot, lambda: server.requests.get(SUPPORT, 0) >= 6)
    assert server.limited_answers == 0 and server.most_in_flight == 2


@pytest.mark.slow
async def test_an_exporter_of_many_deployments_stays_within_each_limit(
    start_simulator: StartSimulator,
) -> None:
    from tests.helpers import scrape_until
    from wa_tui.outputs.exporter import Exporter

    servers = [start_simulator(concurrency_limit=2, request_seconds=0.05) for _ in range(3)]
    exporter = Exporter(
        [target_for(server, interval=0.2, name=f"d{i}") for i, server in enumerate(servers)]
    )
    await scrape_until(exporter, 'wa_callback_queue{deployment="d2"}')
    assert all(s.limited_answers == 0 and s.most_in_flight <= 2 for s in servers)


def test_a_max_in_flight_below_one_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[deployments.lab]\nurl = "http://127.0.0.1:9"\nmax_in_flight = 0\n')
    done = subprocess.run(
        [*WA_TUI, "config", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "max_in_flight" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
