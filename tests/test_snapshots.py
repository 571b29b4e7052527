"""Snapshot tests of the main screen at 160x50: single, HA and 8-shard multiconnect.

The clock is frozen (wa_tui.clock) so times, ages and expiry read the same on every run;
node ids are seeded. Update after an intended change: pytest --snapshot-update.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from textual.pilot import Pilot

from tests.conftest import StartSimulator
from tests.ui_helpers import SIZE, make_app, wait_for
from wa_tui import clock
from wa_tui.simulator import SimDeployment
from wa_tui.ui.node_table import NodeTable

FROZEN = datetime(2026, 11, 25, 9, 30, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: FROZEN)
    monkeypatch.setattr(clock, "monotonic", lambda: 1000.0)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.mark.parametrize(
    ("deployment", "rows"),
    [
        (SimDeployment.single, 1),
        (SimDeployment.ha, 4),
        (lambda: SimDeployment.multiconnect(8, spares=2), 12),
    ],
    ids=["single", "ha", "multiconnect-8"],
)
def test_main_screen(snap_compare, start_simulator: StartSimulator, deployment, rows: int) -> None:
    app = make_app(start_simulator(deployment()), interval=5, name="snapshot")

    async def first_data(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: app.query_one(NodeTable).row_count == rows)
        await wait_for(pilot, lambda: app.watcher.status.next_poll_at is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=first_data)
