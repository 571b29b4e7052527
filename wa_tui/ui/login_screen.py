"""Asked at start for a deployment with a username but no way to get its password.

The input is masked and never echoed; the password lives only in memory, for the logins
of this session, and is never written anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from wa_tui.core.text import visible
from wa_tui.keys import LOGIN
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.redraw import Block

if TYPE_CHECKING:
    from wa_tui.watch.targets import Target


class LoginScreen(DismissOnce, ModalScreen[str | None]):
    BINDINGS = bindings(LOGIN)

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical(id="login"):
            yield Block(Text(f"Log in to {visible(self.target.name)}", style="bold"))
            user = visible(self.target.credentials.username or "")
            yield Block(Text(f"{visible(self.target.url)} as {user}", style="dim"))
            yield Input(password=True, placeholder="password", id="password")
            yield Block(
                Text("enter logs in · escape skips · the password is never stored", style="dim")
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value:
            self.dismiss_once(event.value)

    def action_skip(self) -> None:
        self.dismiss_once(None)
