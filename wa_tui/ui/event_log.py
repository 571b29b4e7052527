"""The event log: what changed between refreshes, newest first (toggled with `e`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from wa_tui.analysis import Change
from wa_tui.text import visible
from wa_tui.ui.badges import SEVERITY_LOOK

if TYPE_CHECKING:
    from wa_tui.ui.watch import Watch


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
        self._shown: tuple[str, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(render_changes(()), id="events-body")

    def show(self, watch: Watch) -> None:
        """The watch's change log; redraws only when changes were added (or on a switch)."""
        key = (watch.name, watch.changes_seen)
        if key == self._shown:
            return
        self._shown = key
        self.query_one("#events-body", Static).update(render_changes(watch.changes))
