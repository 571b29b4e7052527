"""Every fault the simulator injects, over real TCP: the app and `snapshot` report it in
one line, keep the last good data marked stale, and recover when the fault clears."""

from __future__ import annotations

import gc

import pytest

from tests.helpers import FAILING, HARMLESS, SIZE, plain, target_for, until_nodes, wait_for
from wa_tui.cli.main import main
from wa_tui.simulator import SimulatorServer
from wa_tui.simulator.faults import Fault, FaultPlan
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.status_bar import StatusBar

# A hang or a drip is cut at the deadline: 1 s. Refusing a huge answer means reading
# 32 MiB of it first, which on a busy machine takes longer than that.
DEADLINE = {Fault.HUGE: 15.0}


def test_every_fault_is_covered() -> None:
    assert set(FAILING) | set(HARMLESS) == set(Fault)


@pytest.fixture
def faulty(start_simulator) -> SimulatorServer:
    return start_simulator(faults=FaultPlan(latency=0.3, retry_after=1))


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAILING))
async def test_app_reports_keeps_data_and_recovers(faulty: SimulatorServer, fault: Fault) -> None:
    app = WaTuiApp([target_for(faulty, interval=0.2, timeout=DEADLINE.get(fault, 1.0))])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        table = app.query_one(NodeTable)
        faulty.faults.always = fault
        await wait_for(pilot, lambda: "✖" in plain(app.query_one(StatusBar)))
        status = plain(app.query_one(StatusBar))
        assert FAILING[fault] in status, status
        assert "✖ STALE" in status and "STALE: data from" in status
        assert "retry in" in status  # when the next try is, from the moment it failed
        assert "\n" not in app.watcher.status.error
        assert table.row_count == 12  # the last good data stays
        await pilot.press("j")  # the UI still answers while the deployment misbehaves
        assert table.cursor_row == 1
        faulty.faults.clear()
        await wait_for(pilot, lambda: "STALE" not in plain(app.query_one(StatusBar)), 20)
        assert app.watcher.status.error is None


@pytest.mark.parametrize("fault", HARMLESS)
async def test_harmless_faults_still_bring_data(faulty: SimulatorServer, fault: Fault) -> None:
    app = WaTuiApp([target_for(faulty)])
    faulty.faults.push(fault)  # the first answer is late, or its token revoked mid-session
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        assert app.watcher.status.error is None
        assert faulty.faults.injected == [fault]


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAILING))
def test_snapshot_exits_3_with_the_reason(
    faulty: SimulatorServer, fault: Fault, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("WA_TUI_USERNAME", faulty.username)
    monkeypatch.setenv("WA_TUI_PASSWORD", faulty.password)
    faulty.faults.always = fault
    status = main(["snapshot", "--url", faulty.url, "--timeout", str(DEADLINE.get(fault, 1))])
    out = capsys.readouterr()
    assert status == 3 and out.out == ""
    (line,) = out.err.splitlines()
    assert line.startswith("wa-tui: ") and FAILING[fault] in line
    faulty.faults.clear()
    assert main(["snapshot", "--url", faulty.url, "--timeout", "1"]) == 0
    assert gc.isenabled()  # off while the command started (main), on again when it ends


def test_retry_after_is_honoured(faulty: SimulatorServer) -> None:
    import asyncio

    from tests.conftest import client_for
    from wa_tui.watch.poller import Poller

    async def poll_once() -> float:
        async with client_for(faulty) as client:
            poller = Poller(client, interval=0.1)
            faulty.faults.push(Fault.RATE_LIMITED)
            await poller.poll()
            return poller.next_delay()

    faulty.faults.retry_after = 9
    assert asyncio.run(poll_once()) >= 9
