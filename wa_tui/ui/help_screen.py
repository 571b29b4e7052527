"""`?`: the keys in force on the screen shown, from wa_tui/keys.py (the bindings' own
source, so the list cannot drift), as the config's `[keys]` remaps them."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from wa_tui.keys import HELP, Key
from wa_tui.ui.bindings import bindings, key_display
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.redraw import Block, SizedStatic

# Keys that Textual provides rather than our bindings.
# One key (or a pair) a row: the key column is as wide as its widest key.
BUILT_IN = (
    ("tab", "Move between the node list and the detail (shift+tab: back)"),
    ("↑ ↓", "Scroll the detail and the event log by a line"),
    ("pgup pgdn", "... by a page"),
    ("home end", "... to either end"),
    ("ctrl+p", "Command palette: every action by name"),
)


HelpGroups = tuple[tuple[str, tuple[Key, ...]], ...]  # (title, keys) in the order shown


def keys_table(groups: HelpGroups, keymap: Mapping[str, str]) -> Table:
    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for title, keys in groups:
        table.add_row(Text(f"\n{title}", style="bold underline"), "")
        for key in keys:
            said = Text.assemble(key.description, (f"  {key.tooltip}", "dim"))
            table.add_row(Text(key_display(key, keymap)), said)
    table.add_row(Text("\nEverywhere", style="bold underline"), "")
    for key, description in BUILT_IN:
        table.add_row(Text(key), Text(description))
    return table


class HelpScreen(DismissOnce, ModalScreen[None]):
    BINDINGS = bindings(HELP)

    def __init__(self, groups: HelpGroups, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._groups = groups
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Block(Text("Keys", style="bold"))
            yield SizedStatic(keys_table(self._groups, self._keymap))  # a table: copied as shown
            closing = key_display(HELP[0], self._keymap)
            yield Block(Text(f"\n{closing} closes this help.", style="dim"))
