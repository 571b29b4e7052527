"""Wa-tui's Statics: a selection over one always copies, and one updated without a
layout pass when its height does not change.

`Static.update()` asks Textual for a layout of the whole screen by default, which
repaints every pane. When the new content is as tall as the old, a repaint of the widget
alone is enough.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.segment import SegmentLines
from rich.text import Text
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
    """A Static that lays the screen out again only when its content's height changes.

    Knowing the height takes rendering the content. A Rich renderable other than a Text
    (the node detail's tables) is then shown as the lines that rendering made, so it is
    rendered once a change, not again to be painted and again to be measured by the
    layout (a cursor move redraws the detail); it is rendered anew when the width
    changes. A Text is left to Textual, whose own text layout is cheap."""

    _content_height: int | None = None
    _source: RenderableType | None = None  # as given, before it was rendered here
    _rendered_width = 0

    def show_content(self, renderable: RenderableType) -> None:
        width = self.content_size.width or self.size.width
        height = None
        shown = renderable
        if width > 0:
            options = self.app.console_options.update(highlight=False).update_width(width)
            lines = self.app.console.render_lines(renderable, options, pad=False)
            height = len(lines)
            if not isinstance(renderable, Text):
                shown = SegmentLines(lines, new_lines=True)
        same = height is not None and height == self._content_height
        self._content_height, self._source, self._rendered_width = height, renderable, width
        self.update(shown, layout=not same)

    def on_resize(self) -> None:
        if self._source is not None and self.content_size.width != self._rendered_width:
            self.show_content(self._source)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """What the pane shows as plain text: Textual reads only a Text or Content back,
        and this pane shows Rich tables (the node detail)."""
        console = self.app.console
        width = self.content_size.width or 80
        lines = console.render_lines(self.content, console.options.update_width(width))
        return selected_text(plain_lines(lines), selection)
