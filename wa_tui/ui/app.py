"""The dashboard: status line, node list, topology and detail of one deployment at a time.

Each deployment's polling lives in a headless `Watcher` (see wa_tui/watch/watcher.py):
the app subscribes to every watcher and posts what it publishes to the dashboard screen
as messages; the screen brings its panes to the deployment on screen, inside
`batch_update()`, each widget redrawing only what changed, and keeps its status line
and the commands on the deployment and node it shows. The app starts and stops the
watchers, switches deployments and screens, and quits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_path
from textual import events
from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget

from wa_tui.core import memory
from wa_tui.core.text import visible
from wa_tui.keys import DASHBOARD
from wa_tui.ui.bindings import bindings
from wa_tui.ui.dashboard_screen import DashboardScreen
from wa_tui.ui.deployment_switcher import DeploymentSwitcher
from wa_tui.ui.guards import GuardedApp
from wa_tui.ui.help_screen import HelpGroups, HelpScreen
from wa_tui.ui.login_screen import LoginScreen
from wa_tui.ui.messages import Polled, StatusChanged
from wa_tui.ui.node_commands import NodeCommands
from wa_tui.ui.web_view import usable
from wa_tui.watch.state import Phase, Update, WatcherPool, settle_after_first_polls

if TYPE_CHECKING:
    from wa_tui.recording.first_frame import FirstFrame
    from wa_tui.recording.writer import Recorder
    from wa_tui.watch.poller import EarlyPoll
    from wa_tui.watch.targets import Target
    from wa_tui.watch.watcher import Watcher

log = logging.getLogger(__name__)


def _watchers_of(sources: Sequence[Target | Watcher]) -> dict[str, Watcher]:
    """A watcher by name for each source: a target watched live, a watcher (a replay, a
    recorder followed) drawn alike. (Imported here, when there is one: a follower's first
    frame is drawn before any source.)"""
    if not sources:
        return {}
    from wa_tui.watch.targets import Target
    from wa_tui.watch.watcher import watchers_for

    targets = [s for s in sources if isinstance(s, Target)]
    live = iter(watchers_for(targets).values())
    watchers = (next(live) if isinstance(s, Target) else s for s in sources)
    return {watcher.name: watcher for watcher in watchers}


class WaTuiApp(GuardedApp, App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "wa-tui"
    COMMANDS = App.COMMANDS | {NodeCommands}

    # The app's keys (wa_tui/keys.py): its bindings, and with the screen's, the help and
    # the palette's commands.
    APP_GROUPS: HelpGroups = (("Dashboard", DASHBOARD),)
    BINDINGS = bindings(DASHBOARD)
    FLEET_SOURCE = "polled by this wa-tui"  # what the fleet screen says of its rows

    # Every deployment pauses and resumes together.
    paused: reactive[bool] = reactive(False, init=False)
    # The name of the deployment on screen.
    current: reactive[str] = reactive("", init=False)

    def __init__(
        self,
        sources: Sequence[Target | Watcher],
        secrets_may_be_shown: bool = False,
        early_polls: Mapping[str, Future[EarlyPoll]] | None = None,
        settle_memory: bool = False,
        recorder: Recorder | None = None,
        keymap: Mapping[str, str] | None = None,
        notes: Sequence[str] = (),
        first: FirstFrame | None = None,
    ) -> None:
        """`first`: a follower's first frame, shown until its watcher is added
        (`add_watcher`), when it is given no source."""
        super().__init__()
        self._notes = notes  # said once the screen is up: how the deployments are read
        # The config's [keys]: binding id -> keys (wa_tui/keys.py), checked when read.
        self.keymap = dict(keymap or {})
        self.set_keymap(self.keymap)
        self._recorder = recorder  # records the first deployment's polls (--record)
        # First polls begun before the UI loaded (poller.poll_early), by deployment name.
        self._early_polls = dict(early_polls or {})
        self.watchers = _watchers_of(sources)
        self.set_reactive(WaTuiApp.current, first.name if first else next(iter(self.watchers)))
        # Memory settled once every deployment was read (wa_tui.core.memory): a fleet's full
        # collections then walk what came since, not 200,000 objects (220 ms on 200
        # deployments). Off in tests: many apps share a process.
        self._settle_memory = settle_memory
        self._pool = WatcherPool()  # each watcher's polling
        # The screen of the panes: the fleet or a dialog may be on top of it when a poll
        # ends (a query on the app searches the screen on top only).
        self.dashboard = DashboardScreen(
            self.watchers, self.current, secrets_may_be_shown, self._below_panes(), first
        )

    @property
    def watcher(self) -> Watcher:
        """The deployment on screen."""
        return self.watchers[self.current]

    # -- layout -----------------------------------------------------------------------

    def get_default_screen(self) -> DashboardScreen:
        return self.dashboard

    def _below_panes(self) -> tuple[Widget, ...]:
        """Widgets under the panes (a replay's timeline)."""
        return ()

    def on_panes_ready(self) -> None:
        # Textual calls this handler of each class in the app's MRO that defines one: a
        # subclass extends `panes_ready` instead (extending this started every watcher's
        # subscriptions again, once per class: a follower showed each poll three times).
        self.panes_ready()

    def panes_ready(self) -> None:
        """The panes are composed (the default screen composes after the app mounts):
        the watchers start."""
        for note in self._notes:
            self.notify(visible(note), severity="warning", timeout=15)
        if self._recorder is not None:
            from wa_tui.recording.writer import recording_consumer

            first = next(iter(self.watchers.values()))
            first.recorded_in = self._recorder.path
            first.subscribe(recording_consumer(self._recorder), name="the recorder", finish=True)
        if len(self.watchers) > 1:
            self.action_fleet()  # the start screen when there are several
        if self._settle_memory:
            settle = partial(self.call_after_refresh, memory.settle)
            settle_after_first_polls(self.watchers.values(), settle)
        for watcher in self.watchers.values():
            self._watch(watcher)
            if watcher.target.needs_password:
                self.push_screen(LoginScreen(watcher.target), partial(self._logged_in, watcher))
            else:
                self._start(watcher, self._early_polls.pop(watcher.name, None))

    def _logged_in(self, watcher: Watcher, password: str | None) -> None:
        if password is None:
            watcher.status.error = "no password given: press s, or restart to log in"
            self.dashboard.redraw_status()
            return
        watcher.use_password(password)
        self._start(watcher)

    def _watch(self, watcher: Watcher) -> None:
        """What the app keeps of a watcher: its updates, and its account for `i`."""
        watcher.subscribe(self._watcher_updated, name="the dashboard")
        watcher.keep_account()  # for `i`, from the first poll

    def _start(self, watcher: Watcher, early: Future[EarlyPoll] | None = None) -> None:
        self._pool.start(watcher, early=early)

    def replace_watcher(self, watcher: Watcher) -> None:
        """`watcher` watches the deployment of its name from now on, instead of the one
        that did (a recorder attached to, or left when it stopped), if one did (a
        follower's first frame shows the deployment until its watcher comes)."""
        old = self.watchers.get(watcher.name)
        if old is not None:
            self.run_worker(self._pool.stop(old), exit_on_error=False)
        self.watchers[watcher.name] = watcher
        self._watch(watcher)
        self._start(watcher)
        if watcher.name == self.current:
            self.dashboard.show_source(watcher)

    async def on_unmount(self) -> None:
        await self._pool.stop_all(self.watchers.values())

    # -- what the watchers publish --------------------------------------------------------

    def _watcher_updated(self, update: Update) -> None:
        """Called in the watcher's task: what it says reaches the screens as messages, so
        nothing is drawn once they are gone (posting to a closed screen does nothing)."""
        if update.phase is Phase.POLLED:
            self.dashboard.post_message(Polled(update))
        elif update.watcher is self.watcher or update.phase is Phase.WAITING:
            # The status line is drawn as the wait for the next poll begins (it shows when
            # that is).
            self.dashboard.post_message(StatusChanged())

    def action_refresh(self) -> None:
        """Poll now, the settings too; if a poll is in flight, again as soon as it ends."""
        self.watcher.refresh()

    def action_webhook(self) -> None:
        from wa_tui.ui.webhook_screen import WebhookScreen  # its first use: not at start

        if not isinstance(self.screen, WebhookScreen):
            self.push_screen(WebhookScreen(self.watcher, self.keymap))

    def action_account(self) -> None:
        """What this session has seen, accounted (a replay: the whole recording's, read
        in a thread: a day of polls takes seconds)."""
        from wa_tui.ui.account_screen import AccountScreen  # its first use: not at start

        if isinstance(self.screen, AccountScreen):
            return
        opening = partial(self._open_account, self.watcher)
        self.run_worker(opening, group="account", exclusive=True, exit_on_error=False)

    async def _open_account(self, watcher: Watcher) -> None:
        # Imported when first asked for: nothing of it is needed for the first frame.
        from wa_tui.outputs.incident_report import report_document
        from wa_tui.ui.account_screen import AccountScreen

        recorded = watcher.can.seeks  # read from its recording: seconds, in a thread
        account = await asyncio.to_thread(watcher.account) if recorded else watcher.account()
        if self.quitting or watcher is not self.watcher:
            return  # gone, or another deployment shown meanwhile
        document = report_document(account, watcher.name, redact_phone=False)
        self.push_screen(AccountScreen(account, document, recorded), self._account_closed)

    def _account_closed(self, moment: datetime | None) -> None:
        """A replay jumps to the moment chosen (ReplayApp)."""

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        for watcher in self.watchers.values():
            watcher.pause(paused)
        self.dashboard.redraw_status()

    # -- navigation -------------------------------------------------------------------

    def action_switch(self) -> None:
        switcher = DeploymentSwitcher(list(self.watchers.values()), self.current)
        self.push_screen(switcher, self._switch_to)

    def _switch_to(self, name: str | None) -> None:
        if name is not None:
            self.current = name

    def watch_current(self) -> None:
        self.dashboard.show_deployment(self.watcher)

    def action_fleet(self) -> None:
        from wa_tui.outputs.fleet import LiveRows
        from wa_tui.ui.fleet_screen import FleetScreen

        if isinstance(self.screen, FleetScreen):
            return
        rows = LiveRows(self.watchers.values())
        self.push_screen(FleetScreen(rows, self.FLEET_SOURCE), self._switch_to)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.acting or action in ("quit", "help", "command_palette")

    @property
    def acting(self) -> bool:
        """Keys act on the deployment on screen: its panes are up (not starting, nor
        quitting) and what they show can be acted on (not a first frame whose watcher
        is on its way)."""
        dashboard = self.dashboard
        return bool(self.screen_stack) and dashboard.composed and dashboard.watcher.can.ready

    def select_node(self, node_id: str) -> None:
        """Put the node list's cursor on `node_id` (the palette's node search)."""
        self.dashboard.select_node(node_id)

    def action_save_screenshot(self) -> None:
        if self.is_web:  # a download: nothing written on the server
            self.deliver_screenshot()
            self.notify("screenshot sent to the browser")
            return
        folder = user_data_path("wa-tui", ensure_exists=True)
        try:
            path = self.save_screenshot(path=str(folder))
        except TypeError:  # Textual 8.2.8, mid-resize: a screen not yet laid out again
            self.notify("no screenshot: the screen is being laid out; press w again")
            return
        self.notify(f"screenshot saved: {path}", timeout=10)

    @property
    def quitting(self) -> bool:
        """The screens are being taken down: what comes now (a poll's end, a message a
        burst of keys left behind) has nothing to draw on."""
        return not self.screen_stack or self.dashboard.gone

    def on_resize(self, event: events.Resize) -> None:
        if not self.quitting:
            self.dashboard.fit(event.size)

    def help_groups(self) -> HelpGroups:
        """The keys in force on the screen shown, and usable here: its own, then the
        app's."""
        screen_groups = getattr(self.screen, "HELP_GROUPS", ())
        if isinstance(self.screen, DashboardScreen):  # the app's keys, then its panes'
            return usable(self, (*self.APP_GROUPS, *screen_groups))
        return usable(self, (*screen_groups, *self.APP_GROUPS))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_groups(), self.keymap))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, then one per key of ours in force and usable now
        (those with a tooltip: moving a cursor is no command)."""
        for command in super().get_system_commands(screen):
            # Textual's "Theme" opens a palette of its own, unguarded (ui/guards.py).
            if command.title != "Theme":
                yield command
        for _, keys in self.help_groups():
            for key in keys:
                if key.tooltip and key.action != "quit" and self._usable(key.action, screen):
                    run = partial(self.run_action, key.action, screen)
                    yield SystemCommand(key.description, key.tooltip, run)

    def _usable(self, action: str, screen: Screen) -> bool:
        """Whether the node an action would run on allows it now."""
        _, name, parameters = parse_action(action)
        for node in (screen, self):
            if hasattr(node, f"action_{name}"):
                return bool(node.check_action(name, parameters))
        return False
