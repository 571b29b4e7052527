"""`?`: every key, read from the bindings themselves so the list cannot drift."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wa_tui.ui.guards import DismissOnce

# Keys that Textual provides rather than our bindings.
BUILT_IN = (
    ("tab / shift+tab", "Move between the node list and the detail"),
    ("↑ ↓ / pgup pgdn / home end", "Scroll the detail and the event log"),
    ("ctrl+p", "Command palette: every action by name"),
)


def keys_table(groups: list[tuple[str, list[Binding]]]) -> Table:
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for title, bindings in groups:
        table.add_row(Text(f"\n{title}", style="bold underline"), "")
        for binding in bindings:
            if binding.description:
                table.add_row(Text(binding.key_display or binding.key), Text(binding.description))
    table.add_row(Text("\nEverywhere", style="bold underline"), "")
    for key, description in BUILT_IN:
        table.add_row(Text(key), Text(description))
    return table


class HelpScreen(DismissOnce, ModalScreen[None]):
    BINDINGS = [  # noqa: RUF012
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    def __init__(self, groups: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self._groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("Keys", style="bold"))
            yield Static(keys_table(self._groups))
            yield Static(Text("\nescape, q or ? closes this help.", style="dim"))
