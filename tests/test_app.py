"""The dashboard through Pilot, against a simulator over real TCP."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.conftest import StartSimulator
from tests.helpers import (
    SIZE,
    burst,
    event_log_text,
    make_app,
    plain,
    row_texts,
    screen_text,
    target_for,
    until_nodes,
    wait_for,
)
from wa_tui.model.snapshot import Role
from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.event_log import EventLog
from wa_tui.ui.findings_panel import FindingsPanel
from wa_tui.ui.help_screen import HelpScreen
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.status_bar import StatusBar
from wa_tui.ui.topology import TopologyView
from wa_tui.watch.poller import poll_early


async def test_first_refresh_fills_all_three_panes(simulator: SimulatorServer) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        rows = row_texts(app)
        assert (rows[0]["role"], rows[0]["socket"], rows[0]["shards"]) == (
            "★ primary",
            "✔ UP",
            "-1",
        )
        assert [r["role"] for r in rows[-2:]] == ["spare", "spare"]
        assert app.query_one(NodeTable).has_focus
        topology = "\n".join(app.query_one(TopologyView).plain_lines())
        assert "★ ✔ wa-master-a UP" in topology
        assert "8 shards · 0 unassigned" in topology
        status = plain(app.query_one(StatusBar))
        assert "multiconnect · 12 nodes · 8 shards" in status
        assert "refreshed" in status
        detail = plain(app.query_one("#detail-body"))
        assert rows[0]["id"] in detail  # the detail follows the cursor from the start


@pytest.mark.slow
async def test_selecting_a_node_shows_its_schema_and_masked_env(simulator: SimulatorServer) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("j", "j", "j")
        third_core = row_texts(app)[3]["id"]
        await wait_for(pilot, lambda: third_core in plain(app.query_one("#detail-body")))
        detail = plain(app.query_one("#detail-body"))
        assert "Schema" in detail and "message   11" in detail
        assert "WA_DB_PASSWORD=••••••" in detail and "WA_DB_HOSTNAME=mysql.internal" in detail
        assert "registration_id" in detail
        assert "Sup3r-S3cret" not in screen_text(app)
        await pilot.press("enter")
        assert app.query_one(NodeDetail).has_focus
        await pilot.press("escape")
        assert app.query_one(NodeTable).has_focus


@pytest.mark.slow
async def test_refresh_keeps_the_cursor_on_the_same_node_when_rows_move(
    simulator: SimulatorServer,
) -> None:
    deployment = simulator.deployment
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 12)
        await pilot.press("j", "j", "j", "j", "j")
        chosen = table.selected_key
        with deployment.lock:  # a failover reorders the rows above the cursor
            deployment.fail_over_master()
        polls = app.watcher.poller.polls
        await pilot.press("r")
        await wait_for(pilot, lambda: app.watcher.poller.polls > polls and table.row_count == 11)
        assert table.selected_key == chosen
        assert chosen in plain(app.query_one("#detail-body"))


@pytest.mark.slow
async def test_a_node_changing_repaints_its_row_and_topology_lines_alone(
    simulator: SimulatorServer,
) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        table, topology = app.query_one(NodeTable), app.query_one(TopologyView)
        await wait_for(pilot, lambda: table.rows_rendered == 12)  # each row drawn once

        async def refresh() -> None:
            polls = app.watcher.poller.polls
            await pilot.press("r")
            await wait_for(
                pilot, lambda: app.watcher.poller.polls > polls and not app.watcher.status.polling
            )
            await pilot.pause()  # and painted

        await refresh()
        assert table.rows_rendered == 12  # nothing changed: no row drawn again
        painted, rendered = topology.lines_painted, topology.redraws
        flapping = table.keys[5]
        with simulator.deployment.lock:
            simulator.deployment.nodes[flapping].socket_conn = "DN"
        await refresh()
        on_screen = re.search(rf"{re.escape(flapping)}\s+coreapp\s+✖ DN", screen_text(app))
        assert on_screen, "the flapped socket is not on screen"
        assert table.rows_rendered == 13  # its row, and no other
        host = flapping.partition(":")[0]
        assert any(f"✖ {host}" in line for line in topology.plain_lines())  # its shard
        assert "1 owner down" in topology.plain_lines()[1]
        assert topology.lines_painted - painted == 2  # that grid line and the summary
        assert topology.redraws - rendered == 2  # and nothing else of the picture rendered


@pytest.mark.slow
async def test_a_live_deployment_redraws_nothing_while_nothing_shown_changes(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SimDeployment.multiconnect(8).go_live())
    app = make_app(server, interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        table, topology = app.query_one(NodeTable), app.query_one(TopologyView)
        detail = app.query_one(NodeDetail)
        # The webhook probe's result comes with a poll after the first (the detail shows
        # it under the node holding the settings): drawn once it has come.
        await wait_for(pilot, lambda: app.watcher.webhook.probe is not None)
        probed = app.watcher.poller.polls
        await wait_for(pilot, lambda: app.watcher.poller.polls >= probed + 2)
        await pilot.pause()
        assert table.rows_rendered == 12
        first = app.watcher.snapshot
        assert first is not None
        drawn = (table.rows_rendered, topology.redraws, detail.redraws)
        polls = app.watcher.poller.polls
        await wait_for(pilot, lambda: app.watcher.poller.polls >= polls + 5)
        latest = app.watcher.snapshot
        assert latest is not None and latest is not first
        node = latest.nodes[0]
        assert latest.free_space(node)["logs"] != first.free_space(node)["logs"]  # it moved
        assert node is first.nodes[0]  # yet the node is the very one drawn
        assert (table.rows_rendered, topology.redraws, detail.redraws) == drawn


@pytest.mark.slow
async def test_pause_stops_polling_and_resume_polls_again(simulator: SimulatorServer) -> None:
    app = make_app(simulator, interval=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.watcher.poller.polls >= 2)
        await pilot.press("p")
        await wait_for(pilot, lambda: not app.watcher.status.polling)
        paused_at = app.watcher.poller.polls
        assert "paused" in plain(app.query_one(StatusBar))
        await pilot.pause(1.0)  # five intervals: no poll may start while paused
        assert app.watcher.poller.polls == paused_at
        await pilot.press("p")
        await wait_for(pilot, lambda: app.watcher.poller.polls > paused_at)


@pytest.mark.slow
async def test_demo_failover_reaches_the_screen_by_itself(start_simulator: StartSimulator) -> None:
    deployment = SimDeployment.multiconnect(8)
    server = start_simulator(deployment, story=demo_story(deployment), step_seconds=0.3)
    app = make_app(server, interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 12)
        first_primary = row_texts(app)[0]["id"]

        def new_primary_on_screen() -> bool:
            """a primary master other than the first one heads the node list"""
            rows = row_texts(app)
            return rows[0]["role"] == "★ primary" and rows[0]["id"] != first_primary

        await wait_for(pilot, new_primary_on_screen, timeout=30)
        snapshot = app.watcher.snapshot
        assert snapshot is not None
        new_primary = snapshot.with_role(Role.PRIMARY_MASTER)[0]
        masters_line = app.query_one(TopologyView).plain_lines()[0]
        assert new_primary.host in masters_line


@pytest.mark.slow
async def test_the_status_line_is_repainted_once_per_steady_refresh(
    simulator: SimulatorServer,
) -> None:
    app = make_app(simulator, interval=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.watcher.poller.polls >= 2)
        status = app.query_one(StatusBar)
        polls, redraws = app.watcher.poller.polls, status.redraws
        await wait_for(pilot, lambda: app.watcher.poller.polls >= polls + 4)
        # Each refresh changes the time shown, nothing else: no ticking age, countdown
        # or "refreshing…" flash while polls are quick and the data is fresh.
        assert status.redraws - redraws <= app.watcher.poller.polls - polls
        assert "every 0.5s" in plain(status)


async def test_paused_data_counts_its_age(simulator: SimulatorServer) -> None:
    app = make_app(simulator, interval=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: app.watcher.poller.polls >= 1 and not app.watcher.status.polling
        )
        await pilot.press("p")
        status = app.query_one(StatusBar)
        await wait_for(pilot, lambda: "s ago)" in plain(status))  # older than 2 intervals
        assert "paused" in plain(status)


@pytest.mark.slow
async def test_help_lists_every_key(simulator: SimulatorServer) -> None:
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)  # what fits at 50 rows; the rest scrolls
        for description in ("Refresh", "Pause", "Quit", "Webhook", "Logs"):
            assert description in shown
        help_text = "".join(plain(block) for block in app.screen.query(Static))
        for description in ("Open the detail", "Back"):
            assert description in help_text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_first_poll_begun_before_the_ui_shows_and_its_login_is_kept(
    simulator: SimulatorServer,
) -> None:
    target = target_for(simulator)
    early = poll_early(target)
    early.result(timeout=15)  # done before the app exists: what it shows came from it
    app = WaTuiApp([target], early_polls={target.name: early})
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        assert row_texts(app)[0]["role"] == "★ primary"
        assert app.watcher.poller.polls == 1 and simulator.logins == 1
        assert simulator.requests["/v1/support"] == 1  # no second fetch of its own
        await pilot.press("r")
        await wait_for(
            pilot, lambda: app.watcher.poller.polls == 2 and not app.watcher.status.polling
        )
        assert app.watcher.status.error is None
        assert simulator.logins == 1  # the early poll's token was handed over


async def test_what_lives_on_after_the_first_data_is_hidden_from_the_collector(
    simulator: SimulatorServer,
) -> None:
    app = WaTuiApp([target_for(simulator)], settle_memory=True)
    gc.disable()  # as wa-tui starts (cli.main)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: gc.get_freeze_count() > 0)
            assert app.query_one(NodeTable).row_count == 12  # frozen after the data showed
            assert gc.isenabled()  # and collecting again
    finally:
        gc.unfreeze()  # this process runs many apps
        gc.enable()


async def test_a_failed_early_poll_is_shown_and_polling_goes_on(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator()
    target = target_for(server, interval=0.2)
    server.stop()
    early = poll_early(target)
    app = WaTuiApp([target], early_polls={target.name: early}, settle_memory=True)
    gc.disable()  # as wa-tui starts (cli.main)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "cannot reach" in plain(app.query_one(StatusBar)))
            assert gc.isenabled()  # no data to wait for: the collector is back on
            await wait_for(
                pilot, lambda: app.watcher.poller.polls >= 2
            )  # backoff, then polls again
    finally:
        gc.enable()


async def test_unreachable_deployment_is_one_line_not_a_crash(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator()
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        server.stop()
        await pilot.press("r")
        await wait_for(pilot, lambda: "✖" in plain(app.query_one(StatusBar)))
        status = plain(app.query_one(StatusBar))
        assert "cannot reach" in status and "STALE" in status
        assert app.query_one(NodeTable).row_count == 12  # the last good data stays


async def test_failover_shows_in_event_log_findings_and_header(
    simulator: SimulatorServer,
) -> None:
    deployment = simulator.deployment
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        assert "✔ OK" in plain(app.query_one(StatusBar))
        with deployment.lock:
            old, new = deployment.fail_over_master()
        await pilot.press("r")
        await wait_for(pilot, lambda: "role changed" in event_log_text(app))
        log = event_log_text(app)
        assert f"{new.id}: role secondary_master → primary_master" in log
        assert f"control shard -1 moved: {old.id} → {new.id}" in log
        assert f"{old.id} disappeared" in log
        assert "NO_SECONDARY_MASTER" in plain(app.query_one(FindingsPanel))
        assert "▲ WARNING 2" in plain(app.query_one(StatusBar))  # no standby, new primary SC
        rows = {r["id"]: r for r in row_texts(app)}
        assert rows[new.id]["severity"] == "▲"
        await pilot.press("e")
        assert not app.query_one(EventLog).display
        await pilot.press("e")
        assert app.query_one(EventLog).display


@pytest.mark.slow
async def test_vitals_pane_follows_a_webhook_outage(start_simulator: StartSimulator) -> None:
    from wa_tui.simulator.scenarios import SCENARIOS
    from wa_tui.ui.vitals_panel import VitalsPanel

    server = start_simulator(SCENARIOS["callback-queue-high"]())
    app = make_app(server, interval=0.2)
    async with app.run_test(size=SIZE) as pilot:
        vitals, findings = app.query_one(VitalsPanel), app.query_one(FindingsPanel)

        def queue_line() -> str:
            return next(line for line in plain(vitals).splitlines() if "callback queue" in line)

        await wait_for(pilot, lambda: "CALLBACK_FAILING" in plain(findings))
        assert "CALLBACK_QUEUE_HIGH" in plain(findings)
        assert queue_line().lstrip().startswith("▲")  # a text marker beside the colour
        assert "failing callbacks: HTTP 503" in plain(vitals)
        first = int(queue_line().split()[3].replace(",", ""))
        await wait_for(pilot, lambda: int(queue_line().split()[3].replace(",", "")) > first)
        assert any(ch in queue_line() for ch in "▂▃▄▅▆▇█")  # the sparkline climbs
        with server.deployment.lock:
            server.deployment.traffic.webhook_ok = True
        await wait_for(pilot, lambda: "CALLBACK_QUEUE_HIGH" not in plain(findings), 20)
        assert queue_line().lstrip().startswith("✔")
        await pilot.press("v")
        assert not vitals.display


@pytest.mark.slow
async def test_vitals_show_by_default_only_where_there_is_room(simulator: SimulatorServer) -> None:
    from wa_tui.ui.vitals_panel import VitalsPanel

    for size, shown in (((80, 24), False), (SIZE, True)):
        app = make_app(simulator)
        async with app.run_test(size=size) as pilot:
            table = app.query_one(NodeTable)
            await wait_for(pilot, lambda: table.row_count == 12)  # noqa: B023 (awaited here)
            vitals = app.query_one(VitalsPanel)
            assert vitals.display is shown
            await pilot.press("v")
            assert vitals.display is not shown
            await pilot.resize_terminal(*SIZE)  # the user's choice stands
            await pilot.pause()
            assert vitals.display is not shown


@pytest.mark.slow
async def test_copy_screenshot_and_bundle_keys(
    simulator: SimulatorServer, isolated_home: Path
) -> None:
    import json
    import tarfile

    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("j", "j", "y")
        copied = json.loads(app.clipboard)
        assert copied["id"] == row_texts(app)[2]["id"]
        assert "WA_DB_PASSWORD=••••••" in copied["support"]["env"]
        assert "Sup3r-S3cret" not in app.clipboard
        with simulator.deployment.lock:
            simulator.deployment.nodes[copied["id"]].socket_conn = "DN"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.watcher.findings != ())
        await pilot.press("Y")
        assert app.clipboard.startswith("✖ CRITICAL SOCKET_DOWN: ")
        await pilot.press("w")
        folder = isolated_home / "data" / "wa-tui"
        await wait_for(pilot, lambda: any(folder.glob("*.svg")))
        await pilot.press("b")
        await wait_for(pilot, lambda: any(folder.glob("wa-tui-bundle-*.tar.gz")))
        (bundle,) = folder.glob("wa-tui-bundle-*.tar.gz")
        with tarfile.open(bundle) as tar:
            names = [member.name.split("/", 1)[1] for member in tar.getmembers()]
        assert {"MANIFEST", "answers/v1-support.json", "findings.txt"} <= set(names)


@pytest.mark.slow
async def test_twenty_j_in_one_read_scroll_the_detail_twenty_lines(
    simulator: SimulatorServer,
) -> None:
    """Key repeat over a slow SSH link comes in one read: every key keeps its effect."""
    app = make_app(simulator)
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        detail = app.query_one(NodeDetail)
        await pilot.press("enter")
        assert detail.has_focus
        await burst(pilot, *["j"] * 20)
        assert detail.scroll_y == 20
        await pilot.press("home")
        assert detail.scroll_y == 0
        await pilot.press("end")
        await pilot.pause()
        assert detail.scroll_y == detail.max_scroll_y > 20


@pytest.mark.slow
async def test_keys_remapped_in_the_config_work_and_show_in_help(
    simulator: SimulatorServer,
) -> None:
    app = WaTuiApp([target_for(simulator)], keymap={"dashboard.refresh": "f5"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: app.watcher.poller.polls >= 1 and not app.watcher.status.polling
        )
        bound = app.screen.active_bindings
        assert bound["f5"].binding.action == "refresh" and "r" not in bound
        polls = app.watcher.poller.polls
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.watcher.poller.polls == polls + 1)
        await pilot.press("question_mark")
        refresh = next(line for line in screen_text(app).splitlines() if "Refresh" in line)
        assert "f5" in refresh and "Poll the deployment now" in refresh
