"""The messages the dashboard's parts send each other, in one place (Harlequin's way):
what a watcher publishes reaches the screens as messages, posted from the watcher's task,
so a screen already gone draws nothing. A widget's own messages (the line table's row
messages) stay with the widget, as Textual's do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from wa_tui.watch.state import Update


class PanesReady(Message):
    """The dashboard's panes are there: the app may start filling them."""


class Polled(Message):
    """A watcher's poll ended (posted by the app, which subscribes to every watcher)."""

    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class ShownPolledAgain(Message):
    """The deployment a screen shows was polled again (the webhook screen redraws)."""


class StatusChanged(Message):
    """A watcher's status changed: the status line follows."""
