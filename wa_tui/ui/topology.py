"""The topology: masters, the shard map 0..N-1 with each shard's owner and socket, spares.

Each state has a text marker beside its colour (see badges), so the map reads in 16
colours and with NO_COLOR. The widget draws a new picture only when what it shows
changed, and repaints only the lines of it that differ (a socket flapping: one line of
the shard grid, perhaps the summary).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from wa_tui.models import CONTROL_SHARD, DeploymentKind, Node, Role, Snapshot, SocketState
from wa_tui.text import visible
from wa_tui.ui.badges import (
    CONFLICT_LOOK,
    SOCKET_LOOK,
    STANDBY_LOOK,
    UNASSIGNED_LOOK,
    socket_look,
)

MASTER_ROLES = (Role.PRIMARY_MASTER, Role.SECONDARY_MASTER)
LABEL_WIDTH = 15
MAX_STANDBY_CHIPS = 12
CELL_WIDTH = 3 + 2 + LABEL_WIDTH + 2


@dataclass(frozen=True)
class Picture:
    """The nodes the topology draws, picked from a snapshot once per refresh: masters,
    shard owners and the first spares. On 1,000 nodes that is a few dozen, and comparing
    or labelling only those keeps a refresh from walking every node three times."""

    kind: DeploymentKind
    shard_count: int
    masters: list[Node]
    owners: dict[int, list[Node]]  # shard id -> the nodes claiming it
    standbys: list[Node]  # the first MAX_STANDBY_CHIPS
    more_standbys: int
    labels: dict[str, str]  # node id -> its label, for the nodes drawn

    @classmethod
    def of(cls, snapshot: Snapshot) -> Picture:
        masters = [
            *snapshot.with_role(Role.PRIMARY_MASTER),
            *snapshot.with_role(Role.SECONDARY_MASTER),
        ]
        if snapshot.kind is DeploymentKind.SINGLE:
            masters = list(snapshot.nodes[:1])
        standbys = [n for n in snapshot.nodes if n.is_standby and n.role not in MASTER_ROLES]
        owners = snapshot.owners
        drawn = [*masters, *standbys[:MAX_STANDBY_CHIPS], *(n for o in owners.values() for n in o)]
        return cls(
            snapshot.kind,
            snapshot.shard_count,
            masters,
            owners,
            standbys[:MAX_STANDBY_CHIPS],
            max(0, len(standbys) - MAX_STANDBY_CHIPS),
            _short_labels(snapshot, drawn),
        )

    def signature(self) -> tuple:
        """What the drawing depends on; equal signatures draw the same picture."""
        owners = tuple((s, tuple(_look(n) for n in o)) for s, o in self.owners.items())
        return (
            self.kind,
            self.shard_count,
            tuple(_look(n) for n in self.masters),
            owners,
            tuple(_look(n) for n in self.standbys),
            self.more_standbys,
            tuple(self.labels.items()),
        )


def _look(node: Node) -> tuple[object, ...]:
    return (node.id, node.role, socket_look(node))


def _short_labels(snapshot: Snapshot, drawn: list[Node]) -> dict[str, str]:
    """Each drawn node's label: the host when it names the node alone (it usually does),
    else the whole id."""
    hosts = Counter(n.host for n in snapshot.nodes)
    return {
        n.id: visible(n.host if n.host and hosts[n.host] == 1 else n.id, limit=LABEL_WIDTH)
        for n in drawn
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


def _shard_grid(picture: Picture, width: int) -> Text:
    """Shards in fixed-width columns, as plain lines of text: a Rich table of them took
    5 ms to lay out at every redraw, most of the topology's cost (measured)."""
    labels = picture.labels
    cells = [_shard_cell(s, nodes, labels) for s, nodes in sorted(picture.owners.items())]
    for cell in cells:
        cell.truncate(CELL_WIDTH - 2, pad=True)
    columns = max(1, width // CELL_WIDTH)
    rows = [
        Text("  ").join(cells[start : start + columns]) for start in range(0, len(cells), columns)
    ]
    return Text("\n", no_wrap=True).join(rows)


def _summary(picture: Picture) -> Text:
    owners = picture.owners
    normal = {s: o for s, o in owners.items() if s != CONTROL_SHARD}
    unassigned = sum(1 for o in normal.values() if not o)
    conflicts = sum(1 for o in owners.values() if len(o) > 1)
    down = sum(1 for o in owners.values() if len(o) == 1 and o[0].socket is SocketState.DOWN)
    count = picture.shard_count
    parts = [Text(f"{count} shard{'s' if count != 1 else ''}")]
    for count, what, style in (
        (unassigned, "unassigned", "bold red"),
        (conflicts, "conflicting", "bold red"),
        (down, "owner down", "bold red"),
    ):
        parts.append(Text(f"{count} {what}", style=style if count else "dim"))
    return Text(" · ").join(parts)


def _standby_chips(picture: Picture) -> list[Text]:
    """The first standbys by name, then how many more: a thousand chips help nobody."""
    chips = [_node_chip(n, picture.labels) for n in picture.standbys]
    if picture.more_standbys:
        chips.append(Text(f"… and {picture.more_standbys} more (node list)", style="dim"))
    return chips


def _row(title: str, chips: list[Text]) -> Text:
    body = Text("   ").join(chips) if chips else Text("none", style="dim")
    return Text.assemble((f"{title:<9}", "bold"), body)


def _legend() -> Text:
    looks = [*SOCKET_LOOK.values(), STANDBY_LOOK, UNASSIGNED_LOOK, CONFLICT_LOOK]
    return Text(" ").join(Text(f"{m} {label}", style=s) for m, label, s in looks)


def render_topology(snapshot: Snapshot, width: int) -> RenderableType:
    return draw(Picture.of(snapshot), width)


def draw(picture: Picture, width: int) -> RenderableType:
    labels = picture.labels
    if picture.kind is DeploymentKind.SINGLE:
        return Group(_row("Single", [_node_chip(picture.masters[0], labels)]), _legend())
    master_chips = [
        Text.assemble(("★ " if n.role == Role.PRIMARY_MASTER else "☆ "), _node_chip(n, labels))
        for n in picture.masters
    ]
    title = "Spares" if picture.kind is DeploymentKind.MULTICONNECT else "Standby"
    return Group(
        _row("Masters", master_chips),
        _row("Shards", [_summary(picture)]),
        _shard_grid(picture, width),
        _row(title, _standby_chips(picture)),
        _legend(),
    )


WAITING = Text("Waiting for the first answer…", style="dim")


class TopologyView(Widget):
    """The picture as lines (Textual's line API), each repainted only when it changed."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._signature: tuple | None = None
        self._snapshot: Snapshot | None = None
        self._content: RenderableType = WAITING
        self._lines: list[Strip] = []
        self.redraws = 0  # pictures drawn (for tests, benchmarks)
        self.lines_painted = 0  # lines Textual asked for (the same)

    def reset(self) -> None:
        self._signature = None
        self._snapshot = None
        self._draw(WAITING)

    def show(self, snapshot: Snapshot) -> None:
        drawn, width = self._snapshot, self._signature[1] if self._signature else None
        if drawn is not None and width == self.size.width and snapshot.unchanged_since(drawn):
            self._snapshot = snapshot  # the usual refresh: the picture is the same
            return
        picture = Picture.of(snapshot)
        signature = (picture.signature(), self.size.width)
        self._snapshot = snapshot
        if signature == self._signature:
            return
        self._signature = signature
        self.redraws += 1
        self._draw(draw(picture, self.content_size.width or 80))

    def _draw(self, content: RenderableType) -> None:
        """Show `content`: lay the screen out again if its height changed, else repaint
        the lines that differ."""
        self._content = content
        lines = self._render(content)
        old, self._lines = self._lines, lines
        if len(lines) != len(old):
            self.refresh(layout=True)
            return
        width = self.content_size.width
        for y, (before, after) in enumerate(zip(old, lines, strict=True)):
            if before != after:
                self.refresh(Region(0, y, width, 1))

    def _render(self, content: RenderableType) -> list[Strip]:
        width = self.content_size.width
        if not width:
            return []  # not laid out yet: rendered at the first resize
        console = self.app.console
        options = console.options.update_width(width)
        return [Strip(line, width) for line in console.render_lines(content, options)]

    def on_resize(self) -> None:
        if self._snapshot is not None:
            self.show(self._snapshot)
        else:
            self._draw(self._content)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self._lines and width:
            console = self.app.console
            return len(console.render_lines(self._content, console.options.update_width(width)))
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        self.lines_painted += 1
        width, style = self.content_size.width, self.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, style)
        return self._lines[y].apply_style(style).crop_extend(0, width, style)

    def plain_lines(self) -> list[str]:
        """The picture as plain text, top to bottom."""
        return ["".join(segment.text for segment in strip).rstrip() for strip in self._lines]
