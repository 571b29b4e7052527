"""The event log: what changed between refreshes, newest first (toggled with `e`).

Drawn with Textual's line API: each change is wrapped into lines once, new changes are
put on top of the lines already made, and only the visible lines are painted. A log of
hundreds of changes costs nothing to keep on screen, where a Rich table of them would be
rendered again whole at every update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from wa_tui.core.text import visible
from wa_tui.model.judgement import Change
from wa_tui.ui.badges import severity_mark
from wa_tui.ui.lines import plain_lines, selected_text, shown_line
from wa_tui.ui.poll_view import PollView

if TYPE_CHECKING:
    from wa_tui.ui.poll_view import Source

TIME_WIDTH = 9  # "17:41:32 "
PREFIX_WIDTH = TIME_WIDTH + 2  # and the severity marker
EMPTY = Text("No changes seen yet.", style="dim")


class EventLog(ScrollView, can_focus=True):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Whose log is drawn (its source: a deployment's watcher, a follower's first
        # frame, a follower replacing a live watcher), and how often it was rewritten.
        self._log: tuple[Source, int] | None = None
        self._seen = 0
        self._width = 0
        self._lines: list[Strip] = []
        self._changes: list[Change] = []
        self._line_counts: list[int] = []  # lines of each change, in the same order

    def reset(self) -> None:
        """Nothing to forget: a log is known by its source (`show`)."""

    def show(self, view: PollView) -> None:
        """The watcher's change log, newest first; work only for what was added."""
        watcher = view.watcher
        drawn, rewrites = self._log or (None, -1)
        if watcher is not drawn or watcher.changes_rewritten != rewrites:
            self._log, self._seen = (watcher, watcher.changes_rewritten), watcher.changes_seen
            self._rewrap(list(watcher.changes))
        elif watcher.changes_seen != self._seen:
            added = min(watcher.changes_seen - self._seen, len(watcher.changes))
            self._seen = watcher.changes_seen
            self._prepend(list(watcher.changes)[:added], keep=len(watcher.changes))
        else:
            return
        self._publish()

    def on_resize(self) -> None:
        if self._width != self._wrap_width():
            self._rewrap(self._changes)
            self._publish()

    def _rewrap(self, changes: list[Change]) -> None:
        self._changes, self._lines, self._line_counts = [], [], []
        self._prepend(changes, keep=len(changes))

    def _prepend(self, new: list[Change], keep: int) -> None:
        """Put `new` on top, then drop the oldest changes (and their lines) past `keep`."""
        wrapped = [self._wrap(change) for change in new]
        self._changes[:0] = new
        self._line_counts[:0] = [len(lines) for lines in wrapped]
        self._lines[:0] = [strip for lines in wrapped for strip in lines]
        while len(self._changes) > keep:
            self._changes.pop()
            del self._lines[len(self._lines) - self._line_counts.pop() :]

    def _publish(self) -> None:
        size = Size(self._width, len(self._lines))
        if size != self.virtual_size:
            self.virtual_size = size  # what scrolls; it changes only when changes come
        self.refresh()

    def _wrap_width(self) -> int:
        return max(self.scrollable_content_region.width, PREFIX_WIDTH + 20)

    def _wrap(self, change: Change) -> list[Strip]:
        """One change as lines of the pane's width: the message wraps under itself."""
        self._width = self._wrap_width()
        message = Text.assemble(
            (f"{change.kind.value}: ", "bold"), visible(change.message, limit=300)
        )
        console = self.app.console
        wrapped = message.wrap(console, self._width - PREFIX_WIDTH)
        strips = []
        for index, line in enumerate(wrapped):
            if index == 0:
                when = change.seen_at.astimezone().strftime("%H:%M:%S")
                prefix = Text.assemble((f"{when} ", "dim"), severity_mark(change.severity), " ")
            else:
                prefix = Text(" " * PREFIX_WIDTH)
            text = prefix + line
            strips.append(Strip(text.render(console), text.cell_len))
        return strips

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if not self._lines and index == 0:
            line = Strip(EMPTY.render(self.app.console), EMPTY.cell_len)
        elif index < len(self._lines):
            line = self._lines[index]
        else:
            return Strip.blank(width, style)
        return shown_line(self, line, index, scroll_x, width)

    def plain_lines(self) -> list[str]:
        return plain_lines(self._lines)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selected_text(self.plain_lines() or [EMPTY.plain], selection)
