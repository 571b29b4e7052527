"""The node list: one keyed row per host:container, updated cell by cell.

A refresh never clears the table (that would move the cursor and cost a full render):
rows are keyed by node id, only changed cells are updated, only new or departed nodes
are added or removed, and the cursor is put back on the node it was on.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

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

COLUMNS = (
    ("severity", "!"),
    ("id", "Node (host:container)"),
    ("role", "Role"),
    ("socket", "Socket"),
    ("shards", "Shards"),
    ("build", "Build"),
    ("gateway", "Gateway"),
)
ID_WIDTH = 40

# A cell as compared between refreshes: its text and its style.
CellKey = tuple[str, str]


def node_cells(node: Node, kind: DeploymentKind, severity: Severity | None) -> dict[str, Text]:
    return {
        "severity": severity_badge(severity),
        "id": Text(visible(node.id, limit=ID_WIDTH)),
        "role": role_badge(node, kind),
        "socket": socket_badge(node),
        "shards": Text(shards_label(node.shards)),
        "build": Text(visible(node.version or "—", limit=24)),
        "gateway": gateway_badge(node),
    }


def _row_inputs(node: Node, kind: DeploymentKind, severity: Severity | None) -> tuple[object, ...]:
    """Everything `node_cells` reads, cheap to compare (building the cells is not)."""
    support = node.support
    return (
        kind,
        severity,
        node.role,
        support.socket_conn,
        node.shards,
        node.version,
        node.gateway_status,
        bool(node.errors),
    )


def _cell_key(cell: Text) -> CellKey:
    return (cell.plain, str(cell.style))


class NodeTable(DataTable[Text]):
    BINDINGS = [  # noqa: RUF012 (Textual's own idiom)
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._shown: dict[str, dict[str, CellKey]] = {}
        self._inputs: dict[str, tuple[object, ...]] = {}  # what each row was drawn from
        self._drawn: tuple[Snapshot, dict[str, Severity]] | None = None  # the last shown
        self.cell_updates = 0  # how many cells refreshes have rewritten (for tests, benchmarks)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def reset(self) -> None:
        """Forget every row (another deployment is about to be shown)."""
        self.clear()
        self._shown.clear()
        self._inputs.clear()
        self._drawn = None

    def show(self, snapshot: Snapshot, severities: Mapping[str, Severity]) -> None:
        """Bring the table to `snapshot`, touching only what changed. `severities`: each
        node's worst finding."""
        drawn, self._drawn = self._drawn, (snapshot, dict(severities))
        if drawn is not None and severities == drawn[1] and snapshot.unchanged_since(drawn[0]):
            return  # the usual refresh: not a row to look at
        selected = self.selected_id
        wanted = [node.id for node in snapshot.nodes]
        for gone in self._shown.keys() - set(wanted):
            self.remove_row(gone)
            del self._shown[gone], self._inputs[gone]
        for node in snapshot.nodes:
            self._show_node(node, snapshot.kind, severities.get(node.id))
        self._put_in_order(wanted)
        if selected in self._shown:
            row = self.get_row_index(selected)
            if row != self.cursor_row:
                self.move_cursor(row=row, animate=False)

    def _show_node(self, node: Node, kind: DeploymentKind, severity: Severity | None) -> None:
        inputs = _row_inputs(node, kind, severity)
        if self._inputs.get(node.id) == inputs:
            return  # the usual refresh: nothing this row shows has changed
        self._inputs[node.id] = inputs
        cells = node_cells(node, kind, severity)
        keys = {column: _cell_key(cell) for column, cell in cells.items()}
        shown = self._shown.get(node.id)
        if shown is None:
            self.add_row(*cells.values(), key=node.id)
            self.cell_updates += len(cells)
        else:
            for column, key in keys.items():
                if shown[column] != key:
                    self._replace_cell(node.id, column, cells[column])
                    self.cell_updates += 1
        self._shown[node.id] = keys

    def _replace_cell(self, node_id: str, column: str, cell: Text) -> None:
        """`update_cell`, re-rendering the one row that changed instead of all of them.

        DataTable keys every render cache on one counter that any `update_cell` bumps, so
        one node's socket flapping re-rendered every row, each cell through Rich (36 rows:
        most of a refresh's CPU, benchmarks/README.md). Here only that row's cached
        renders are dropped. This reaches into DataTable's caches, which is why Textual is
        pinned exactly (README, Design notes)."""
        row = RowKey(node_id)
        self._data[row][ColumnKey(column)] = cell
        for cache in (self._cell_render_cache, self._row_render_cache):
            for key in [key for key in cache.keys() if key[0] == row]:  # noqa: SIM118 (no __iter__)
                cache.discard(key)
        self._line_cache.clear()  # keyed by screen line; rebuilt from the row caches
        self.refresh_row(self.get_row_index(node_id))

    def _put_in_order(self, wanted: list[str]) -> None:
        """Re-add the rows from the first one out of place (order changes on failover only)."""
        current = [row.key.value for row in self.ordered_rows]
        first_wrong = next(
            (i for i, (have, want) in enumerate(zip(current, wanted, strict=True)) if have != want),
            len(wanted),
        )
        moved = {node_id: self.get_row(node_id) for node_id in current[first_wrong:]}
        for node_id in moved:
            self.remove_row(node_id)
        for node_id in wanted[first_wrong:]:
            self.add_row(*moved[node_id], key=node_id)
