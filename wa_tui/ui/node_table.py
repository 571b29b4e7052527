"""The node list: one row per host:container, drawn with Textual's line API.

Each row is rendered once into a strip and kept until something it shows changes; only
the rows on screen are ever rendered, and a refresh repaints just the lines of the rows
that changed. A refresh never moves the cursor off its node: rows are keyed by node id.
(Textual's DataTable re-rendered every row on any cell update, and painted its rows up
to four times on the first frame: benchmarks/README.md.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wa_tui.analysis import Severity
from wa_tui.models import DeploymentKind, Node, Snapshot
from wa_tui.text import visible
from wa_tui.ui.badges import (
    gateway_badge,
    role_badge,
    severity_badge,
    shards_label,
    socket_badge,
)
from wa_tui.ui.lines import fitted

COLUMNS = (
    ("severity", "!"),
    ("id", "Node (host:container)"),
    ("role", "Role"),
    ("socket", "Socket"),
    ("shards", "Shards"),
    ("build", "Build"),
    ("gateway", "Gateway"),
)
HEADER = {key: Text(label) for key, label in COLUMNS}
HEADER_WIDTHS = tuple(label.cell_len for label in HEADER.values())
# With short names (a medium or narrow terminal) the labels are short too.
SHORT_HEADER = {**HEADER, "id": Text("Node"), "gateway": Text("Gw")}
SHORT_HEADER_WIDTHS = tuple(label.cell_len for label in SHORT_HEADER.values())
ID_WIDTH = 40
HEADER_LINES = 1  # the column labels, which stay put while the rows scroll

# A cell as compared between refreshes: its text and its style.
CellKey = tuple[str, str]


# What a narrow terminal keeps: the columns that say what is wrong.
ESSENTIAL = ("severity", "id", "role", "socket", "shards")
SHORT_ID_WIDTH = 28
_HEX_TAIL = re.compile(r"[0-9a-f]{12,}$")


def short_id(node_id: str, limit: int = SHORT_ID_WIDTH) -> str:
    """`host:container` in at most `limit` cells: the container to 12 characters as
    docker shortens ids (its hex tail, or its start), then the host cut in the middle.
    The full name stays in the detail and the palette."""
    host, colon, container = node_id.partition(":")
    if len(container) > 12:
        container = container[-12:] if _HEX_TAIL.search(container) else container[:12]
    room = limit - len(colon) - len(container)
    if len(host) > room:
        head = max(room // 2, 1)  # and the rest of the room, less the ellipsis, for the tail
        tail = max(room - 1 - head, 0)
        host = host[:head] + "…" + (host[-tail:] if tail else "")
    return visible(f"{host}{colon}{container}", limit=limit)


def node_cells(
    node: Node, kind: DeploymentKind, severity: Severity | None, short: bool = False
) -> dict[str, Text]:
    return {
        "severity": severity_badge(severity),
        "id": Text(short_id(node.id) if short else visible(node.id, limit=ID_WIDTH)),
        "role": role_badge(node, kind),
        "socket": socket_badge(node),
        "shards": Text(shards_label(node.shards)),
        "build": Text(visible(node.version or "—", limit=24)),
        "gateway": gateway_badge(node, short),
    }


def _row_inputs(node: Node, kind: DeploymentKind, severity: Severity | None) -> tuple[object, ...]:
    """Everything `node_cells` reads, cheap to compare (building the cells is not).
    Kind and severity first: the row of a node unchanged since compares only those."""
    return (
        kind,
        severity,
        node.role,
        node.support.socket_conn,
        node.shards,
        node.version,
        node.gateway_status,
        bool(node.errors),
    )


def _cell_key(cell: Text) -> CellKey:
    return (cell.plain, str(cell.style))


@dataclass
class Row:
    """One node's line: what it was drawn from, its cells, and its render once made."""

    node: Node  # the node drawn (the same object while it is unchanged: see models.Node)
    inputs: tuple[object, ...]  # what the cells were made of (_row_inputs)
    cells: dict[str, Text]
    strip: Strip | None = None  # rendered at the current column widths, when first shown
    widths: tuple[int, ...] = field(init=False)  # of its cells (measured once: 1,000 rows)

    def __post_init__(self) -> None:
        self.widths = tuple(cell.cell_len for cell in self.cells.values())


class NodeTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"node-table--header", "node-table--cursor"}  # noqa: RUF012

    BINDINGS = [  # noqa: RUF012 (Textual's own idiom)
        Binding("down,j", "cursor_down", "Down", key_display="↓ j", show=False),
        Binding("up,k", "cursor_up", "Up", key_display="↑ k", show=False),
        Binding("pagedown", "page_down", "Page down", key_display="pgdn", show=False),
        Binding("pageup", "page_up", "Page up", key_display="pgup", show=False),
        Binding("home,g", "first", "First node", key_display="home g", show=False),
        Binding("end,G", "last", "Last node", key_display="end G", show=False),
        Binding("enter", "select", "Open the detail", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another node."""

        table: NodeTable
        node_id: str

        @property
        def control(self) -> NodeTable:
            return self.table

    @dataclass
    class Selected(Message):
        """Enter (or a click) on a node: open its detail."""

        table: NodeTable
        node_id: str

        @property
        def control(self) -> NodeTable:
            return self.table

    # The row the cursor is on (a node id keeps it across refreshes: see show).
    cursor_row: reactive[int] = reactive(0, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, Row] = {}
        self._order: list[str] = []  # node ids, top to bottom
        self._widths = HEADER_WIDTHS
        self._header: Strip | None = None
        self._shown = tuple(range(len(COLUMNS)))  # the columns drawn, by index
        self._short = False  # node names shortened (medium and narrow terminals)
        self._drawn: tuple[Snapshot, dict[str, Severity]] | None = None  # the last shown
        self.cell_updates = 0  # how many cells refreshes have rewritten (for tests, benchmarks)
        self.rows_rendered = 0  # how many row strips were made (for tests, benchmarks)

    # -- what tests, the app and the help read -------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_id(self) -> str | None:
        return self._order[self.cursor_row] if self._order else None

    @property
    def node_ids(self) -> list[str]:
        """The rows' node ids, top to bottom."""
        return list(self._order)

    def cells(self, node_id: str) -> dict[str, Text]:
        """What the row of `node_id` shows, by column key."""
        return dict(self._rows[node_id].cells)

    # -- bringing the list to a snapshot ----------------------------------------------

    def reset(self) -> None:
        """Forget every row (another deployment is about to be shown)."""
        self._rows, self._order, self._drawn = {}, [], None
        self.set_reactive(NodeTable.cursor_row, 0)
        self._set_widths(HEADER_WIDTHS)
        self._resize()

    def show(self, snapshot: Snapshot, severities: Mapping[str, Severity]) -> None:
        """Bring the list to `snapshot`, repainting only rows that changed. `severities`:
        each node's worst finding."""
        drawn, self._drawn = self._drawn, (snapshot, dict(severities))
        if drawn is not None and severities == drawn[1] and snapshot.unchanged_since(drawn[0]):
            return  # the usual refresh: not a row to look at
        selected = self.selected_id
        changed = [
            node.id
            for node in snapshot.nodes
            if self._update_row(node, snapshot.kind, severities.get(node.id))
        ]
        order = [node.id for node in snapshot.nodes]
        for gone in self._rows.keys() - set(order):
            del self._rows[gone]
        reordered = order != self._order
        self._order = order
        if selected in self._rows:
            # The same node as before, on its new row: nothing to announce.
            self.set_reactive(NodeTable.cursor_row, order.index(selected))
        self.set_reactive(NodeTable.cursor_row, self.validate_cursor_row(self.cursor_row))
        widened = (changed or reordered) and self._set_widths(self._measure())
        if reordered or widened:
            self._resize()
            self._scroll_to_cursor()
        else:
            index = {node_id: row for row, node_id in enumerate(order)}
            for node_id in changed:
                self.refresh_line(index[node_id] + HEADER_LINES)

    def _update_row(self, node: Node, kind: DeploymentKind, severity: Severity | None) -> bool:
        """Rebuild the row of `node` if what it shows changed; True if it did."""
        row = self._rows.get(node.id)
        if row is not None and row.node is node and row.inputs[:2] == (kind, severity):
            return False  # the usual refresh: the very node drawn last time
        inputs = _row_inputs(node, kind, severity)
        if row is not None and row.inputs == inputs:
            row.node = node  # read again, but nothing this row shows has changed
            return False
        cells = node_cells(node, kind, severity, self._short)
        if row is None:
            self.cell_updates += len(cells)
        else:
            self.cell_updates += sum(
                _cell_key(cell) != _cell_key(row.cells[column]) for column, cell in cells.items()
            )
        self._rows[node.id] = Row(node, inputs, cells)
        return True

    def _measure(self) -> tuple[int, ...]:
        """Each column as wide as its widest cell or label."""
        rows = (row.widths for row in self._rows.values())
        header = SHORT_HEADER_WIDTHS if self._short else HEADER_WIDTHS
        return tuple(max(column) for column in zip(header, *rows, strict=True))

    def set_variant(self, columns: tuple[str, ...], short_names: bool) -> None:
        """Draw only `columns`, node names shortened or not (the terminal's size
        decides); the rows are made again, the cursor stays on its node."""
        shown = tuple(i for i, (key, _) in enumerate(COLUMNS) if key in columns)
        if (shown, short_names) == (self._shown, self._short):
            return
        self._shown, self._short = shown, short_names
        drawn, self._drawn, self._rows = self._drawn, None, {}
        self._widths, self._header = (), None
        if drawn is not None:
            self.show(*drawn)
        else:
            self._set_widths(HEADER_WIDTHS)
            self._resize()

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
            if self._header is None:
                self._header = self._render_cells(SHORT_HEADER if self._short else HEADER)
            line = self._header.apply_style(self.get_component_rich_style("node-table--header"))
        elif (index := scroll_y + y - HEADER_LINES) < len(self._order):
            line = self._row_strip(self._order[index])
            if index == self.cursor_row:
                line = line.apply_style(self.get_component_rich_style("node-table--cursor"))
        else:
            return Strip.blank(width, base)
        return fitted(line, base, scroll_x, width)

    def _row_strip(self, node_id: str) -> Strip:
        row = self._rows[node_id]
        if row.strip is None:
            row.strip = self._render_cells(row.cells)
            self.rows_rendered += 1
        return row.strip

    def _render_cells(self, cells: Mapping[str, Text]) -> Strip:
        """Cells side by side, each padded to its column's width with a space either side."""
        line = Text()
        for index in self._shown:
            cell, width = cells[COLUMNS[index][0]], self._widths[index]
            line.append(" ")
            line.append_text(cell)
            line.append(" " * (width - cell.cell_len + 1))
        return Strip(line.render(self.app.console), line.cell_len)

    # -- the cursor ---------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._order) - 1))

    def watch_cursor_row(self, before: int, row: int) -> None:
        """The cursor moved: repaint the two lines, keep it in view, say which node."""
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

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_LINES:
            return None
        row = round(self.scroll_y) + offset.y - HEADER_LINES
        return row if row < len(self._order) else None

    def on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        if row is not None:
            self.move_cursor(row)
            self.action_select()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """The full name of the node under the pointer (the list may show it short)."""
        row = self._row_at(event)
        self.tooltip = visible(self._order[row]) if row is not None and self._short else None
