"""The topology: masters, the shard map 0..N-1 with each shard's owner and socket, spares.

Each state has a text marker beside its colour (see badges), so the map reads in 16
colours and with NO_COLOR. The widget redraws only when what it draws changed.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Group, RenderableType
from rich.text import Text

from wa_tui.models import CONTROL_SHARD, DeploymentKind, Node, Role, Snapshot, SocketState
from wa_tui.text import visible
from wa_tui.ui.badges import (
    CONFLICT_LOOK,
    SOCKET_LOOK,
    STANDBY_LOOK,
    UNASSIGNED_LOOK,
    socket_look,
)
from wa_tui.ui.redraw import SizedStatic

LABEL_WIDTH = 15
MAX_STANDBY_CHIPS = 12
CELL_WIDTH = 3 + 2 + LABEL_WIDTH + 2


def short_labels(snapshot: Snapshot) -> dict[str, str]:
    """Each node's label: the host when it names the node alone (it usually does), else
    the whole id. Made once per drawing (a 1,000-node deployment has 1,000 hosts)."""
    hosts = Counter(n.host for n in snapshot.nodes)
    return {
        n.id: visible(n.host if n.host and hosts[n.host] == 1 else n.id, limit=LABEL_WIDTH)
        for n in snapshot.nodes
    }


def _node_chip(node: Node, labels: dict[str, str]) -> Text:
    marker, label, style = socket_look(node)
    return Text.assemble((f"{marker} ", style), labels[node.id], (f" {label}", style))


def _shard_cell(shard: int, owners: list[Node], labels: dict[str, str]) -> Text:
    number = f"{'C' if shard == CONTROL_SHARD else shard:>3} "
    if not owners:
        marker, label, style = UNASSIGNED_LOOK
        return Text.assemble(number, (f"{marker} {label}", style))
    if len(owners) > 1:
        marker, _, style = CONFLICT_LOOK
        names = "+".join(labels[n.id] for n in owners)
        return Text.assemble(number, (f"{marker} {visible(names, limit=LABEL_WIDTH)}", style))
    marker, _, style = socket_look(owners[0])
    return Text.assemble(number, (f"{marker} ", style), labels[owners[0].id])


def _shard_grid(snapshot: Snapshot, width: int, labels: dict[str, str]) -> Text:
    """Shards in fixed-width columns, as plain lines of text: a Rich table of them took
    5 ms to lay out at every redraw, most of the topology's cost (measured)."""
    owners = snapshot.owners()
    cells = [_shard_cell(shard, nodes, labels) for shard, nodes in sorted(owners.items())]
    for cell in cells:
        cell.truncate(CELL_WIDTH - 2, pad=True)
    columns = max(1, width // CELL_WIDTH)
    rows = [
        Text("  ").join(cells[start : start + columns]) for start in range(0, len(cells), columns)
    ]
    return Text("\n", no_wrap=True).join(rows)


def _summary(snapshot: Snapshot) -> Text:
    owners = snapshot.owners()
    normal = {s: o for s, o in owners.items() if s != CONTROL_SHARD}
    unassigned = sum(1 for o in normal.values() if not o)
    conflicts = sum(1 for o in owners.values() if len(o) > 1)
    down = sum(1 for o in owners.values() if len(o) == 1 and o[0].socket is SocketState.DOWN)
    count = snapshot.shard_count
    parts = [Text(f"{count} shard{'s' if count != 1 else ''}")]
    for count, what, style in (
        (unassigned, "unassigned", "bold red"),
        (conflicts, "conflicting", "bold red"),
        (down, "owner down", "bold red"),
    ):
        parts.append(Text(f"{count} {what}", style=style if count else "dim"))
    return Text(" · ").join(parts)


def _standby_chips(standbys: list[Node], labels: dict[str, str]) -> list[Text]:
    """The first standbys by name, then how many more: a thousand chips help nobody."""
    chips = [_node_chip(n, labels) for n in standbys[:MAX_STANDBY_CHIPS]]
    if len(standbys) > MAX_STANDBY_CHIPS:
        more = len(standbys) - MAX_STANDBY_CHIPS
        chips.append(Text(f"… and {more} more (node list)", style="dim"))
    return chips


def _row(title: str, chips: list[Text]) -> Text:
    body = Text("   ").join(chips) if chips else Text("none", style="dim")
    return Text.assemble((f"{title:<9}", "bold"), body)


def _legend() -> Text:
    looks = [*SOCKET_LOOK.values(), STANDBY_LOOK, UNASSIGNED_LOOK, CONFLICT_LOOK]
    return Text(" ").join(Text(f"{m} {label}", style=s) for m, label, s in looks)


def render_topology(snapshot: Snapshot, width: int) -> RenderableType:
    labels = short_labels(snapshot)
    if snapshot.kind is DeploymentKind.SINGLE:
        node = snapshot.nodes[0]
        return Group(_row("Single", [_node_chip(node, labels)]), _legend())
    masters = snapshot.with_role(Role.PRIMARY_MASTER) + snapshot.with_role(Role.SECONDARY_MASTER)
    master_chips = [
        Text.assemble(("★ " if n.role == Role.PRIMARY_MASTER else "☆ "), _node_chip(n, labels))
        for n in masters
    ]
    standbys = [n for n in snapshot.nodes if n.is_standby and n not in masters]
    title = "Spares" if snapshot.kind is DeploymentKind.MULTICONNECT else "Standby"
    return Group(
        _row("Masters", master_chips),
        _row("Shards", [_summary(snapshot)]),
        _shard_grid(snapshot, width, labels),
        _row(title, _standby_chips(standbys, labels)),
        _legend(),
    )


def topology_signature(snapshot: Snapshot) -> tuple:
    """What the drawing depends on; equal signatures draw the same picture."""
    return (
        snapshot.kind,
        snapshot.shard_count,
        tuple((n.id, n.role, n.shards, socket_look(n)) for n in snapshot.nodes),
    )


class TopologyView(SizedStatic):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(Text("Waiting for the first answer…", style="dim"), **kwargs)  # type: ignore[arg-type]
        self._signature: tuple | None = None
        self._snapshot: Snapshot | None = None
        self.redraws = 0

    def reset(self) -> None:
        self._signature = None
        self._snapshot = None
        self.update(Text("Waiting for the first answer…", style="dim"))

    def show(self, snapshot: Snapshot) -> None:
        signature = (topology_signature(snapshot), self.size.width)
        self._snapshot = snapshot
        if signature == self._signature:
            return
        self._signature = signature
        self.redraws += 1
        self.show_content(render_topology(snapshot, self.content_size.width or 80))

    def on_resize(self) -> None:
        if self._snapshot is not None:
            self.show(self._snapshot)
