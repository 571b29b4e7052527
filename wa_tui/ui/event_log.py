"""The event log: what changed between refreshes, newest first (toggled with `e`).

Drawn with Textual's line API: each change is wrapped into lines once, new changes are
put on top of the lines already made, and only the visible lines are painted. A log of
hundreds of changes costs nothing to keep on screen (a Rich table of them took ~0.4 s to
re-render on every update, measured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wa_tui.analysis import Change
from wa_tui.text import visible
from wa_tui.ui.badges import SEVERITY_LOOK

if TYPE_CHECKING:
    from wa_tui.ui.watch import Watch

TIME_WIDTH = 9  # "17:41:32 "
PREFIX_WIDTH = TIME_WIDTH + 2  # and the severity marker
EMPTY = Text("No changes seen yet.", style="dim")


class EventLog(ScrollView, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._watch_name: str | None = None
        self._seen = 0
        self._width = 0
        self._lines: list[Strip] = []
        self._changes: list[Change] = []
        self._line_counts: list[int] = []  # lines of each change, in the same order

    def show(self, watch: Watch) -> None:
        """The watch's change log, newest first; work only for what was added."""
        if watch.name != self._watch_name:
            self._watch_name, self._seen = watch.name, watch.changes_seen
            self._rewrap(list(watch.changes))
        elif watch.changes_seen != self._seen:
            added = min(watch.changes_seen - self._seen, len(watch.changes))
            self._seen = watch.changes_seen
            self._prepend(list(watch.changes)[:added], keep=len(watch.changes))
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
            # The pane's size is set by the layout; a longer log changes only what
            # scrolls. Setting `virtual_size` would ask for a layout pass, which repaints
            # every pane of the screen at each change: update it, and the scrollbar, as
            # ScrollView does when it is resized without a layout.
            self.set_reactive(EventLog.virtual_size, size)
            self._scroll_update(size)
        self.refresh()

    def _wrap_width(self) -> int:
        return max(self.scrollable_content_region.width, PREFIX_WIDTH + 20)

    def _wrap(self, change: Change) -> list[Strip]:
        """One change as lines of the pane's width: the message wraps under itself."""
        self._width = self._wrap_width()
        marker, _, style = SEVERITY_LOOK[change.severity]
        message = Text.assemble(
            (f"{change.kind.value}: ", "bold"), visible(change.message, limit=300)
        )
        console = self.app.console
        wrapped = message.wrap(console, self._width - PREFIX_WIDTH)
        strips = []
        for index, line in enumerate(wrapped):
            if index == 0:
                when = change.seen_at.astimezone().strftime("%H:%M:%S")
                prefix = Text.assemble((f"{when} ", "dim"), (f"{marker} ", style))
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
        # The pane's colours under the line's own (cached per style by Strip).
        return line.apply_style(style).crop_extend(scroll_x, scroll_x + width, style)

    def plain_lines(self) -> list[str]:
        """The log as plain text, top to bottom."""
        return ["".join(segment.text for segment in strip).rstrip() for strip in self._lines]
