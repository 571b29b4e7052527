"""What the line-API panes (node list, topology, event log) share: a kept line fitted to
the pane, and the pane read back as text."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual.strip import Strip


def fitted(line: Strip, style: Style, scroll_x: int, width: int) -> Strip:
    """`line` under the pane's colours (cached per style by Strip), cut to what shows."""
    return line.apply_style(style).crop_extend(scroll_x, scroll_x + width, style)


def plain_lines(strips: Iterable[Strip]) -> list[str]:
    """Lines as plain text, top to bottom (for tests, and for copying)."""
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]
