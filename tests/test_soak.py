"""Soak: a few hundred polls at a short interval against a deployment injecting random
faults. No exception, memory roughly flat, and the UI still answers keys."""

from __future__ import annotations

import gc
import logging
import resource

import pytest

from tests.helpers import SIZE, target_for, wait_for
from wa_tui.simulator import SimulatorServer
from wa_tui.simulator.faults import Fault, FaultPlan
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.node_table import NodeTable

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

POLLS = 200
# HUGE is left out: 40 MB per answer makes the soak a CPU benchmark (tested on its own).
SOAK_FAULTS = tuple(f for f in Fault if f is not Fault.HUGE)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


@pytest.mark.timeout(300)  # a soak, by design
async def test_soak_with_random_faults(start_simulator, caplog: pytest.LogCaptureFixture) -> None:
    plan = FaultPlan(rate=0.3, choices=SOAK_FAULTS, latency=0.05, retry_after=1, seed=42)
    server: SimulatorServer = start_simulator(faults=plan)
    app = WaTuiApp([target_for(server, interval=0.02, timeout=0.3)])
    caplog.set_level(logging.WARNING, logger="wa_tui")
    errors_seen: set[str] = set()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: app.watcher.poller.polls >= 50 and table.row_count == 12, 120)
        gc.collect()
        early = rss_bytes()

        def soaked() -> bool:
            """the poller ran its polls"""
            if app.watcher.status.error:
                errors_seen.add(app.watcher.status.error.split(":")[0])
            return app.watcher.poller.polls >= POLLS

        await wait_for(pilot, soaked, timeout=300)
        gc.collect()
        growth = rss_bytes() - early
        await pilot.press("j", "j")
        assert table.cursor_row == 2  # still answering keys
    assert len(plan.injected) > POLLS * 0.2  # faults really were injected
    assert len(errors_seen) >= 3  # and reached the status line, several kinds of them
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert growth < 40 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB"
