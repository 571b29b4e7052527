"""A pane is one declaration (docs/design.md, "Where to add"): a line in PANES gives it its place,
its title, every poll's view, its reset when another deployment comes on screen, its
toggle, and a scene of the monkey."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.helpers import SIZE, target_for, toggled_panes, until_nodes, wait_for
from wa_tui import keys
from wa_tui.simulator import SimulatorServer
from wa_tui.ui import dashboard_screen
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.dashboard_screen import Pane, panes_by_id
from wa_tui.ui.poll_view import PollView


class Ticker(Static):
    """A pane that says how many findings the poll shown has, and counts its resets."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("waiting", id=id)
        self.shown: list[str] = []  # the deployment of each view shown
        self.resets = 0

    def show(self, view: PollView) -> None:
        self.shown.append(view.watcher.name)
        self.update(f"{len(view.findings)} findings")

    def reset(self) -> None:
        self.resets += 1


@pytest.fixture
def ticker_pane(monkeypatch: pytest.MonkeyPatch) -> Pane:
    key = keys.Key(
        "dashboard.ticker", "T", "screen.toggle_pane('ticker')", "Ticker", "Show the ticker"
    )
    monkeypatch.setitem(keys.BY_ID, key.id, key)
    pane = Pane("ticker", lambda v: f"Ticker · {v.watcher.name}", Ticker, "right", "opens", key.id)
    monkeypatch.setattr(dashboard_screen, "PANES", [*dashboard_screen.PANES, pane])
    return pane


async def test_a_pane_declared_once_is_shown_titled_reset_and_toggled(
    simulator: SimulatorServer, ticker_pane: Pane
) -> None:
    targets = [target_for(simulator, name="alpha"), target_for(simulator, name="bravo")]
    app = WaTuiApp(targets)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")  # the fleet opens first with two deployments
        await until_nodes(pilot)
        ticker = app.screen.query_one("#ticker", Ticker)
        await wait_for(pilot, lambda: "alpha" in ticker.shown)
        assert str(ticker.border_title) == "Ticker · alpha"
        app.current = "bravo"
        await wait_for(pilot, lambda: ticker.shown[-1] == "bravo")
        assert ticker.resets == 1 and str(ticker.border_title) == "Ticker · bravo"
        await app.run_action("screen.toggle_pane('ticker')")
        assert ticker.has_class("-pane-hidden")
        await app.run_action("screen.toggle_pane('ticker')")
        assert not ticker.has_class("-pane-hidden")


def test_a_declared_pane_is_in_the_monkeys_scenes(ticker_pane: Pane) -> None:
    assert ticker_pane.id in toggled_panes()
    assert set(toggled_panes()) == {p.id for p in panes_by_id().values() if p.key is not None}


def test_every_pane_key_toggles_its_own_pane() -> None:
    """The keys the help lists for the panes are the panes' own (keys.py and PANES agree)."""
    for pane in panes_by_id().values():
        if pane.key is not None:
            assert keys.BY_ID[pane.key].action == f"screen.toggle_pane('{pane.id}')"
