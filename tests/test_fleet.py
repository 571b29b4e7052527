"""The fleet screen: several deployments, worst first, following them by itself."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.conftest import StartSimulator
from tests.ui_helpers import SIZE, target_for, wait_for
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.fleet_screen import FleetScreen

NAMES = {
    "alpha": "healthy-multiconnect",
    "bravo": "socket-down",
    "charlie": "healthy-ha",
    "delta": "build-expiring",
    "echo": "healthy-single",
}


def _rows(screen: FleetScreen) -> list[tuple[str, str]]:
    table = screen.query_one(DataTable)
    return [
        (str(table.get_cell_at((row, 1))), str(table.get_cell_at((row, 0))))
        for row in range(table.row_count)
    ]


async def test_five_deployments_open_on_the_fleet_worst_first(
    start_simulator: StartSimulator,
) -> None:
    servers = {name: start_simulator(SCENARIOS[scenario]()) for name, scenario in NAMES.items()}
    app = WaTuiApp([target_for(server, 0.2, name) for name, server in servers.items()])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        screen = app.screen
        assert isinstance(screen, FleetScreen)

        def settled() -> bool:
            return all(mark != "…" for _, mark in _rows(screen))

        await wait_for(pilot, settled)
        rows = _rows(screen)
        assert rows[0] == ("bravo", "✖") and rows[1] == ("delta", "▲")
        assert {name for name, mark in rows[2:]} == {"alpha", "charlie", "echo"}
        status = str(screen.query_one("#fleet-status").content)
        assert "3 OK" in status and "1 WARNING" in status and "1 CRITICAL" in status

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
