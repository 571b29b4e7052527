"""The fleet screen: several deployments, worst first, following them by itself."""

from __future__ import annotations

import pytest

from tests.conftest import StartSimulator
from tests.helpers import SIZE, screen_text, target_for, wait_for
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.fleet_screen import FleetScreen, FleetTable

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

NAMES = {
    "alpha": "healthy-multiconnect",
    "bravo": "socket-down",
    "charlie": "healthy-ha",
    "delta": "build-expiring",
    "echo": "healthy-single",
}


def _rows(screen: FleetScreen) -> list[tuple[str, str]]:
    """(name, marker) of each row, top to bottom, as drawn."""
    table = screen.query_one(FleetTable)
    return [(name, table.cells(name)["mark"].plain) for name in table.keys]


async def test_five_deployments_open_on_the_fleet_worst_first(
    start_simulator: StartSimulator,
) -> None:
    servers = {name: start_simulator(SCENARIOS[scenario]()) for name, scenario in NAMES.items()}
    # Polled every second: an age kept to the second stays "fresh" (under two intervals).
    app = WaTuiApp([target_for(server, 1.0, name) for name, server in servers.items()])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        screen = app.screen
        assert isinstance(screen, FleetScreen)

        def settled() -> bool:
            """Every row read, and every webhook probed (its result changes advice)."""
            rows = _rows(screen)
            probed = all(w.webhook.probe is not None for w in app.watchers.values())
            return len(rows) == len(NAMES) and all(mark != "…" for _, mark in rows) and probed

        await wait_for(pilot, settled)
        rows = _rows(screen)
        assert rows[0] == ("bravo", "✖") and rows[1] == ("delta", "▲")
        assert {name for name, mark in rows[2:]} == {"alpha", "charlie", "echo"}
        status = str(screen.query_one("#fleet-status").content)
        assert "3 OK" in status and "1 WARNING" in status and "1 CRITICAL" in status

        table = screen.query_one(FleetTable)  # polls that change nothing shown redraw nothing
        drawn, rewritten = table.rows_rendered, table.cell_updates
        for _ in range(3):
            await wait_for(
                pilot, lambda polls=app.watcher.poller.polls: app.watcher.poller.polls > polls
            )
            screen.refresh_rows()
            await pilot.pause()
        assert (table.rows_rendered, table.cell_updates) == (drawn, rewritten)

        alpha = servers["alpha"].deployment  # a failover, by itself on screen
        with alpha.lock:
            alpha.fail_over_master()
        await wait_for(pilot, lambda: ("alpha", "▲") in _rows(screen)[:3])

        await pilot.press("slash", "e", "c", "h", "o", "enter")
        await wait_for(pilot, lambda: [n for n, _ in _rows(screen)] == ["echo"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, FleetScreen))
        assert app.current == "echo"
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("escape")
        assert not isinstance(app.screen, FleetScreen)


async def test_the_fleet_fits_an_80_column_terminal(start_simulator: StartSimulator) -> None:
    servers = {name: start_simulator(SCENARIOS[NAMES[name]]()) for name in ("bravo", "delta")}
    app = WaTuiApp([target_for(server, 0.5, name) for name, server in servers.items()])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(pilot, lambda: _rows(screen) == [("bravo", "✖"), ("delta", "▲")])
        table = screen.query_one(FleetTable)
        # No sideways scrolling: every shown column on screen, under short labels.
        assert table.virtual_size.width <= table.scrollable_content_region.width
        text = screen_text(app)
        for words in ("Deployment", "Down", "Top finding", "Queue", "Expires", "Age"):
            assert words in text
        assert "SOCKET_DOWN" in text and "BUILD_EXPIRING" in text
        await pilot.resize_terminal(160, 50)  # wide again: every column, the long labels
        await wait_for(pilot, lambda: "Sockets down" in screen_text(app))
        assert "multiconnect" in screen_text(app)


async def test_memory_settles_once_every_deployment_was_read(
    start_simulator: StartSimulator, monkeypatch
) -> None:
    """A fleet's long-lived objects are hidden from the collector once they all exist:
    after every deployment's first poll, not the first one's (wa_tui/core/memory.py)."""
    from wa_tui.core import memory
    from wa_tui.simulator.faults import Fault, FaultPlan

    slow = start_simulator(faults=FaultPlan(latency=1.0))
    slow.faults.push(Fault.LATENCY, Fault.LATENCY)  # support and health, a second late
    servers = {"alpha": start_simulator(), "slow": slow}
    app = WaTuiApp(
        [target_for(server, 30.0, name) for name, server in servers.items()], settle_memory=True
    )
    settled: list[dict[str, bool]] = []  # at each settle: which deployments were read
    monkeypatch.setattr(
        memory,
        "settle",
        lambda: settled.append({w.name: w.snapshot is not None for w in app.watchers.values()}),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: settled)
        await pilot.pause(0.5)
    assert settled == [{"alpha": True, "slow": True}]
