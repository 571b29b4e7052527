"""The dashboard: status line, node list, topology and detail, refreshed in the background.

Polling, as Dolphie does it: a worker runs one poll, its result comes back as a message,
and only then is the next poll scheduled, so polls never overlap and a slow deployment
never piles requests up. The UI is brought to each snapshot inside `batch_update()`, and
each widget redraws only what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer

from wa_tui import clock
from wa_tui.analysis import node_severity
from wa_tui.client import WAClient, WAError
from wa_tui.models import DeploymentKind
from wa_tui.poller import Poller, PollResult
from wa_tui.text import visible
from wa_tui.ui.event_log import EventLog
from wa_tui.ui.findings_panel import FindingsPanel
from wa_tui.ui.help_screen import HelpScreen
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.status_bar import PollStatus, StatusBar
from wa_tui.ui.topology import TopologyView

log = logging.getLogger(__name__)


class SnapshotPolled(Message):
    """A poll ended, with a snapshot or an error."""

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result


class WaTuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "wa-tui"

    BINDINGS = [  # noqa: RUF012
        Binding("r", "refresh", "Refresh"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("e", "toggle_events", "Events"),
        Binding("n", "focus_nodes", "Node list", show=False),
        Binding("d", "focus_detail", "Detail", show=False),
    ]

    def __init__(self, client: WAClient, deployment: str, interval: float = 5.0) -> None:
        super().__init__()
        self.client = client
        self.poller = Poller(client, interval)
        self.status = PollStatus(deployment=deployment)
        self._poll_timer: Timer | None = None
        self._poll_again = False

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield NodeTable(id="nodes")
                yield TopologyView(id="topology")
            with Vertical(id="right"):
                yield FindingsPanel(id="findings")
                yield NodeDetail(id="detail")
                yield EventLog(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#nodes").border_title = "Nodes"
        self.query_one("#topology").border_title = "Topology"
        self.query_one("#detail").border_title = "Detail"
        self.query_one("#findings").border_title = "Findings"
        self.query_one("#events").border_title = "Events (newest first)"
        self.query_one(NodeTable).focus()
        self.set_interval(1.0, self._redraw_status)
        self.action_refresh()

    async def on_unmount(self) -> None:
        await self.client.aclose()

    # -- polling ----------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Poll now; if a poll is in flight, poll again as soon as it ends."""
        if self.status.polling:
            self._poll_again = True
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self.status.polling = True
        self.status.next_poll_at = None
        self._redraw_status()
        self.run_worker(self._poll(), group="poll", exit_on_error=False)

    async def _poll(self) -> None:
        try:
            result = await self.poller.poll()
        except Exception as exc:  # a bug must not take the dashboard down mid-incident
            log.exception("poll failed unexpectedly")
            error = WAError(f"internal error: {type(exc).__name__}", "see the log file")
            result = PollResult(None, error, clock.now())
        self.post_message(SnapshotPolled(result))

    def on_snapshot_polled(self, message: SnapshotPolled) -> None:
        self.status.polling = False
        self.status.error = str(message.result.error) if message.result.error else None
        if message.result.snapshot is not None:
            self.status.findings = message.result.findings
            self._show_snapshot()
            self.query_one(EventLog).add(message.result.changes)
        if self._poll_again:
            self._poll_again = False
            self.action_refresh()
            return
        if not self.status.paused:
            self._schedule_next_poll()
        self._redraw_status()

    def _schedule_next_poll(self) -> None:
        delay = self.poller.next_delay()
        self.status.next_poll_at = clock.monotonic() + delay
        self._poll_timer = self.set_timer(delay, self.action_refresh)

    def action_toggle_pause(self) -> None:
        self.status.paused = not self.status.paused
        if self.status.paused:
            if self._poll_timer is not None:
                self._poll_timer.stop()
                self._poll_timer = None
            self.status.next_poll_at = None
            self._redraw_status()
        else:
            self.action_refresh()

    # -- drawing ----------------------------------------------------------------------

    def _show_snapshot(self) -> None:
        snapshot = self.poller.last_good
        if snapshot is None:
            return
        self.status.snapshot = snapshot
        table = self.query_one(NodeTable)
        findings = self.poller.findings
        with self.batch_update():
            table.show(snapshot, node_severity(findings))
            self.query_one(FindingsPanel).show(findings)
            self.query_one(FindingsPanel).border_title = f"Findings ({len(findings)})"
            table.border_title = f"Nodes ({len(snapshot.nodes)})"
            self.query_one(TopologyView).show(snapshot)
            self._show_selected()

    def _show_selected(self) -> None:
        snapshot = self.poller.last_good
        selected = self.query_one(NodeTable).selected_id
        node = snapshot.by_id.get(selected) if snapshot and selected else None
        detail = self.query_one(NodeDetail)
        detail.show(node, snapshot.kind if snapshot else DeploymentKind.SINGLE)
        detail.border_title = f"Detail · {visible(node.id, limit=60)}" if node else "Detail"

    def _redraw_status(self) -> None:
        self.query_one(StatusBar).show(self.status)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_focus_detail()

    # -- navigation -------------------------------------------------------------------

    def action_focus_nodes(self) -> None:
        self.query_one(NodeTable).focus()

    def action_focus_detail(self) -> None:
        self.query_one(NodeDetail).focus()

    def action_toggle_events(self) -> None:
        events = self.query_one(EventLog)
        events.display = not events.display

    def action_help(self) -> None:
        groups = [
            ("Dashboard", list(self.BINDINGS)),
            ("Node list", [*NodeTable.BINDINGS, Binding("enter", "", "Open the detail")]),
            ("Detail", list(NodeDetail.BINDINGS)),
        ]
        self.push_screen(HelpScreen(groups))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh now", "Poll the deployment now", self.action_refresh)
        yield SystemCommand(
            "Pause or resume polling", "Stop or restart the refresh", self.action_toggle_pause
        )
        yield SystemCommand("Focus node list", "Move to the node list", self.action_focus_nodes)
        yield SystemCommand("Focus detail", "Move to the node detail", self.action_focus_detail)
        yield SystemCommand("Show or hide events", "The change log pane", self.action_toggle_events)
        yield SystemCommand("Help: keys", "List every key", self.action_help)
