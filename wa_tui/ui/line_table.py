"""A table drawn with Textual's line API: the node list and the fleet are two of these.

Rows are keyed (a node id, a deployment name); each is rendered once into a strip and
kept until something it shows changes; only rows on screen are ever rendered, and a
refresh repaints just the lines of the rows that changed. The cursor stays on its key
when rows move. (Textual's DataTable re-renders every row on any cell update, and
painted its rows up to four times on the first frame: benchmarks/README.md.)

A subclass says what its columns are and, for each row, what it is drawn from; `put`
and `arrange_rows` do the rest.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from wa_tui.ui.lines import plain_lines, selected_text, shown_line

HEADER_LINES = 1  # the column labels, which stay put while the rows scroll

# A cell as compared between refreshes: its text and its style.
CellKey = tuple[str, str]


def cell_key(cell: Text) -> CellKey:
    return (cell.plain, str(cell.style))


@dataclass
class Row:
    """One row: what it was drawn from, its cells, and its render once made."""

    source: tuple[object, ...]  # what it was drawn from (the same objects while unchanged)
    inputs: tuple[object, ...]  # everything the cells were made of, cheap to compare
    cells: dict[str, Text]
    strip: Strip | None = None  # rendered at the current column widths, when first shown
    widths: tuple[int, ...] = field(init=False)  # of its cells (measured once: 1,000 rows)

    def __post_init__(self) -> None:
        self.widths = tuple(cell.cell_len for cell in self.cells.values())


@dataclass
class RowMessage(Message):
    """About one row of a table (`@on(..., "#id")` picks the table)."""

    table: LineTable
    key: str

    @property
    def control(self) -> LineTable:
        return self.table


class LineTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-table--header", "line-table--cursor"}
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()  # (key, label), left to right
    SHORT_LABELS: ClassVar[dict[str, str]] = {}  # labels when short (see set_variant)

    class Highlighted(RowMessage):
        """The cursor moved to another row."""

    class Selected(RowMessage):
        """Enter (or a click) on a row."""

    # The row the cursor is on (its key keeps it across refreshes: see arrange_rows). Not a
    # repaint of the whole table when it moves: watch_cursor_row repaints its two lines.
    cursor_row: reactive[int] = reactive(0, init=False, repaint=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, Row] = {}
        self._order: list[str] = []  # keys, top to bottom
        self._shown = tuple(range(len(self.COLUMNS)))  # the columns drawn, by index
        self._short = False  # short labels, and what else a subclass shortens
        self._widths = self._header_widths()
        self._header: Strip | None = None
        self.cell_updates = 0  # how many cells refreshes have rewritten (for tests, benchmarks)
        self.rows_rendered = 0  # how many row strips were made (for tests, benchmarks)

    # -- what tests, the app and the help read -------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_key(self) -> str | None:
        return self._order[self.cursor_row] if self._order else None

    @property
    def keys(self) -> list[str]:
        """The rows' keys, top to bottom."""
        return list(self._order)

    def cells(self, key: str) -> dict[str, Text]:
        """What the row of `key` shows, by column key."""
        return dict(self._rows[key].cells)

    def move_to(self, key: str) -> None:
        """Put the cursor on the row of `key`."""
        self.move_cursor(self._order.index(key))

    # -- for subclasses: the header, and bringing the rows up to date ---------------------

    def header_cells(self) -> Mapping[str, Text]:
        labels = dict(self.COLUMNS) | (self.SHORT_LABELS if self._short else {})
        return {key: Text(label) for key, label in labels.items()}

    def _header_widths(self) -> tuple[int, ...]:
        return tuple(cell.cell_len for cell in self.header_cells().values())

    def put(
        self,
        key: str,
        source: tuple[object, ...],
        inputs: Callable[[], tuple[object, ...]],
        cells: Callable[[], dict[str, Text]],
    ) -> bool:
        """The row of `key`, drawn from `source`: its cells made again only if `inputs()`
        differ from the last ones (not even asked when `source` holds the very objects it
        held last time), and drawn again only if a cell did change. True if one did."""
        row = self._rows.get(key)
        if row is not None and all(map(operator.is_, row.source, source)):
            return False
        made_of = inputs()
        if row is not None and row.inputs == made_of:
            row.source = source  # read again, but nothing this row shows has changed
            return False
        new = cells()
        if row is None:
            self.cell_updates += len(new)
        else:
            differ = sum(cell_key(cell) != cell_key(row.cells[c]) for c, cell in new.items())
            if not differ:  # what it is made of changed, not what it shows (a rounding)
                row.source, row.inputs = source, made_of
                return False
            self.cell_updates += differ
        self._rows[key] = Row(source, made_of, new)
        return True

    def arrange_rows(self, order: list[str], changed: list[str]) -> None:
        """The rows are now `order` (rows `put` but not in it are dropped); `changed`:
        those `put` made again. The cursor stays on its key; only what changed is
        repainted, unless rows moved or a column widened."""
        selected = self.selected_key
        for gone in self._rows.keys() - set(order):
            del self._rows[gone]
        reordered = order != self._order
        self._order = order
        if selected in self._rows:
            # The same row as before, in its new place: nothing to announce.
            self.set_reactive(LineTable.cursor_row, order.index(selected))
        self.set_reactive(LineTable.cursor_row, self.validate_cursor_row(self.cursor_row))
        widened = (changed or reordered) and self._set_widths(self._measure())
        if reordered or widened:
            self._resize()
            self._scroll_to_cursor()
        else:
            index = {key: row for row, key in enumerate(order)}
            for key in changed:
                self.refresh_line(index[key] + HEADER_LINES)

    def clear(self) -> None:
        """No rows at all, the cursor back on top."""
        self._rows, self._order = {}, []
        self.set_reactive(LineTable.cursor_row, 0)
        self._set_widths(self._header_widths())
        self._resize()

    def set_variant(self, columns: tuple[str, ...], short: bool) -> bool:
        """Draw only `columns` (by key), short or not (the terminal's size decides). True
        if that changed: every row is then dropped, to be made again by the next `put`s
        (the cursor stays where it is)."""
        shown = tuple(i for i, (key, _) in enumerate(self.COLUMNS) if key in columns)
        if (shown, short) == (self._shown, self._short):
            return False
        self._shown, self._short = shown, short
        self._rows, self._header = {}, None
        self._set_widths(self._header_widths())
        return True

    def _measure(self) -> tuple[int, ...]:
        """Each column as wide as its widest cell or label."""
        rows = (row.widths for row in self._rows.values())
        return tuple(max(column) for column in zip(self._header_widths(), *rows, strict=True))

    def _resize(self) -> None:
        """Rows came, went or moved, or columns widened: the scrollable size (a layout
        of the screen, so only then), and every line repainted."""
        # a space either side of each cell
        width = sum(self._widths[i] for i in self._shown) + 2 * len(self._shown)
        self.virtual_size = Size(width, HEADER_LINES + len(self._order))
        self.refresh()

    def _set_widths(self, widths: tuple[int, ...]) -> bool:
        """Adopt new column widths; every row is then rendered again. True if they changed."""
        if widths == self._widths:
            return False
        self._widths, self._header = widths, None
        for row in self._rows.values():
            row.strip = None
        return True

    # -- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y < HEADER_LINES:
            line = self._header_strip().apply_style(
                self.get_component_rich_style("line-table--header")
            )
            text_y = y
        elif (index := scroll_y + y - HEADER_LINES) < len(self._order):
            line = self._row_strip(self._order[index])
            if index == self.cursor_row:
                line = line.apply_style(self.get_component_rich_style("line-table--cursor"))
            text_y = index + HEADER_LINES
        else:
            return Strip.blank(width, base)
        return shown_line(self, line, text_y, scroll_x, width)

    def _header_strip(self) -> Strip:
        if self._header is None:
            self._header = self._render_cells(self.header_cells())
        return self._header

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The header and every row, as the table draws them (rows off screen are
        rendered for it)."""
        strips = [self._header_strip(), *(self._row_strip(key) for key in self._order)]
        return selected_text(plain_lines(strips), selection)

    def _row_strip(self, key: str) -> Strip:
        row = self._rows[key]
        if row.strip is None:
            row.strip = self._render_cells(row.cells)
            self.rows_rendered += 1
        return row.strip

    def _render_cells(self, cells: Mapping[str, Text]) -> Strip:
        """Cells side by side, each padded to its column's width with a space either side."""
        line = Text()
        for index in self._shown:
            cell, width = cells[self.COLUMNS[index][0]], self._widths[index]
            line.append(" ")
            line.append_text(cell)
            line.append(" " * (width - cell.cell_len + 1))
        return Strip(line.render(self.app.console), line.cell_len)

    # -- the cursor ---------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._order) - 1))

    def watch_cursor_row(self, before: int, row: int) -> None:
        """The cursor moved: repaint the two lines, keep it in view, say which row."""
        if not self._order:
            return
        self.refresh_line(before + HEADER_LINES)
        self.refresh_line(row + HEADER_LINES)
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self, self._order[row]))

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped)."""
        self.cursor_row = row

    def _scroll_to_cursor(self) -> None:
        rows_in_view = max(1, self.scrollable_content_region.height - HEADER_LINES)
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + rows_in_view:
            self.scroll_to(y=self.cursor_row - rows_in_view + 1, animate=False)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - HEADER_LINES - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def action_select(self) -> None:
        if self._order:
            self.post_message(self.Selected(self, self._order[self.cursor_row]))

    def row_at(self, event: events.MouseEvent) -> int | None:
        """The row under the pointer, if any."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_LINES:
            return None
        row = round(self.scroll_y) + offset.y - HEADER_LINES
        return row if row < len(self._order) else None

    def on_click(self, event: events.Click) -> None:
        row = self.row_at(event)
        if row is not None:
            self.move_cursor(row)
            self.action_select()
