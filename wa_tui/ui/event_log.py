"""The event log: what changed between refreshes, newest first (toggled with `e`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from wa_tui.analysis import Change
from wa_tui.text import visible
from wa_tui.ui.badges import SEVERITY_LOOK

KEEP = 500


def render_changes(changes: Iterable[Change]) -> RenderableType:
    """One row per change; long messages wrap under themselves, not under the time."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for change in changes:
        marker, _, style = SEVERITY_LOOK[change.severity]
        grid.add_row(
            change.seen_at.astimezone().strftime("%H:%M:%S"),
            Text(marker, style=style),
            Text.assemble((f"{change.kind.value}: ", "bold"), visible(change.message, limit=300)),
        )
    return grid if grid.row_count else Text("No changes seen yet.", style="dim")


class EventLog(VerticalScroll):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.changes: deque[Change] = deque(maxlen=KEEP)

    def compose(self) -> ComposeResult:
        yield Static(render_changes(()), id="events-body")

    def add(self, changes: Iterable[Change]) -> None:
        """Newest first; redraws only when something was added."""
        new = list(changes)
        if not new:
            return
        self.changes.extendleft(reversed(new))  # the batch on top, in the order derived
        self.query_one("#events-body", Static).update(render_changes(self.changes))
