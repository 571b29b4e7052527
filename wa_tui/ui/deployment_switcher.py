"""`s`: pick the deployment to show, like k9s contexts. Each keeps polling meanwhile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wa_tui.core.text import visible
from wa_tui.keys import SWITCHER
from wa_tui.model.judgement import Severity
from wa_tui.ui.badges import severity_mark
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce, PagedOptionList
from wa_tui.ui.redraw import Block

if TYPE_CHECKING:
    from wa_tui.watch.watcher import Watcher


def watcher_label(watcher: Watcher) -> Text:
    severity = watcher.severity
    if watcher.snapshot is None and watcher.status.error is None:
        badge = Text("…", style="dim")
    elif severity is None or severity is Severity.INFO:
        badge = Text("✔", style="green")
    else:
        badge = severity_mark(severity)
    error = watcher.status.error
    return Text.assemble(
        badge,
        " ",
        (f"{visible(watcher.name, limit=30):<30} ", "bold"),
        (visible(watcher.target.url, limit=40), "dim"),
        (f"  {visible(error, limit=45) if error else ''}", "red"),
    )


class DeploymentSwitcher(DismissOnce, ModalScreen[str | None]):
    BINDINGS = bindings(SWITCHER)

    def __init__(self, watchers: Sequence[Watcher], current: str) -> None:
        super().__init__()
        self._watchers = watchers
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher"):
            yield Block(Text("Deployments (enter shows one, escape closes)", style="bold"))
            labels = [Option(watcher_label(w), id=w.name) for w in self._watchers]
            options = PagedOptionList(*labels, id="deployments")
            # Set here, not once mounted: `s q` in one read unmounts it before then.
            options.highlighted = [w.name for w in self._watchers].index(self._current)
            yield options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss_once(event.option.id)
