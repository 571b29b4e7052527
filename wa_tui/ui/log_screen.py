"""`l`: one node's log on a screen of its own, streamed from its `logs_command`
(wa_tui/api/node_logs.py), newest at the bottom.

The view is Textual's line API: the last KEPT_LINES lines are kept as text and only the
rows on screen are painted, so a chatty container costs a batch append, not a redraw of
thousands of lines. `f` follows the newest line (scrolling up stops following, `G`
starts again); `/` searches, `n` / `N` move between matches; ERROR and WARN lines are
marked. Closing the screen ends the command's process group.
"""

from __future__ import annotations

import re
from collections import deque

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Input

from wa_tui.api.node_logs import KEPT_LINES, Level, LogStream, level_of
from wa_tui.core.text import visible
from wa_tui.keys import LOGS
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.lines import selected_text, shown_line
from wa_tui.ui.redraw import Block

LEVEL_STYLES = {Level.ERROR: Style(color="red", bold=True), Level.WARNING: Style(color="yellow")}
MATCH_STYLE = Style(reverse=True)
CURRENT_MATCH_STYLE = Style(bgcolor="dark_blue")


class LogView(ScrollView, can_focus=True):
    """The kept lines, the rows on screen painted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._levels: deque[Level] = deque(maxlen=KEPT_LINES)
        self.dropped = 0  # lines let go from the top, to keep KEPT_LINES
        self.following = True
        self.pattern: re.Pattern[str] | None = None
        self.current_match: int | None = None  # index into lines
        self._widest = 0

    def add(self, batch: list[str]) -> None:
        overflow = max(len(self.lines) + len(batch) - KEPT_LINES, 0)
        self.lines.extend(batch)
        self._levels.extend(level_of(line) for line in batch)
        self.dropped += overflow
        self._widest = max(self._widest, *(len(line) for line in batch))
        if self.current_match is not None:
            self.current_match = self.current_match - overflow
            if self.current_match < 0:
                self.current_match = None
        self.virtual_size = Size(self._widest, len(self.lines))
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif overflow:  # what was on screen moved up: the view follows it
            self.scroll_to(y=max(self.scroll_y - overflow, 0), animate=False, immediate=True)
        self.refresh()

    def on_resize(self) -> None:
        """Laid out anew (the first time, or the terminal resized): the newest line stays
        in view while following."""
        if self.following:
            self.call_after_refresh(self.to_end)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        text = Text(self.lines[index])
        level = LEVEL_STYLES.get(self._levels[index])
        if level is not None:  # a span: Text.render leaves a Text's own style out
            text.stylize(level)
        if self.pattern is not None:
            text.highlight_regex(self.pattern, MATCH_STYLE)
            if index == self.current_match:
                text.stylize(CURRENT_MATCH_STYLE)
        strip = Strip(text.render(self.app.console), text.cell_len)
        return shown_line(self, strip, index, scroll_x, width)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selected_text(list(self.lines), selection)

    # -- moving -------------------------------------------------------------------------

    def move(self, rows: int) -> None:
        self.scroll_to(y=self.scroll_y + rows, animate=False, immediate=True)
        self.following = self.scroll_y >= self.max_scroll_y

    def to_end(self) -> None:
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def to_top(self) -> None:
        self.following = False
        self.scroll_home(animate=False, immediate=True, x_axis=False)

    def search(self, pattern: str) -> int:
        """Mark `pattern` (a literal, case-insensitive) and go to its last match; the
        number of lines that match."""
        self.pattern = re.compile(re.escape(pattern), re.I) if pattern else None
        self.current_match = None
        self.refresh()
        if self.pattern is None:
            return 0
        self.next_match(forward=False, start=len(self.lines))
        return sum(1 for line in self.lines if self.pattern.search(line))

    def next_match(self, forward: bool = True, start: int | None = None) -> bool:
        """Go to the next match (`forward`) or the one before; False when there is none."""
        if self.pattern is None or not self.lines:
            return False
        here = start if start is not None else self.current_match
        if here is None:
            here = round(self.scroll_y) + (-1 if forward else self.scrollable_content_region.height)
        step = 1 if forward else -1
        index = here + step
        while 0 <= index < len(self.lines):
            if self.pattern.search(self.lines[index]):
                self.current_match = index
                self.following = False
                middle = max(index - self.scrollable_content_region.height // 2, 0)
                self.scroll_to(y=middle, animate=False, immediate=True)
                self.refresh()
                return True
            index += step
        return False


class LogScreen(DismissOnce, ModalScreen[None]):
    BINDINGS = bindings(LOGS)
    HELP_GROUPS = (("Log", LOGS),)

    def __init__(self, node_id: str, command: list[str]) -> None:
        super().__init__()
        self.node_id = node_id
        self.stream = LogStream(command)
        self._matches: int | None = None
        # Made here, not queried: a key or a batch may come while the screen is still
        # being composed or already taken down (`l q` in one read).
        self._view = LogView(id="log")
        self._search = Input(placeholder="search (enter: go, escape: cancel)", id="log-search")
        self._status = Block(id="log-status")

    def compose(self) -> ComposeResult:
        shown = " ".join(visible(part, limit=80) for part in self.stream.command)
        yield Block(Text(f"Log · {visible(self.node_id, limit=60)} · {shown}"), id="log-title")
        yield self._view
        yield self._search
        yield self._status

    def on_mount(self) -> None:
        self._search.display = False
        self.set_focus(self._view)
        self.run_worker(self._read, group="log", exclusive=True, exit_on_error=False)
        self._show_status()

    async def _read(self) -> None:
        view = self._view
        async for batch in self.stream.batches():
            if not self.is_attached:
                break
            view.add(batch)
            self._show_status()

    def on_unmount(self) -> None:
        self.stream.stop()

    def _show_status(self) -> None:
        view = self._view
        parts = [
            "following" if view.following else "paused (f or G: follow)",
            f"{len(view.lines):,} lines"
            + (f" ({view.dropped:,} older let go)" if view.dropped else ""),
        ]
        if view.pattern is not None:
            parts.append(f"/{view.pattern.pattern}: {self._matches or 0} lines match (n / N)")
        if self.stream.ended:
            parts.append(self.stream.ended)
        self._status.update(Text(" · ".join(parts), style="dim"))

    # -- keys ---------------------------------------------------------------------------

    def action_close(self) -> None:
        search = self._search
        if search.display:  # escape leaves the search first
            search.display = False
            self.set_focus(self._view)
            return
        self.stream.stop()
        self.dismiss_once()

    def action_toggle_follow(self) -> None:
        view = self._view
        if view.following:
            view.following = False
        else:
            view.to_end()
        self._show_status()

    def action_search(self) -> None:
        """Focus moves at once, not after the next refresh as `Widget.focus` does: `/`
        and the pattern typed after it in one read go to the search."""
        search = self._search
        search.display = True
        self.set_focus(search)

    @on(Input.Submitted, "#log-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.input.display = False
        view = self._view
        self._matches = view.search(event.value)
        self.set_focus(view)
        self._show_status()

    def action_next_match(self) -> None:
        self._match(forward=True)

    def action_previous_match(self) -> None:
        self._match(forward=False)

    def _match(self, forward: bool) -> None:
        view = self._view
        if not view.next_match(forward):
            self.notify("no more matches" if view.pattern else "no search: / searches")
        self._show_status()

    def action_scroll_down(self) -> None:
        self._move(1)

    def action_scroll_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(self._view.scrollable_content_region.height)

    def action_page_up(self) -> None:
        self._move(-self._view.scrollable_content_region.height)

    def _move(self, rows: int) -> None:
        self._view.move(rows)
        self._show_status()

    def action_scroll_home(self) -> None:
        self._view.to_top()
        self._show_status()

    def action_scroll_end(self) -> None:
        self._view.to_end()
        self._show_status()
