"""Every terminal size: 80x24 reads, a resize keeps the place, the detail opens whole."""

from __future__ import annotations

import pytest

from tests.conftest import StartSimulator
from tests.helpers import make_app, row_texts, screen_text, until_nodes, wait_for
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable, short_id


@pytest.mark.slow
async def test_80x24_reads_every_node_and_opens_the_detail_whole(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SCENARIOS["socket-down"]())
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 12)
        await pilot.pause()
        assert app.dashboard.narrow
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no h-scroll
        text = screen_text(app)
        assert "✖ 1 finding: SOCKET_DOWN" in text  # the findings count, in one line
        for row in row_texts(app):  # each row on screen in turn: the list follows the cursor
            line = next(ln for ln in screen_text(app).splitlines() if short_id(row["id"]) in ln)
            assert row["role"] in line and row["socket"] in line and row["shards"] in line
            await pilot.press("j")
            await pilot.pause()
        await pilot.press("g", "enter")
        await pilot.pause()
        detail = app.query_one(NodeDetail)
        assert detail.has_focus and detail.region.width >= 76  # the whole screen
        assert "wa-master-a" in screen_text(app) and not table.region.width
        await pilot.press("escape")
        await pilot.pause()
        assert table.has_focus and table.region.width >= 76
        await pilot.press("e")
        await pilot.pause()
        assert "No changes seen yet." in screen_text(app)
        await pilot.press("e")
        await pilot.pause()
        assert table.region.width >= 76


@pytest.mark.slow
async def test_a_resize_keeps_the_selected_node_and_the_cursor(
    start_simulator: StartSimulator,
) -> None:
    app = make_app(start_simulator(SCENARIOS["healthy-multiconnect"]()))
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 12)
        await pilot.press(*["j"] * 9)
        chosen = table.selected_key
        for size in ((80, 24), (160, 50)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert table.selected_key == chosen and table.cursor_row == 9
        assert not app.dashboard.narrow
        assert chosen is not None and chosen in screen_text(app)  # full names when wide


@pytest.mark.slow
async def test_the_palette_finds_a_node_by_its_full_name(start_simulator: StartSimulator) -> None:
    app = make_app(start_simulator(SCENARIOS["healthy-multiconnect"]()))
    async with app.run_test(size=(80, 24)) as pilot:  # where the list shows names short
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 12)
        wanted = table.keys[10]
        assert wanted not in screen_text(app)
        await pilot.press("ctrl+p", *wanted.split(":")[1][-12:])
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.selected_key == wanted)


@pytest.mark.slow
async def test_the_node_list_fits_without_sideways_scrolling(
    start_simulator: StartSimulator,
) -> None:
    app = make_app(start_simulator(SCENARIOS["healthy-multiconnect-32"]()))
    for size in ((80, 24), (120, 32), (160, 50), (240, 70)):
        async with app.run_test(size=size) as pilot:
            table = app.query_one(NodeTable)
            await wait_for(pilot, lambda: table.row_count == 36)  # noqa: B023 (awaited here)
            await pilot.pause()
            assert table.virtual_size.width <= table.scrollable_content_region.width, size
        app = make_app(start_simulator(SCENARIOS["healthy-multiconnect-32"]()))


async def test_at_160x50_only_the_detail_stretches(start_simulator: StartSimulator) -> None:
    from tests.helpers import plain
    from wa_tui.ui.event_log import EventLog
    from wa_tui.ui.findings_panel import FindingsPanel
    from wa_tui.ui.topology import TopologyView
    from wa_tui.ui.vitals_panel import VitalsPanel

    app = make_app(start_simulator(SCENARIOS["socket-down"]()))
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 12)
        await pilot.pause()
        detail = app.query_one(NodeDetail)
        assert detail.max_scroll_y > 0  # the detail has more to show than fits
        said = {
            table: table.row_count + 1,
            app.query_one(TopologyView): len(app.query_one(TopologyView).plain_lines()),
            app.query_one(FindingsPanel): len(plain(app.query_one(FindingsPanel)).splitlines()),
            app.query_one(VitalsPanel): len(plain(app.query_one(VitalsPanel)).splitlines()),
            app.query_one(EventLog): max(len(app.query_one(EventLog).plain_lines()), 1),
        }
        for pane, lines in said.items():
            empty = pane.content_region.height - lines
            assert empty <= 3, f"{pane.id}: {empty} empty rows while the detail must scroll"


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (120, 32), (160, 50), (240, 70)])
async def test_without_colour_the_markers_say_it(
    start_simulator: StartSimulator, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(start_simulator(SCENARIOS["socket-down"]()))
    async with app.run_test(size=size) as pilot:
        await until_nodes(pilot)
        await pilot.pause()
        assert app.no_color
        text = screen_text(app)
        assert "✖ DN" in text and "✔ UP" in text and "○ DN standby" in text
        assert "✖ CRITICAL 1" in text or "✖ 1 finding" in text


@pytest.mark.slow
@pytest.mark.parametrize("key", ["e", "v", "enter"])
async def test_at_80x24_escape_leaves_any_pane_filling_the_screen_and_the_list_has_focus(
    start_simulator: StartSimulator, key: str
) -> None:
    """Each pane that opens alone on a narrow terminal: in, `escape`, out; the footer
    says `esc Back` while it is open; and the node list answers the next key at once
    (keys arriving in one burst, as over a slow SSH link)."""
    from textual.widgets import Footer

    app = make_app(start_simulator(SCENARIOS["healthy-multiconnect"]()))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(NodeTable)
        await until_nodes(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: app.dashboard.opened is not None)
        await pilot.pause()
        footer = app.dashboard.query_one(Footer)
        assert "esc" in screen_text(app).splitlines()[-1] and footer.region.height == 1
        await pilot.press("escape", "j", "j")
        await wait_for(pilot, lambda: app.dashboard.opened is None)
        await wait_for(pilot, lambda: table.has_focus and table.cursor_row == 2)
        assert table.region.width >= 76
        assert "esc" not in screen_text(app).splitlines()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("key", ["question_mark", "W", "i", "F"])
async def test_at_80x24_escape_leaves_every_screen_and_the_list_has_focus(
    start_simulator: StartSimulator, key: str
) -> None:
    """The help, the webhook, the incident and the fleet, each opened over the dashboard
    on a classic SSH terminal: `escape` closes it and the node list answers at once."""
    app = make_app(start_simulator(SCENARIOS["healthy-multiconnect"]()))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(NodeTable)
        await until_nodes(pilot)
        dashboard = app.screen
        await pilot.press(key)
        await wait_for(pilot, lambda: app.screen is not dashboard)
        await pilot.pause()
        await pilot.press("escape", "j")
        await wait_for(pilot, lambda: app.screen is dashboard)
        await wait_for(pilot, lambda: table.has_focus and table.cursor_row == 1)


async def test_the_footer_keeps_its_keys_whole_after_a_resize_to_80_columns(
    start_simulator: StartSimulator,
) -> None:
    app = make_app(start_simulator(SCENARIOS["healthy-multiconnect"]()))
    async with app.run_test(size=(160, 50)) as pilot:
        await until_nodes(pilot)
        assert "palette" in screen_text(app).splitlines()[-1]
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "palette" not in screen_text(app).splitlines()[-1])
        assert screen_text(app).splitlines()[-1].rstrip().endswith("v Vitals")


@pytest.mark.slow
async def test_findings_alone_in_their_column_take_all_of_it(
    start_simulator: StartSimulator,
) -> None:
    from wa_tui.ui.findings_panel import FindingsPanel

    deployment = SCENARIOS["node-error"]()
    for node in deployment.nodes.values():  # a finding for each of the 12 nodes
        node.errors = [{"code": 1011, "title": "Service not ready"}]
    app = make_app(start_simulator(deployment))
    async with app.run_test(size=(160, 50)) as pilot:
        findings = app.query_one(FindingsPanel)
        await wait_for(pilot, lambda: "Findings (16)" in screen_text(app))
        await pilot.pause()
        beside = findings.region.height
        assert findings.max_scroll_y > 0 and beside <= 18  # beside the vitals and events
        await pilot.press("v", "e")
        await pilot.pause()
        # Alone, the findings have the whole column (48 rows under the status line).
        assert findings.region.height >= 45
        await pilot.press("v")
        await pilot.pause()
        assert findings.region.height == beside  # the vitals back: the findings give way
