"""The node list: one row per host:container, a line-API table (ui/line_table.py) keyed
by node id, so a refresh never moves the cursor off its node."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import BindingType

from wa_tui.core.text import visible
from wa_tui.keys import NODES
from wa_tui.model.judgement import Severity
from wa_tui.model.snapshot import DeploymentKind, Node, Snapshot
from wa_tui.ui.badges import (
    gateway_badge,
    role_badge,
    severity_badge,
    shards_label,
    socket_badge,
)
from wa_tui.ui.bindings import bindings
from wa_tui.ui.line_table import LineTable
from wa_tui.ui.poll_view import PollView

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
    """Everything `node_cells` reads, cheap to compare (building the cells is not)."""
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


class NodeTable(LineTable):
    COLUMNS = COLUMNS
    # Short (a medium or narrow terminal): node names shortened, and these labels.
    SHORT_LABELS: ClassVar[dict[str, str]] = {"id": "Node", "gateway": "Gw"}
    BINDINGS: ClassVar[list[BindingType]] = bindings(NODES)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: tuple[Snapshot, dict[str, Severity]] | None = None  # the last shown

    def reset(self) -> None:
        """Forget every row (another deployment is about to be shown)."""
        self._drawn = None
        self.clear()

    def show(self, view: PollView) -> None:
        if view.snapshot is not None:
            self.show_nodes(view.snapshot, view.severities)

    def show_nodes(self, snapshot: Snapshot, severities: Mapping[str, Severity]) -> None:
        """Bring the list to `snapshot`, repainting only rows that changed. `severities`:
        each node's worst finding."""
        drawn, self._drawn = self._drawn, (snapshot, dict(severities))
        if drawn is not None and severities == drawn[1] and snapshot.unchanged_since(drawn[0]):
            return  # the usual refresh: not a row to look at
        kind = snapshot.kind
        changed = [
            node.id
            for node in snapshot.nodes
            if self._put_node(node, kind, severities.get(node.id))
        ]
        self.arrange_rows([node.id for node in snapshot.nodes], changed)

    def _put_node(self, node: Node, kind: DeploymentKind, severity: Severity | None) -> bool:
        # A node unchanged since the last poll is the very object drawn last time
        # (models.Node): its row is not even looked into.
        return self.put(
            node.id,
            (node, kind, severity),
            lambda: _row_inputs(node, kind, severity),
            lambda: node_cells(node, kind, severity, self._short),
        )

    def set_variant(self, columns: tuple[str, ...], short: bool) -> bool:
        """As LineTable's; the rows are made again at once, the cursor on its node."""
        if not super().set_variant(columns, short):
            return False
        drawn, self._drawn = self._drawn, None
        if drawn is not None:
            self.show_nodes(*drawn)
        else:
            self._resize()
        return True

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """The full name of the node under the pointer (the list may show it short)."""
        row = self.row_at(event)
        self.tooltip = visible(self.keys[row]) if row is not None and self._short else None
