"""`s`: pick the deployment to show, like k9s contexts. Each keeps polling meanwhile."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from wa_tui.analysis import Severity
from wa_tui.text import visible
from wa_tui.ui.badges import SEVERITY_LOOK
from wa_tui.ui.watch import Watch


def watch_label(watch: Watch) -> Text:
    severity = watch.severity
    if watch.status.snapshot is None and watch.status.error is None:
        badge = Text("… ", style="dim")
    elif severity is None or severity is Severity.INFO:
        badge = Text("✔ ", style="green")
    else:
        marker, _, style = SEVERITY_LOOK[severity]
        badge = Text(f"{marker} ", style=style)
    state = visible(watch.status.error, limit=45) if watch.status.error else ""
    return Text.assemble(
        badge,
        (f"{visible(watch.name, limit=30):<30} ", "bold"),
        (visible(watch.target.url, limit=40), "dim"),
        (f"  {state}", "red"),
    )


class DeploymentSwitcher(ModalScreen[str | None]):
    BINDINGS = [Binding("escape,s", "dismiss", "Close")]  # noqa: RUF012

    def __init__(self, watches: Sequence[Watch], current: str) -> None:
        super().__init__()
        self._watches = watches
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher"):
            yield Static(Text("Deployments (enter shows one, escape closes)", style="bold"))
            options = [Option(watch_label(w), id=w.name) for w in self._watches]
            yield OptionList(*options, id="deployments")

    def on_mount(self) -> None:
        names = [w.name for w in self._watches]
        self.query_one(OptionList).highlighted = names.index(self._current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
