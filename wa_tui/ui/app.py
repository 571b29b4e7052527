"""The dashboard: status line, node list, topology and detail, refreshed in the background.

Polling, as Dolphie does it: each deployment has one loop that polls, puts the result on
screen, and only then waits for the next poll (the interval, a backoff, or `r`), so polls
never overlap and a slow deployment never piles requests up. The UI is brought to each
snapshot inside `batch_update()`, and each widget redraws only what changed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from wa_tui import clock
from wa_tui.analysis import Severity, node_severity
from wa_tui.errors import WAError
from wa_tui.poller import EarlyPoll, Poller, PollResult
from wa_tui.targets import Target
from wa_tui.text import visible
from wa_tui.ui.confirm_screen import ConfirmScreen
from wa_tui.ui.deployment_switcher import DeploymentSwitcher
from wa_tui.ui.event_log import EventLog
from wa_tui.ui.findings_panel import FindingsPanel
from wa_tui.ui.help_screen import HelpScreen
from wa_tui.ui.login_screen import LoginScreen
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.status_bar import PollStatus, StatusBar
from wa_tui.ui.topology import TopologyView
from wa_tui.ui.watch import Watch

log = logging.getLogger(__name__)


# Polls of several deployments run side by side, but not too many at once
# (httpx slows down sharply past ~10 concurrent requests: shared/textual-notes.md).
MAX_CONCURRENT_POLLS = 10


class WaTuiApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "wa-tui"

    BINDINGS = [  # noqa: RUF012
        Binding("r", "refresh", "Refresh"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("s", "switch", "Deployments"),
        Binding("e", "toggle_events", "Events"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("n", "focus_nodes", "Node list", show=False),
        Binding("d", "focus_detail", "Detail", show=False),
        Binding("x", "toggle_secrets", "Reveal secrets", show=False),
    ]

    def __init__(
        self,
        targets: Sequence[Target],
        secrets_may_be_shown: bool = False,
        early_polls: Mapping[str, Future[EarlyPoll]] | None = None,
        settle_memory: bool = False,
    ) -> None:
        super().__init__()
        # Once the first data is on screen, hide what lives as long as the app from the
        # garbage collector (see _settle_memory). Off in tests: many apps share a process.
        self._settle_memory = settle_memory
        # --show-secrets: `x` may reveal secret values, each time after a confirmation.
        self.secrets_may_be_shown = secrets_may_be_shown
        # First polls begun before the UI loaded (poller.poll_early), by deployment name.
        self._early_polls = dict(early_polls or {})
        self.watches = {target.name: Watch.of(target) for target in targets}
        self.current = targets[0].name
        self.paused = False
        self._poll_slots = asyncio.Semaphore(MAX_CONCURRENT_POLLS)
        self._titles: dict[str | None, str] = {}  # border titles set, by widget id

    @property
    def watch(self) -> Watch:
        """The deployment on screen."""
        return self.watches[self.current]

    # Shorthands for the deployment on screen (tests and the status line read them).
    @property
    def poller(self) -> Poller:
        return self.watch.poller

    @property
    def status(self) -> PollStatus:
        return self.watch.status

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
        # Asked for every second and every poll: looked up once (a DOM query is not free).
        self._status_bar = self.query_one(StatusBar)
        self.query_one("#nodes").border_title = "Nodes"
        self.query_one("#topology").border_title = "Topology"
        self.query_one("#detail").border_title = "Detail"
        self.query_one("#findings").border_title = "Findings"
        self.query_one("#events").border_title = "Events (newest first)"
        self.query_one(NodeTable).focus()
        self._status_clock = self.set_interval(1.0, self._redraw_status, pause=True)
        for watch in self.watches.values():
            if watch.target.needs_password:
                self.push_screen(LoginScreen(watch.target), partial(self._logged_in, watch))
            else:
                self._start_polling(watch, self._early_polls.pop(watch.name, None))

    def _logged_in(self, watch: Watch, password: str | None) -> None:
        if password is None:
            watch.status.error = "no password given: press s, or restart to log in"
            self._redraw_status()
            return
        watch.target = watch.target.with_password(password)
        watch.poller.client.credentials = watch.target.credentials
        self._start_polling(watch)

    async def on_unmount(self) -> None:
        for watch in self.watches.values():
            await watch.poller.client.aclose()

    # -- polling ----------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Poll now; if a poll is in flight, poll again as soon as it ends."""
        self.watch.poll_now()

    def _start_polling(self, watch: Watch, early: Future[EarlyPoll] | None = None) -> None:
        self.run_worker(self._poll_loop(watch, early), group="poll", exit_on_error=False)

    async def _poll_loop(self, watch: Watch, early: Future[EarlyPoll] | None) -> None:
        """Poll `watch` for as long as the app runs: a poll (the first may be the one
        begun before the UI loaded), its result on screen, the wait for the next."""
        while True:
            watch.status.polling_since = clock.monotonic()
            watch.status.next_poll_at = None
            self._wind_status_clock()
            self.poll_ended(watch, await self._poll(watch, early))
            early = None
            await self._until_next_poll(watch)

    async def _poll(self, watch: Watch, early: Future[EarlyPoll] | None) -> PollResult:
        """One poll of `watch`; or, for its first, the one begun before the UI loaded."""
        try:
            if early is not None:
                return watch.poller.adopt(await asyncio.wrap_future(early))
            async with self._poll_slots:
                return await watch.poller.poll()
        except Exception as exc:  # a bug must not take the dashboard down mid-incident
            log.exception("poll of %s failed unexpectedly", watch.name)
            error = WAError(f"internal error: {type(exc).__name__}", "see the log file")
            return PollResult(None, error)

    async def _until_next_poll(self, watch: Watch) -> None:
        """The interval (or a backoff) passes, or `r` is pressed; while paused, only `r`
        or resuming ends the wait. The status line says which, as the wait begins."""
        delay = watch.poller.next_delay()
        while True:
            paused = self.paused
            watch.status.next_poll_at = None if paused else clock.monotonic() + delay
            self._redraw_status()
            if await watch.woken(None if paused else delay) or not self.paused:
                return

    def poll_ended(self, watch: Watch, result: PollResult) -> None:
        """Bring the status, the change log and (for the deployment on screen) the panes
        to what a poll of `watch` found; the status line is drawn as the wait for the
        next poll begins (it shows when that is)."""
        watch.status.polling_since = None
        watch.status.error = str(result.error) if result.error else None
        if result.snapshot is not None:
            watch.add_changes(result.changes)
        if watch is self.watch and result.snapshot is not None and self._status_bar.is_attached:
            self._show_snapshot()
            if self._settle_memory:
                self._settle_memory = False
                self.call_after_refresh(_settle_memory)
        elif self._settle_memory:
            gc.enable()  # no data yet (cli.main starts with it off): collect as usual till then

    def action_toggle_pause(self) -> None:
        """Pause or resume polling of every deployment."""
        self.paused = not self.paused
        for watch in self.watches.values():
            watch.status.paused = self.paused
            if self.paused:
                watch.status.next_poll_at = None
            elif not watch.target.needs_password:
                watch.poll_now()
        self._redraw_status()

    # -- drawing ----------------------------------------------------------------------

    def _show_snapshot(self) -> None:
        watch = self.watch
        snapshot = watch.status.snapshot
        table = self.query_one(NodeTable)
        with self.batch_update():
            if snapshot is not None:
                table.show(snapshot, node_severity(watch.status.findings))
                self.query_one(TopologyView).show(snapshot)
            self._retitle(table, f"Nodes ({table.row_count})")
            self.query_one(FindingsPanel).show(watch.status.findings)
            self._retitle(self.query_one(FindingsPanel), f"Findings ({len(watch.status.findings)})")
            self.query_one(EventLog).show(watch)
            self._show_selected()

    def _show_selected(self) -> None:
        snapshot = self.watch.status.snapshot
        selected = self.query_one(NodeTable).selected_id
        node = snapshot.by_id.get(selected) if snapshot and selected else None
        detail = self.query_one(NodeDetail)
        detail.show(node, snapshot)
        # Text, not str: a str title is parsed as markup, and node ids are server data.
        self._retitle(detail, f"Detail · {visible(node.id, limit=60)}" if node else "Detail")

    def _retitle(self, widget: Widget, title: str) -> None:
        """Set a border title only when it changes: setting one repaints the whole widget.
        Given as Text, because a str title is parsed as markup and titles carry server
        data."""
        if self._titles.get(widget.id) != title:
            self._titles[widget.id] = title
            widget.border_title = Text(title)

    def _redraw_status(self) -> None:
        if not self._status_bar.is_attached:  # shutting down: a poll ended after the screen
            return
        others = [w for w in self.watches.values() if w is not self.watch]
        self.watch.status.others = _others_summary(others)
        self._status_bar.show(self.watch.status)
        self._wind_status_clock()

    def _wind_status_clock(self) -> None:
        """Tick every second only while the line changes by itself (a slow poll, a retry
        countdown, a paused deployment's age): idle ticks cost ~1 ms a refresh."""
        if self.watch.status.ticking:
            self._status_clock.resume()
        else:
            self._status_clock.pause()

    def on_node_table_highlighted(self, _event: NodeTable.Highlighted) -> None:
        if self._status_bar.is_attached:  # not while the screen is taken down at exit
            self._show_selected()

    def on_node_table_selected(self, _event: NodeTable.Selected) -> None:
        self.action_focus_detail()

    # -- navigation -------------------------------------------------------------------

    def action_switch(self) -> None:
        self.push_screen(
            DeploymentSwitcher(list(self.watches.values()), self.current), self._switch_to
        )

    def _switch_to(self, name: str | None) -> None:
        if name is None or name == self.current:
            return
        self.current = name
        self.query_one(NodeTable).reset()
        self.query_one(TopologyView).reset()
        self._show_snapshot()
        self._redraw_status()

    def action_focus_nodes(self) -> None:
        self.query_one(NodeTable).focus()

    def action_focus_detail(self) -> None:
        self.query_one(NodeDetail).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_secrets":
            return self.secrets_may_be_shown
        return True

    def action_toggle_secrets(self) -> None:
        detail = self.query_one(NodeDetail)
        if detail.reveal_secrets:
            self._reveal(False)
            return
        question = (
            "Show secret values (passwords, keys, tokens, DSNs) in the detail pane? "
            "Anyone who can see this screen will see them."
        )
        self.push_screen(ConfirmScreen(question), self._reveal)

    def _reveal(self, reveal: bool | None) -> None:
        self.query_one(NodeDetail).reveal_secrets = bool(reveal)
        self._show_selected()

    def action_toggle_events(self) -> None:
        events = self.query_one(EventLog)
        events.display = not events.display

    def action_help(self) -> None:
        groups = [
            ("Dashboard", list(self.BINDINGS)),
            ("Node list", list(NodeTable.BINDINGS)),
            ("Detail", list(NodeDetail.BINDINGS)),
        ]
        self.push_screen(HelpScreen(groups))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh now", "Poll the deployment now", self.action_refresh)
        yield SystemCommand(
            "Pause or resume polling", "Stop or restart the refresh", self.action_toggle_pause
        )
        yield SystemCommand("Switch deployment", "Show another deployment", self.action_switch)
        yield SystemCommand("Focus node list", "Move to the node list", self.action_focus_nodes)
        yield SystemCommand("Focus detail", "Move to the node detail", self.action_focus_detail)
        yield SystemCommand("Show or hide events", "The change log pane", self.action_toggle_events)
        yield SystemCommand("Help: keys", "List every key", self.action_help)


def _settle_memory() -> None:
    """Called once the first data is on screen. What exists then (Textual, the modules,
    the first snapshot: ~150,000 objects on 1,000 nodes) mostly lives as long as the app;
    moved out of the cyclic collector's sight, its full collections, which froze the UI
    for 110-270 ms every few dozen refreshes, walk only what came later (measured:
    benchmarks/README.md). Collected first, so no garbage is frozen with it; then the
    collector, off since wa-tui started (cli.main), is turned on."""
    gc.collect()
    gc.freeze()
    gc.enable()


def _others_summary(others: list[Watch]) -> str:
    """'+2 others: 1 ✖ (s)' — how the deployments off screen are doing."""
    if not others:
        return ""
    troubled = [w for w in others if w.severity is not None and w.severity > Severity.INFO]
    worst_marker = " ✖" if any(w.severity is Severity.CRITICAL for w in troubled) else " ▲"
    state = f" {len(troubled)}{worst_marker} (s)" if troubled else " OK"
    return f"+{len(others)} other{'s' if len(others) > 1 else ''}:{state}"
