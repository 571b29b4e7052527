"""The dashboard's screen: the status line, its panes in two columns, the footer, and
what the user does with the deployment and node on it (copy, logs, secrets, the bundle).

Each pane is declared once, in PANES: its id, title, widget, column, when it shows (by
the terminal's size, by its toggle key, opened alone on a narrow terminal) and the key
that toggles it. The screen owns the panes: it shows each poll to every pane as one
`PollView` (the watchers' updates reach it as `Polled` and `StatusChanged` messages),
resets them all when another deployment comes on screen, and toggles them; the monkey
test drives them from PANES too. A new pane is a line here, its widget module (with `show(view)` and
`reset()`), its toggle key in keys.py, and its size rules in app.tcss, if any.

Breakpoints (README, "Every terminal"): below NARROW_WIDTH columns or NARROW_HEIGHT rows
one column, the node list with the columns that say what is wrong and the findings in
one line, a pane that opens (`enter`, `e`, `v`) filling the screen until `escape`; below
WIDE_WIDTH the node list is wider and the panes shorter.
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from platformdirs import user_data_path
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer

from wa_tui.api.node_logs import LogsRefused, logs_command
from wa_tui.core.secrets import mask_tree
from wa_tui.core.text import visible
from wa_tui.keys import BACK, DEPLOYMENT, DETAIL, NODES
from wa_tui.model.judgement import Severity
from wa_tui.model.snapshot import Node
from wa_tui.ui.bindings import bindings
from wa_tui.ui.confirm_screen import ConfirmScreen
from wa_tui.ui.event_log import EventLog
from wa_tui.ui.findings_panel import FindingsLine, FindingsPanel
from wa_tui.ui.guards import SizedToTerminal
from wa_tui.ui.log_screen import LogScreen
from wa_tui.ui.messages import PanesReady, Polled, StatusChanged
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import COLUMNS, ESSENTIAL, NodeTable
from wa_tui.ui.poll_view import PaneWidget, PollView
from wa_tui.ui.status_bar import StatusBar
from wa_tui.ui.topology import TopologyView
from wa_tui.ui.vitals_panel import VitalsPanel
from wa_tui.ui.web_view import refused

if TYPE_CHECKING:
    from wa_tui.recording.first_frame import FirstFrame
    from wa_tui.ui.poll_view import Source
    from wa_tui.watch.watcher import Watcher

NARROW_WIDTH, NARROW_HEIGHT = 100, 30
WIDE_WIDTH = 150  # below this, node names are shortened (the list's widest column)


@dataclass(frozen=True)
class Pane:
    """One pane: what it is, what it is titled, when it shows, which key toggles it."""

    id: str
    # Its border title ("": none), or what makes it of the poll shown.
    title: str | Callable[[PollView], str]
    widget: Callable[..., PaneWidget]  # a Widget class with `show(view)` and `reset()`
    column: Literal["left", "right"]
    # On a narrow terminal: "shown" with the node list, "only" there (not on wider
    # ones), "opens": hidden until opened, then alone in the whole screen.
    narrow: Literal["shown", "only", "opens"] = "shown"
    # The id of its toggle key in keys.py, whose action is `screen.toggle_pane('ID')`;
    # None: always shown (as the terminal's size allows).
    key: str | None = None
    min_height: int = 0  # shown at first only on terminals at least this tall


def _nodes_title(view: PollView) -> str:
    return f"Nodes ({len(view.snapshot.nodes)})" if view.snapshot else "Nodes (0)"


def _detail_title(view: PollView) -> str:
    return f"Detail · {visible(view.node.id, limit=60)}" if view.node else "Detail"


PANES = [
    Pane("findings-line", "", FindingsLine, "left", narrow="only"),
    Pane("nodes", _nodes_title, NodeTable, "left"),
    Pane("topology", "Topology", TopologyView, "left"),
    Pane("detail", _detail_title, NodeDetail, "left", narrow="opens"),
    Pane("findings", lambda v: f"Findings ({len(v.findings)})", FindingsPanel, "right", "opens"),
    # Shown at first where it leaves the detail beside it room enough.
    Pane("vitals", "Vitals (30 min)", VitalsPanel, "right", "opens", "dashboard.vitals", 40),
    Pane("events", "Events (newest first)", EventLog, "right", "opens", "dashboard.events"),
]


class DashboardScreen(SizedToTerminal, Screen[None]):
    """The panes of one deployment at a time: `watcher` is the one on screen, one of
    `deployments` (the app's, by name; the status line says how the others do)."""

    HELP_GROUPS = (("Deployment", DEPLOYMENT), ("Node list", NODES), ("Detail", DETAIL))
    BINDINGS = bindings((*DEPLOYMENT, BACK))

    def __init__(
        self,
        deployments: Mapping[str, Watcher],
        shown: str,
        secrets_may_be_shown: bool = False,
        below: Sequence[Widget] = (),
        first: FirstFrame | None = None,
    ) -> None:
        """`first`: shown until the deployment's watcher comes (`show_deployment`)."""
        super().__init__()
        self.deployments = deployments
        self.watcher: Source = first or deployments[shown]
        # --show-secrets: `x` may reveal secret values, each time after a confirmation.
        self.secrets_may_be_shown = secrets_may_be_shown
        self._below = below  # widgets under the panes (replay's timeline)
        self._status_bar = StatusBar(id="status")
        self._status_clock: Timer | None = None  # set once mounted
        self._panes: dict[str, PaneWidget] = {}  # by pane id, as composed
        self.opened: str | None = None  # the pane alone on a narrow terminal
        self._focused_before: Widget | None = None  # where focus was when it opened
        self.hidden: set[str] = set()  # panes their key has hidden
        self._chosen: set[str] = set()  # panes whose key was pressed: no longer by size
        self.narrow = False
        self._titles: dict[str, str] = {}  # border titles set, by pane id
        self._waiting: list[str] = []  # commands pressed on a first frame (`_waits`)

    def compose(self) -> ComposeResult:
        yield self._status_bar
        with Horizontal(id="main"):
            for column in ("left", "right"):
                with Vertical(id=column):
                    for pane in PANES:
                        if pane.column == column:
                            widget = pane.widget(id=pane.id)  # type: ignore[misc]
                            self._panes[pane.id] = widget
                            yield widget
        yield Footer()
        yield from self._below

    def on_mount(self) -> None:
        if not self.composed:
            return  # quitting as it starts: its panes are gone already
        for pane in PANES:
            if isinstance(pane.title, str) and pane.title:
                self._pane(pane).border_title = pane.title
        self._status_clock = self.set_interval(1.0, self.redraw_status, pause=True)
        self.fit(self.app.size)
        self.set_focus(self.query_one(NodeTable))
        if self.watcher.snapshot is not None:  # a first frame, or a poll read already
            self.show_poll()
        self.post_message(PanesReady())

    def fit(self, size: Size) -> None:
        """The layout for the terminal's size; a pane shown by size until its key is
        pressed, then by the user's choice."""
        if not self.composed:
            return  # fitted as it mounts
        width, height = size
        self.narrow = width < NARROW_WIDTH or height < NARROW_HEIGHT
        self.set_class(self.narrow, "-narrow")
        self.set_class(not self.narrow and width < WIDE_WIDTH, "-medium")
        if not self.narrow:
            self.opened = None
        for pane in PANES:
            if pane.min_height and pane.id not in self._chosen:
                if height < pane.min_height:
                    self.hidden.add(pane.id)
                else:
                    self.hidden.discard(pane.id)
        # A narrow footer keeps its keys whole: closer together, and without the
        # palette's reminder (app.tcss hides it; ctrl+p works as ever, the help names it).
        # Not composed anew: a footer recomposed during a resize left the topology blank.
        self.query_one(Footer).compact = self.narrow
        columns = ESSENTIAL if self.narrow else tuple(key for key, _ in COLUMNS)
        self.query_one(NodeTable).set_variant(columns, short=width < WIDE_WIDTH)
        self._arrange()
        # Its narrow form is chosen by the app's width, which is set after this.
        self.call_after_refresh(self.redraw_status)

    def open(self, pane_id: str | None) -> None:
        """On a narrow terminal, `pane_id` fills the screen (focused, if it takes focus);
        None: back to the panes, focus where it was before."""
        was_open = self.opened is not None
        if not was_open:
            self._focused_before = self.focused
        self.opened = pane_id if self.narrow else None
        self._arrange()
        if self.opened is not None:
            opened = self._panes[self.opened]
            if opened.can_focus:
                self.set_focus(opened)
        elif was_open:
            before, panes = self._focused_before, panes_by_id()
            shown = before is not None and before.id in panes and self._shows(panes[before.id])
            self.set_focus(before if shown else self.query_one(NodeTable))

    def toggle(self, pane_id: str) -> None:
        """`e`, `v`: on a narrow terminal open the pane (or close it), else show or hide."""
        if self.narrow:
            self.open(None if self.opened == pane_id else pane_id)
            return
        self._chosen.add(pane_id)
        self.hidden.symmetric_difference_update({pane_id})
        self._arrange()

    @property
    def composed(self) -> bool:
        """Its panes are there (they compose just after the app mounts)."""
        return bool(self.query(NodeTable))

    def _arrange(self) -> None:
        if not self.composed:
            return
        shown_by_column: dict[str, list[str]] = {"left": [], "right": []}
        for pane in PANES:
            shown = self._shows(pane)
            widget = self._pane(pane)
            widget.set_class(not shown, "-pane-hidden")
            widget.set_class(shown and self.opened == pane.id, "-pane-opened")
            if shown:
                shown_by_column[pane.column].append(pane.id)
        for column, shown_ids in shown_by_column.items():
            self.query_one(f"#{column}").set_class(not shown_ids, "-pane-hidden")
            # A pane alone in its column has the whole column (app.tcss): the findings,
            # once the vitals and the events are hidden, no longer stop at a third.
            self.query_one(f"#{column}").set_class(len(shown_ids) == 1, "-one-pane")

    def _shows(self, pane: Pane) -> bool:
        if self.narrow and self.opened is not None:
            return pane.id == self.opened
        if self.narrow:
            return pane.narrow != "opens"
        return pane.narrow != "only" and pane.id not in self.hidden

    # -- what the panes show ------------------------------------------------------------

    def on_polled(self, message: Polled) -> None:
        """A poll ended: the panes follow, if it is the deployment on screen and it read,
        and the status line with them (never a frame of new data under an old line)."""
        result = message.update.result
        good = result is not None and result.snapshot is not None
        if message.update.watcher is self.watcher and good:
            self.show_poll()
            self.redraw_status()

    def show_deployment(self, watcher: Watcher) -> None:
        """Another deployment on screen: every pane forgets the last one's, then shows
        this one's last poll."""
        self.watcher = watcher
        if self.composed:
            for pane in PANES:
                self._pane(pane).reset()
            self.show_poll()
        self.redraw_status()

    def show_source(self, watcher: Watcher) -> None:
        """The deployment on screen read by another source from now on (a follower for
        its first frame, or for the watcher polling here): the panes keep what they drew
        (the list's cursor stays) and draw what differs."""
        self.watcher = watcher
        self.show_poll()
        self.redraw_status()
        waiting, self._waiting = self._waiting, []
        for action in waiting:  # pressed on the first frame
            self.call_later(self.run_action, action)

    def show_poll(self) -> None:
        """Every pane shown the last poll of the deployment on screen."""
        if not self.composed:
            return
        view = self.view()
        with self.app.batch_update():
            for pane in PANES:
                self._pane(pane).show(view)
                self._retitle(pane, view)
            if self.query_one(NodeTable).selected_key != view.selected:
                self.show_selected()  # the list put its cursor on a node just now

    def view(self) -> PollView:
        return PollView.of(self.watcher, self.query_one(NodeTable).selected_key)

    @property
    def selected_node(self) -> Node | None:
        """The node under the list's cursor, in the last poll."""
        return self.view().node if self.composed else None

    def show_selected(self) -> None:
        """The list's cursor moved, or what the detail may show did: the detail alone."""
        if not self.composed:
            return
        view = self.view()
        self.query_one(NodeDetail).show(view)
        self._retitle(panes_by_id()["detail"], view)

    def _pane(self, pane: Pane) -> PaneWidget:
        return self._panes[pane.id]

    def _retitle(self, pane: Pane, view: PollView) -> None:
        """A border title of the poll, set only when it changes (setting one repaints
        the whole pane); given as Text, because a str title is parsed as markup and
        titles carry server data."""
        if isinstance(pane.title, str):
            return
        title = pane.title(view)
        if self._titles.get(pane.id) != title:
            self._titles[pane.id] = title
            self._pane(pane).border_title = Text(title)

    @on(NodeTable.Highlighted, "#nodes")
    def _follow_cursor(self) -> None:
        self.show_selected()

    @on(NodeTable.Selected, "#nodes")
    def _open_detail(self) -> None:
        self.action_focus_detail()

    # -- the status line ----------------------------------------------------------------

    def on_status_changed(self, message: StatusChanged) -> None:
        self.redraw_status()

    def redraw_status(self) -> None:
        """The line for the deployment on screen, and how the others do."""
        if self.gone:  # a poll ended after the screen was taken down
            return
        others = [w for w in self.deployments.values() if w is not self.watcher]
        width = self.app.size.width
        narrow = width if width < NARROW_WIDTH else None
        others_text = _others_summary(others)
        self._status_bar.show(self.watcher, others_text, narrow_width=narrow, web=self.app.is_web)
        self._keep_status_clock()

    def _keep_status_clock(self) -> None:
        """The status line's one-second clock runs only while the line changes by itself
        (a slow poll, a retry countdown, a paused deployment's age): a tick that
        changes nothing still costs a repaint check."""
        if self._status_clock is None:  # not mounted yet
            return
        if self.watcher.status.ticking:
            self._status_clock.resume()
        else:
            self._status_clock.pause()

    @property
    def gone(self) -> bool:
        """Taken down, or not yet up: what comes now has nothing to draw on."""
        return not self._status_bar.is_attached

    # -- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Its panes' actions wait for its panes (starting, or quitting); `back` is
        there only while a pane fills the screen (and in the footer then)."""
        if action == "back":
            return self.composed and (
                self.opened is not None or isinstance(self.focused, NodeDetail)
            )
        if action == "toggle_secrets":  # read from a recording: `x` says why not
            return self.composed and (self.secrets_may_be_shown or not self.watcher.can.sends)
        return self.composed

    def action_back(self) -> None:
        """`escape`: the pane filling the screen gives way, focus back where it was; from
        the detail, to the node list."""
        if self.opened is not None and self.opened != "detail":
            self.open(None)
        else:
            self.action_focus_nodes()

    def action_toggle_pane(self, pane_id: str) -> None:
        """A pane's key (`e`, `v`): shown or hidden; on a narrow terminal, opened alone."""
        if pane_id in panes_by_id():
            self.toggle(pane_id)

    def action_focus_nodes(self) -> None:
        self.open(None)
        self._focus(NodeTable)

    def action_focus_detail(self) -> None:
        self.open("detail")
        self._focus(NodeDetail)

    def select_node(self, node_id: str) -> None:
        """Put the node list's cursor on `node_id` (the palette's node search)."""
        table = self.query_one(NodeTable)
        if node_id in table.keys:
            table.move_to(node_id)
            self._focus(NodeTable)

    def _focus(self, pane: type[Widget]) -> None:
        """Focus at once, not after the next refresh as `Widget.focus` does: keys that
        arrive in the same read as the one that moved focus are for the pane it moved to
        (`enter j j j`)."""
        self.set_focus(self.query_one(pane))

    # -- what the user does with the deployment and node on screen --------------------

    def action_copy_node(self) -> None:
        snapshot, node = self.watcher.snapshot, self.selected_node
        if snapshot is None or node is None:
            self.notify("no node selected", severity="warning")
            return
        document = {"id": node.id, "support": mask_tree(snapshot.raw(node))}
        if node.health_entry is not None:
            document["health"] = mask_tree(dict(node.health_entry))
        self.app.copy_to_clipboard(json.dumps(document, indent=2, ensure_ascii=False))
        self.notify(f"copied {visible(node.id, limit=60)} (secrets masked) to the clipboard")

    def action_copy_findings(self) -> None:
        findings = self.watcher.findings
        lines = [f"{f.severity.marker} {f.severity.name} {f.code}: {f.message}" for f in findings]
        self.app.copy_to_clipboard("\n".join(lines) or "no findings")
        self.notify(f"copied {len(lines)} finding line(s) to the clipboard")

    def _waits(self, action: str) -> bool:
        """Whether `action` waits: what is shown is a follower's first frame, and the
        command needs the follower (its settings, its recording). It runs once the
        follower is there (`show_source`), as pressed; said so meanwhile."""
        if self.watcher.can.ready:
            return False
        if action not in self._waiting:
            self._waiting.append(action)
            self.notify("reading the recorder's history: done as soon as it is read")
        return True

    def _refused(self, action: str) -> bool:
        """Whether `action` is not run here (a web view), said so."""
        why = refused(self.app, action)
        if why is not None:
            self.notify(why, severity="warning")
        return why is not None

    def action_logs(self) -> None:
        """The selected node's log, on a screen of its own (wa_tui/api/node_logs.py)."""
        if self._refused("logs") or self._waits("logs"):
            return
        node = self.selected_node
        if node is None:
            self.notify("no node selected", severity="warning")
            return
        if not self.watcher.shows_now:
            self.notify("logs are live only: a replay cannot read them", severity="warning")
            return
        settings = self.watcher.target.settings
        try:
            command = logs_command(settings.logs_command, node, settings.host_aliases)
        except LogsRefused as refused:
            self.notify(str(refused), severity="error", timeout=10)
            return
        self.app.push_screen(LogScreen(node.id, command))

    def action_toggle_secrets(self) -> None:
        if self._refused("toggle_secrets"):
            return
        if not self.watcher.can.sends:  # read from a recording: nothing to ask for
            self.notify("secrets are never recorded: the recorder masked them before writing")
            return
        if self.query_one(NodeDetail).reveal_secrets:
            self._reveal(False)
            return
        question = (
            "Show secret values (passwords, keys, tokens, DSNs) in the detail pane? "
            "Anyone who can see this screen will see them."
        )
        self.app.push_screen(ConfirmScreen(question), self._reveal)

    def _reveal(self, reveal: bool | None) -> None:
        self.query_one(NodeDetail).reveal_secrets = bool(reveal)
        self.show_selected()

    async def action_bundle(self) -> None:
        """What this dashboard shows of the deployment, for whoever looks next (in replay:
        the poll on screen and the recording up to it). In a web view, a download, its
        phone numbers masked; its file made in the session's private folder and gone."""
        from wa_tui.core import clock
        from wa_tui.recording.bundle import default_name, handover_of, write_bundle
        from wa_tui.recording.reader import RecordingFile

        if self._waits("bundle"):
            return
        watcher, path, web = self.watcher, self.watcher.recorded_in, self.app.is_web
        folder = (
            Path(tempfile.gettempdir()) if web else user_data_path("wa-tui", ensure_exists=True)
        )

        def write() -> Path:
            # Opened here, apart: the screen's own reading of a recording goes on meanwhile.
            recording = RecordingFile(path) if path is not None else None
            handover = handover_of(watcher, recording)
            handover.redact_phone = web
            output = folder / default_name(handover.deployment, clock.now())
            write_bundle(handover, output)
            return output

        output = await asyncio.to_thread(write)
        if not web:
            self.notify(f"bundle written: {output}", timeout=15)
            return
        data = output.read_bytes()
        output.unlink()
        self.app.deliver_binary(
            io.BytesIO(data), save_filename=output.name, mime_type="application/gzip"
        )
        self.notify(f"bundle sent to the browser: {output.name} (phone numbers masked)")


def panes_by_id() -> dict[str, Pane]:
    """PANES by id, as they are now (a test may add one)."""
    return {pane.id: pane for pane in PANES}


def _others_summary(others: list[Watcher]) -> str:
    """'+2 others: 1 ✖ (s)' — how the deployments off screen are doing."""
    if not others:
        return ""
    troubled = [w for w in others if w.severity is not None and w.severity > Severity.INFO]
    worst = max((w.severity for w in troubled), default=None)
    state = f" {len(troubled)} {worst.marker} (s)" if worst is not None else " OK"
    return f"+{len(others)} other{'s' if len(others) > 1 else ''}:{state}"
