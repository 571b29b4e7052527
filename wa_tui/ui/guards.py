"""A screen is dismissed once, however fast the keys or clicks come; and Textual's own
failures reached by ordinary keys and clicks, guarded (README, "Textual's failures
guarded here").

Two events that each dismiss a screen can both be in its queue before the first pop
(`enter enter` in one read over a slow SSH link, a double click): the second `dismiss()`
then pops the screen below, and with the last one gone Textual raises ScreenStackError.
Every wa-tui screen mixes `DismissOnce` in and closes itself with `dismiss_once()` (and
the `dismiss` action, which keys bind); the command palette, Textual's own, gets the same
guard as `Palette`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.command import CommandInput, CommandList, CommandPalette, SearchIcon
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, LoadingIndicator, OptionList

from wa_tui.keys import PALETTE
from wa_tui.ui.bindings import bindings

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    _ScreenBase = Screen[Any]
    _AppBase = App[Any]
else:
    _ScreenBase = _AppBase = object


def _on_top(screen: Screen[Any]) -> bool:
    """The screen may dismiss itself or start work: it is on top of another, and
    quitting has not begun."""
    app = screen.app
    return (
        screen.is_active
        and screen.is_attached
        and len(app.screen_stack) > 1
        and app.return_code is None  # quitting: nothing more starts
    )


class SizedToTerminal(_ScreenBase):
    """Mixed into every wa-tui screen: a Resize for a size the terminal no longer has
    is dropped.

    Textual 8.2.8 lays a screen out at the size its Resize carries, and when that
    changes the screen's own size it posts the screen a Resize of that size again. Two
    Resizes of different sizes in a screen's queue, with other messages between them
    (its repaints, deferred while the app batches updates, as a Footer's recompose
    does), then answer each other without end: the monkey's replay at 61x68 with the
    fleet under the palette grew to gigabytes.
    """

    def on_resize(self, event: events.Resize) -> None:
        if event.size != self.app.size:
            event.prevent_default()  # Screen's own layout at that size stands down


class DismissOnce(SizedToTerminal):
    """Mixed into a Screen: the first dismissal counts, later ones are dropped."""

    _dismissal_claimed = False

    def dismiss_once(self, result: Any = None) -> None:
        if self._claim_dismissal():
            self.dismiss(result)

    async def action_dismiss(self, result: Any = None) -> None:
        if self._claim_dismissal():
            await super().action_dismiss(result)

    def _claim_dismissal(self) -> bool:
        """True for the first dismissal while the screen is on top; False after it."""
        if self._dismissal_claimed or not _on_top(self):
            return False
        self._dismissal_claimed = True
        return True

    def on_screen_resume(self) -> None:
        # A screen shown again (pushed anew, or uncovered) may be dismissed again.
        self._dismissal_claimed = False


PLACEHOLDER = "Search for commands…"  # Textual's own words


class Palette(SizedToTerminal, CommandPalette):
    """Textual's command palette, dismissed once. Textual 8.2.8 dismisses it on every
    click outside it and on every enter: a double click, or `enter enter` in one read,
    popped the screen below it too (ScreenStackError)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(PALETTE)
    _shut_by_click = False  # a click outside has closed it

    def _after_dismissal(self, event: Message) -> None:
        if not _on_top(self):  # dismissed, or the app quits
            event.prevent_default()

    on_mount = _after_dismissal  # its search starts at mount: not once it is gone
    on_input_submitted = _after_dismissal
    on_input_changed = _after_dismissal
    on_button_pressed = _after_dismissal
    on_option_list_option_selected = _after_dismissal

    def on_click(self, event: events.Click) -> None:
        """A click outside it closes it, once, and only while a screen is left below it:
        Textual's own closing, which the soak still met with a single screen left
        (ScreenStackError), stands down."""
        event.prevent_default()
        if not _on_top(self) or self._shut_by_click:
            return
        widget, _ = self.get_widget_and_offset_at(event.screen_x, event.screen_y)
        if widget is self:
            self._shut_by_click = True
            self.workers.cancel_node(self)  # its search
            self.app.post_message(CommandPalette.Closed(option_selected=False))
            self.dismiss()

    def on_screen_suspend(self) -> None:
        # Its search runs in a worker that looks its list up first: one still to start
        # when the palette is closed or the app quits (ctrl+p x ctrl+q in one read)
        # found none and failed.
        self.workers.cancel_node(self)

    on_unmount = on_screen_suspend

    def compose(self) -> ComposeResult:
        """Textual's palette (CommandPalette.compose, 8.2.8), with its list guarded."""
        with Vertical(id="--container"):
            with Horizontal(id="--input"):
                yield SearchIcon()
                yield CommandInput(placeholder=PLACEHOLDER, select_on_focus=False)
                if not self.run_on_select:
                    yield Button("\u25b6")
            with Vertical(id="--results"):
                yield _CommandList()
                yield LoadingIndicator()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Textual's own page bindings stay in the map beside ours: theirs stand down.
        if action == "command_list" and parameters[:1] in (("page_up",), ("page_down",)):
            return False
        # Its list keys once its list is gone (the key came with the one closing it).
        if action in ("command_list", "cursor_down") and not self.query(CommandList):
            return False
        return super().check_action(action, parameters)

    def action_page(self, action: str) -> None:
        # Its list is gone once it is being taken down (the page key came with escape).
        for command_list in self.query(CommandList):
            with contextlib.suppress(KeyError):  # see PagedOptionList
                getattr(command_list, f"action_{action}")()


class _StaleClicks(OptionList):
    """A click on an option the list no longer has is dropped: the frame it was aimed
    at drew the list before it changed (the palette's list emptied as a new search
    began), and Textual 8.2.8 looks the option up (IndexError)."""

    def on_click(self, event: events.Click) -> None:
        option = event.style.meta.get("option")
        if isinstance(option, int) and option >= self.option_count:
            event.prevent_default()


class _CommandList(CommandList, _StaleClicks):
    """The palette's list of commands, its stale clicks dropped. (CommandList first:
    Textual's queries and CSS know a widget by its first bases.)"""


class PagedOptionList(_StaleClicks):
    """An option list whose page keys are safe before its first layout: Textual 8.2.8
    pages from the lines it lays the options out on, and a page key that comes before
    that layout (the key that opened the list, then pgup, in one read) raises KeyError
    inside Textual."""

    def action_page_up(self) -> None:
        with contextlib.suppress(KeyError):
            super().action_page_up()

    def action_page_down(self) -> None:
        with contextlib.suppress(KeyError):
            super().action_page_down()


class GuardedApp(_AppBase):
    """Mixed into every wa-tui App: the guarded palette, and no key or mouse event
    handled once the last screen is gone (`q` and more keys in one read: Textual 8.2.8
    looks for the screen after quitting has emptied the stack, ScreenStackError)."""

    def action_command_palette(self) -> None:
        # No id, as Textual gives its own: one just closed keeps it until it is removed,
        # and opening another meanwhile (ctrl+p x escape ctrl+p in one read) failed
        # (DuplicateIds, Textual 8.2.8).
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette())

    async def action_quit(self) -> None:
        # An open palette's first search may be yet to start. As the screens are taken
        # down its list is removed first, and that search then failed (WorkerFailed,
        # Textual 8.2.8: ctrl+p ctrl+q in one read).
        for screen in self.screen_stack:
            if isinstance(screen, CommandPalette):
                self.workers.cancel_node(screen)
        await super().action_quit()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseEvent) and not self.screen_stack:
            return  # quitting has taken the screens down: nothing is there to act
        if isinstance(event, events.MouseDown) and _on_removed_widget(self.screen, event):
            return
        await super().on_event(event)


def _on_removed_widget(screen: Screen[Any], event: events.MouseDown) -> bool:
    """The press lands on a widget just removed (a pane redrawn as the click came):
    Textual 8.2.8 starts a text selection in its parent, which is gone (AttributeError)."""
    widget, offset = screen.get_widget_and_offset_at(event.x, event.y)
    return widget is not None and offset is not None and widget.parent is None
