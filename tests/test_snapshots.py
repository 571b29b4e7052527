"""Snapshot tests of the main screen at 160x50: single, HA and 8-shard multiconnect.

The clock is frozen (wa_tui.core.clock) so times, ages and expiry read the same on every run;
node ids are seeded; the webhook the settings name is fixed. Update after an intended
change: pytest --snapshot-update.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from textual.pilot import Pilot

from tests.conftest import StartSimulator
from tests.helpers import make_app, wait_for
from wa_tui.core import clock
from wa_tui.simulator import SimDeployment
from wa_tui.simulator.webhook import SimWebhook
from wa_tui.ui.node_table import NodeTable

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

FROZEN = datetime(2026, 11, 25, 9, 30, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The simulated webhook's port differs each run: the settings name a fixed URL.
    monkeypatch.setattr(SimWebhook, "url", lambda self: "https://hooks.example.com/wa")
    monkeypatch.setattr(clock, "now", lambda: FROZEN)
    monkeypatch.setattr(clock, "now_precise", lambda: FROZEN)
    monkeypatch.setattr(clock, "monotonic", lambda: 1000.0)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


DEPLOYMENTS = {
    "single": (SimDeployment.single, 1),
    "ha": (SimDeployment.ha, 4),
    "multiconnect-8": (lambda: SimDeployment.multiconnect(8, spares=2), 12),
    "multiconnect-32": (lambda: SimDeployment.multiconnect(32, spares=2), 36),
}
SIZES = {"80x24": (80, 24), "120x32": (120, 32), "160x50": (160, 50), "240x70": (240, 70)}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("deployment", list(DEPLOYMENTS))
def test_main_screen(
    snap_compare, start_simulator: StartSimulator, deployment: str, size: str
) -> None:
    make, rows = DEPLOYMENTS[deployment]
    app = make_app(start_simulator(make()), interval=5, name="snapshot")

    async def first_data(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: app.query_one(NodeTable).row_count == rows)
        await wait_for(pilot, lambda: app.watcher.status.next_poll_at is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=first_data)
