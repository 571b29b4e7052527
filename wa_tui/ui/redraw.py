"""Wa-tui's Statics: a selection over one always copies, and one updated without a
layout pass when its height does not change.

`Static.update()` asks Textual for a layout of the whole screen by default, which
repaints every pane. When the new content is as tall as the old, a repaint of the widget
alone is enough.
"""

from __future__ import annotations

from rich.console import RenderableType
from textual.selection import Selection
from textual.widgets import Static

from wa_tui.ui.lines import plain_lines, selected_text


class Block(Static):
    """Every Static of wa-tui's: a mouse selection over it copies what it shows.

    Textual 8.2.8's `Selection.extract` indexes the line a selection ends on: a selection
    made before the widget's content got shorter (the vitals losing a line, a finding
    cleared) raised IndexError at ctrl+c. Such a selection lies past the text: it copies
    nothing from this widget."""

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        try:
            return super().get_selection(selection)
        except IndexError:
            return None


class SizedStatic(Block):
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
