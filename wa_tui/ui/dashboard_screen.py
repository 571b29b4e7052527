"""The dashboard's screen: the status line, its panes in two columns, the footer.

Each pane is declared once, in PANES: its id, title, widget, column, and when it shows
(by the terminal's size, by a toggle key, opened alone on a narrow terminal). A new pane
is a line here, its widget module, and its size rules in app.tcss, if any.

Breakpoints (README, "Every terminal"): below NARROW_WIDTH columns or NARROW_HEIGHT rows
one column, the node list with the columns that say what is wrong and the findings in
one line, a pane that opens (`enter`, `e`, `v`) filling the screen until `escape`; below
WIDE_WIDTH the node list is wider and the panes shorter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from wa_tui.keys import DETAIL, NODES
from wa_tui.ui.event_log import EventLog
from wa_tui.ui.findings_panel import FindingsLine, FindingsPanel
from wa_tui.ui.guards import SizedToTerminal
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import COLUMNS, ESSENTIAL, NodeTable
from wa_tui.ui.status_bar import StatusBar
from wa_tui.ui.topology import TopologyView
from wa_tui.ui.vitals_panel import VitalsPanel

NARROW_WIDTH, NARROW_HEIGHT = 100, 30
WIDE_WIDTH = 150  # below this, node names are shortened (the list's widest column)


@dataclass(frozen=True)
class Pane:
    """One pane: what it is and when it shows."""

    id: str
    title: str  # its border title ("": none)
    widget: type[Widget]
    column: Literal["left", "right"]
    # On a narrow terminal: "shown" with the node list, "only" there (not on wider
    # ones), "opens": hidden until opened, then alone in the whole screen.
    narrow: Literal["shown", "only", "opens"] = "shown"
    toggled: bool = False  # shown or hidden by a key (the app's toggle actions)
    min_height: int = 0  # shown at first only on terminals at least this tall


PANES = (
    Pane("findings-line", "", FindingsLine, "left", narrow="only"),
    Pane("nodes", "Nodes", NodeTable, "left"),
    Pane("topology", "Topology", TopologyView, "left"),
    Pane("detail", "Detail", NodeDetail, "left", narrow="opens"),
    Pane("findings", "Findings", FindingsPanel, "right", narrow="opens"),
    # Shown at first where it leaves the detail beside it room enough.
    Pane("vitals", "Vitals (30 min)", VitalsPanel, "right", "opens", True, min_height=40),
    Pane("events", "Events (newest first)", EventLog, "right", "opens", True),
)
BY_ID = {pane.id: pane for pane in PANES}


class DashboardScreen(SizedToTerminal, Screen[None]):
    """The panes of one deployment at a time; the app says what they show."""

    HELP_GROUPS = (("Node list", NODES), ("Detail", DETAIL))

    def __init__(self, status_bar: StatusBar, below: Sequence[Widget] = ()) -> None:
        super().__init__()
        self._status_bar = status_bar
        self._below = below  # widgets under the panes (replay's timeline)
        self.opened: str | None = None  # the pane alone on a narrow terminal
        self.hidden: set[str] = set()  # panes their key has hidden
        self._chosen: set[str] = set()  # panes whose key was pressed: no longer by size
        self.narrow = False

    def compose(self) -> ComposeResult:
        yield self._status_bar
        with Horizontal(id="main"):
            for column in ("left", "right"):
                with Vertical(id=column):
                    for pane in PANES:
                        if pane.column == column:
                            yield pane.widget(id=pane.id)
        yield Footer()
        yield from self._below

    class Ready(Message):
        """The panes are there: the app may start filling them."""

    def on_mount(self) -> None:
        if not self.composed:
            return  # quitting as it starts: its panes are gone already
        for pane in PANES:
            if pane.title:
                self.query_one(f"#{pane.id}").border_title = pane.title
        self.fit(self.app.size)
        self.set_focus(self.query_one(NodeTable))
        self.post_message(self.Ready())

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
        columns = ESSENTIAL if self.narrow else tuple(key for key, _ in COLUMNS)
        self.query_one(NodeTable).set_variant(columns, short=width < WIDE_WIDTH)
        self._arrange()

    def open(self, pane_id: str | None) -> None:
        """On a narrow terminal, `pane_id` fills the screen; None: back to the list."""
        self.opened = pane_id if self.narrow else None
        self._arrange()

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
        shown_columns = set()
        for pane in PANES:
            shown = self._shows(pane)
            widget = self.query_one(f"#{pane.id}")
            widget.set_class(not shown, "-pane-hidden")
            widget.set_class(shown and self.opened == pane.id, "-pane-opened")
            if shown:
                shown_columns.add(pane.column)
        for column in ("left", "right"):
            self.query_one(f"#{column}").set_class(column not in shown_columns, "-pane-hidden")

    def _shows(self, pane: Pane) -> bool:
        if self.narrow and self.opened is not None:
            return pane.id == self.opened
        if self.narrow:
            return pane.narrow != "opens"
        return pane.narrow != "only" and pane.id not in self.hidden
