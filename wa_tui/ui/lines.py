"""What the line-API panes (node list, topology, event log) share: a kept line fitted to
the pane, marked for mouse selection, and the pane read back as text (for tests, and
for ctrl+c after a drag: what the pane shows goes to the clipboard)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget


def fitted(line: Strip, style: Style, scroll_x: int, width: int) -> Strip:
    """`line` under the pane's colours (cached per style by Strip), cut to what shows."""
    return line.apply_style(style).crop_extend(scroll_x, scroll_x + width, style)


def shown_line(widget: Widget, line: Strip, y: int, scroll_x: int, width: int) -> Strip:
    """`line`, the `y`th of the pane's text, as painted: the part a mouse drag selected
    highlighted, fitted to the pane, and marked with where its text lies (so a drag
    maps to characters, as in Textual's own Log)."""
    selection = widget.text_selection
    if selection is not None and (span := selection.get_span(y)) is not None:
        start, end = span
        end = line.cell_length if end == -1 else end
        highlight = widget.screen.get_component_rich_style("screen--selection")
        middle = line.crop(start, end).apply_style(highlight)
        line = Strip.join([line.crop(0, start), middle, line.crop(end)])
    return fitted(line, widget.rich_style, scroll_x, width).apply_offsets(scroll_x, y)


def plain_lines(lines: Iterable[Iterable[Segment]]) -> list[str]:
    """Lines (strips, or Rich's rendered lines) as plain text, top to bottom (for tests,
    and for copying)."""
    return ["".join(segment.text for segment in line).rstrip() for line in lines]


def selected_text(lines: list[str], selection: Selection) -> tuple[str, str]:
    """What `get_selection` hands Textual: the selected part of the pane's lines.

    Textual 8.2.8's `Selection.extract` looks up the line a selection starts on, and
    its text loses a last empty line: a selection made before the pane got shorter, or
    on an empty last line, raised IndexError. The lines are padded to the selection and
    closed by a line that is not empty, which the text then drops."""
    ends = [offset.y for offset in (selection.start, selection.end) if offset is not None]
    padding = [""] * (max(ends, default=0) + 1 - len(lines))
    text = "\n".join([*lines, *padding, SENTINEL])
    return selection.extract(text).removesuffix(SENTINEL).rstrip("\n"), "\n"


SENTINEL = "\x00"  # never in a pane's text: control characters are drawn visible
