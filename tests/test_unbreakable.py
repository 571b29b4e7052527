"""What an impatient person does does not crash the UI: every defect found by hand or by
the monkey (tests/test_monkey.py), each through Pilot against a simulator over TCP."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import re

import pytest
from rich.style import Style
from textual import events
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.geometry import Size
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static

import wa_tui.ui
from tests.helpers import (
    SIZE,
    burst,
    click_burst,
    make_app,
    target_for,
    until_nodes,
    wait_for,
)
from wa_tui.simulator import SimulatorServer
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.crash import EXIT_CRASHED, run_app
from wa_tui.ui.deployment_switcher import DeploymentSwitcher
from wa_tui.ui.event_log import EventLog
from wa_tui.ui.fleet_screen import FleetScreen, FleetTable
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.topology import TopologyView

# The hooks Textual documents for overriding; any other name a Textual base class
# defines, redefined, is called by Textual with its own meaning (TopologyView._render
# was called to copy a selection, with no argument: a TypeError).
HOOKS = re.compile(
    r"^(render|render_line|render_lines|compose|get_content_width|get_content_height"
    r"|get_selection|selection_updated|check_action|get_system_commands|get_default_screen"
    r"|(on|watch|action|validate|compute|key)_.*|__\w+__"
    r"|BINDINGS|CSS|CSS_PATH|DEFAULT_CSS|COMPONENT_CLASSES|TITLE|COMMANDS|can_focus)$"
)


def _wa_tui_classes() -> list[type[MessagePump]]:
    found: dict[str, type[MessagePump]] = {}
    for module in pkgutil.walk_packages(wa_tui.ui.__path__, "wa_tui.ui."):
        for value in vars(importlib.import_module(module.name)).values():
            if (
                inspect.isclass(value)
                and issubclass(value, MessagePump)
                and value.__module__.startswith("wa_tui")
            ):
                found[value.__qualname__] = value
    return list(found.values())


def _redefined(cls: type) -> list[str]:
    """Names a wa-tui class (or a mixin of ours in its MRO) defines that a Textual base
    already defines: any but the documented hooks, and a hook whose parameters differ
    from the ones Textual calls it with. What Textual's metaclass sets on every subclass
    by itself (merged bindings, CSS names) is not ours."""
    ours = [c for c in cls.__mro__ if c.__module__.startswith("wa_tui")]
    textual = [c for c in cls.__mro__ if c.__module__.startswith("textual")]
    automatic = set(vars(type("Probe", (textual[0],), {})))
    clashes = []
    for owner in ours:
        for name, value in vars(owner).items():
            base = next((vars(b)[name] for b in textual if name in vars(b)), None)
            if base is None or name in automatic or name.startswith("__"):
                continue  # a constructor's parameters are the subclass's own
            if not HOOKS.match(name) or _parameters(value) != _parameters(base):
                clashes.append(f"{owner.__qualname__}.{name}")
    return clashes


def _parameters(value: object) -> list[str] | None:
    """A method's parameter names, as Textual would pass them; None for other values."""
    if not callable(value) or isinstance(value, type):
        return None
    return list(inspect.signature(value).parameters)


def test_no_wa_tui_class_redefines_a_textual_name() -> None:
    classes = _wa_tui_classes()
    assert len(classes) > 15  # the walk found the widgets, screens and apps
    clashes = sorted({clash for cls in classes for clash in _redefined(cls)})
    assert clashes == []


async def _copy(pilot, widget, start: tuple[int, int], end: tuple[int, int]) -> str | None:
    """Drag over `widget` from `start` to `end` (offsets in it), then ctrl+c."""
    app = pilot.app
    app.copy_to_clipboard("")
    await pilot.mouse_down(widget, offset=start)
    await pilot.hover(widget, offset=end)
    await pilot.mouse_up(widget, offset=end)
    await pilot.press("ctrl+c")
    await pilot.pause()
    return app.clipboard


@pytest.mark.slow
async def test_drag_and_ctrl_c_copy_what_each_pane_shows(simulator: SimulatorServer) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await wait_for(pilot, lambda: app.watcher.vitals.latest is not None)
        topology = app.query_one(TopologyView)
        copied = await _copy(pilot, topology, (1, 1), (40, 2))
        assert copied is not None and "Shards   8 shards" in copied
        copied = await _copy(pilot, app.query_one(NodeTable), (1, 1), (30, 3))
        assert "wa-master-a" in copied and "wa-master-b" in copied
        copied = await _copy(pilot, app.query_one("#findings"), (1, 1), (20, 1))
        assert copied
        copied = await _copy(pilot, app.query_one("#vitals"), (1, 1), (30, 2))
        assert "callback queue" in copied
        copied = await _copy(pilot, app.query_one(NodeDetail), (2, 2), (30, 4))
        assert "host" in copied
        copied = await _copy(pilot, app.query_one("#status"), (1, 0), (60, 0))
        assert "wa-tui" in copied
        assert app.is_running


@pytest.mark.slow
async def test_ctrl_c_after_a_drag_copies_the_event_log(simulator: SimulatorServer) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        copied = await _copy(pilot, app.query_one(EventLog), (1, 1), (25, 1))
        assert copied is not None and "No changes" in copied


@pytest.mark.slow
async def test_enter_enter_in_one_read_on_the_switcher(simulator: SimulatorServer) -> None:
    app = WaTuiApp([target_for(simulator, name="one"), target_for(simulator, name="two")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await burst(pilot, "escape")
        await until_nodes(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, DeploymentSwitcher)
        await burst(pilot, "down", "enter", "enter")
        assert app.is_running and app.current == "two"
        assert not isinstance(app.screen, DeploymentSwitcher)


@pytest.mark.slow
async def test_enter_enter_in_one_read_on_the_fleet(simulator: SimulatorServer) -> None:
    app = WaTuiApp([target_for(simulator, name="one"), target_for(simulator, name="two")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await wait_for(pilot, lambda: app.screen.query_one(FleetTable).row_count == 2)
        await burst(pilot, "enter", "enter", "enter")
        assert app.is_running
        assert not isinstance(app.screen, FleetScreen)
        await burst(pilot, "F", "escape", "escape", "F", "enter", "enter")
        assert app.is_running


@pytest.mark.slow
async def test_a_double_click_outside_the_palette(simulator: SimulatorServer) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await click_burst(pilot, 5, 45)
        assert app.is_running
        assert not isinstance(app.screen, CommandPalette)
        assert app.query_one(NodeTable).row_count == 12
        await burst(pilot, "ctrl+p", "pagedown", "pageup", "enter", "enter")
        assert app.is_running


async def test_slash_and_a_filter_in_one_read_on_the_fleet(simulator: SimulatorServer) -> None:
    names = ["alpha", "gamma", "gamut"]
    app = WaTuiApp([target_for(simulator, name=name) for name in names])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        await burst(pilot, "slash", "g", "a", "m")
        assert app.screen.query_one(Input).value == "gam"
        assert sorted(table.keys) == ["gamma", "gamut"]


class Crashing(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("about to fail")

    def on_mount(self) -> None:
        raise RuntimeError("a bug in a handler")


def test_a_crash_exits_1_with_its_traceback_in_the_log(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_path = tmp_path / "wa-tui.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        _, status = run_app(Crashing(), headless=True)
    finally:
        root.removeHandler(handler)
        handler.close()
    assert status == EXIT_CRASHED == 1
    logged = log_path.read_text(encoding="utf-8")
    assert "RuntimeError" in logged and "a bug in a handler" in logged
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(log_path) in err
    assert "Traceback" not in err


async def test_at_80_columns_status_keeps_severity_freshness_name_and_footer_help_quit(
    simulator: SimulatorServer,
) -> None:
    app = WaTuiApp([target_for(simulator, name="production-eu-west-primary-cluster-" * 2)])
    async with app.run_test(size=(80, 24)) as pilot:
        await until_nodes(pilot)
        await wait_for(pilot, lambda: app.watcher.status.next_poll_at is not None)
        line = app.query_one("#status").content.plain
        fetched = app.watcher.snapshot.fetched_at.astimezone()
        assert line.index("OK") < line.index(f"{fetched:%H:%M:%S}") < line.index("every 30s")
        assert line.index("every 30s") < line.index("production-eu")
        assert len(line) <= 80

        def footer_shows(description: str) -> bool:
            """The key is on screen, where a click lands on it (not cut, not covered)."""
            keys = [k for k in app.query("FooterKey") if k.description == description]
            if not keys or not keys[0].region.width:
                return False
            end = keys[0].region.right - 1
            return end < 80 and app.screen.get_widget_at(end, keys[0].region.y)[0] is keys[0]

        await wait_for(pilot, lambda: footer_shows("Help") and footer_shows("Quit"))
        simulator.stop()  # the deployment goes away: stale, and why
        app.watcher.poll_now()
        await wait_for(pilot, lambda: "STALE" in app.query_one("#status").content.plain)
        line = app.query_one("#status").content.plain
        assert line.index("STALE") < line.index("production-eu") and len(line) <= 80
        assert "cannot reach" in line
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert "multiconnect · 12 nodes" in app.query_one("#status").content.plain


@pytest.mark.slow
async def test_a_click_on_an_option_the_palette_no_longer_has_is_dropped(
    simulator: SimulatorServer,
) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.query_one(OptionList).option_count > 3)
        options = app.screen.query_one(OptionList)
        count = options.option_count
        # A click aimed at a frame that drew more options than the list has now (a new
        # search emptied it between the frame and the click).
        stale = Style(meta={"option": count + 5})
        options.post_message(events.Click(options, 2, 2, 0, 0, 1, False, False, False, style=stale))
        await pilot.pause()
        assert app.return_code is None


def test_a_selection_past_a_pane_that_got_shorter_copies_what_is_there() -> None:
    from textual.geometry import Offset
    from textual.selection import Selection

    from wa_tui.ui.lines import selected_text

    lines = ["Masters  primary", "Shards   8 shards", ""]
    assert selected_text(lines, Selection(Offset(0, 4), Offset(5, 6)))[0] == ""
    assert selected_text(lines, Selection(Offset(0, 2), Offset(4, 2)))[0] == ""  # IndexError
    assert selected_text(lines, Selection(Offset(0, 1), Offset(3, 2)))[0] == "Shards   8 shards"
    assert selected_text(lines, Selection(None, None))[0] == "\n".join(lines[:2])


async def test_ctrl_c_over_a_static_that_got_shorter_than_the_selection() -> None:
    """The soak's find (seed 2026, the fleet over the vitals): Textual's own extraction
    indexed a line the shortened content no longer had."""
    from rich.text import Text
    from textual.geometry import Offset
    from textual.selection import Selection

    from wa_tui.ui.redraw import Block

    class Shrinking(App[None]):
        def compose(self) -> ComposeResult:
            yield Block(Text("queue 0\npending 12\nalso reported: x"))

    app = Shrinking()
    async with app.run_test() as pilot:
        block = app.query_one(Block)
        app.screen.selections = {block: Selection(Offset(8, 2), Offset(22, 2))}
        block.update(Text("queue 0\npending 12"))
        await pilot.pause()
        app.screen.action_copy_text()  # raised IndexError before Block
        await pilot.pause()
        assert app.return_code is None


@pytest.mark.slow
async def test_a_late_resize_for_an_old_size_leaves_each_screen_at_the_terminals(
    simulator: SimulatorServer,
) -> None:
    """Resizes coming fast can reach a screen late, an old size after the new one (the
    monkey's replay at 61x68: two such, with repaints between, answered each other
    without end). The screen, shown or under the palette, stays laid out at the
    terminal's size."""
    app = make_app(simulator)
    async with app.run_test(size=(120, 32)) as pilot:
        await until_nodes(pilot)
        dashboard = app.screen
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        fleet = app.screen_stack[-2]
        await pilot.resize_terminal(61, 68)
        table = fleet.query_one(FleetTable)
        await wait_for(pilot, lambda: table.size.width == 61)
        old = Size(120, 32)
        handled: list[Screen[object]] = []
        fleet.post_message(events.Resize(old, old))
        fleet.call_later(handled.append, fleet)
        await wait_for(pilot, lambda: handled == [fleet])
        assert table.size.width == 61
        await burst(pilot, "escape", "escape")
        await wait_for(pilot, lambda: app.screen is dashboard)
        nodes = dashboard.query_one(NodeTable)
        await wait_for(pilot, lambda: nodes.size.width <= 61)
        dashboard.post_message(events.Resize(old, old))
        dashboard.call_later(handled.append, dashboard)
        await wait_for(pilot, lambda: handled == [fleet, dashboard])
        assert nodes.size.width <= 61
