"""A yes/no question that defaults to no (used before revealing secrets)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen

from wa_tui.keys import CONFIRM
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.redraw import Block


class ConfirmScreen(DismissOnce, ModalScreen[bool]):
    BINDINGS = bindings(CONFIRM)

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Block(Text(self.question, style="bold"))
            yield Block(Text("y: yes · n, escape or enter: no", style="dim"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss_once(yes)
