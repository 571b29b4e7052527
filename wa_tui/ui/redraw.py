"""Updating a Static without a layout pass when its height does not change.

`Static.update()` asks Textual for a layout of the whole screen by default, which
repaints every pane. When the new content is as tall as the old, a repaint of the widget
alone is enough.
"""

from __future__ import annotations

from rich.console import RenderableType
from textual.selection import Selection
from textual.widgets import Static

from wa_tui.ui.lines import plain_lines, selected_text


class SizedStatic(Static):
    """A Static that lays the screen out again only when its content's height changes."""

    _content_height: int | None = None

    def show_content(self, renderable: RenderableType) -> None:
        width = self.content_size.width or self.size.width
        height = None
        if width > 0:
            console = self.app.console
            height = len(console.render_lines(renderable, console.options.update_width(width)))
        same = height is not None and height == self._content_height
        self._content_height = height
        self.update(renderable, layout=not same)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """What the pane shows as plain text: Textual reads only a Text or Content back,
        and this pane shows Rich tables (the node detail)."""
        console = self.app.console
        width = self.content_size.width or 80
        lines = console.render_lines(self.content, console.options.update_width(width))
        return selected_text(plain_lines(lines), selection)
