"""The topology: masters, the shard map 0..N-1 with each shard's owner and socket, spares.

Each state has a text marker beside its colour (see badges), so the map reads in 16
colours and with NO_COLOR. The widget draws a new picture only when what it shows
changed, and repaints only the lines of it that differ (a socket flapping: one line of
the shard grid, perhaps the summary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from wa_tui.core.text import visible
from wa_tui.model.judgement import Summary
from wa_tui.model.snapshot import CONTROL_SHARD, DeploymentKind, Node, Role, Snapshot
from wa_tui.ui.badges import (
    CONFLICT_LOOK,
    SOCKET_LOOK,
    STANDBY_LOOK,
    UNASSIGNED_LOOK,
    socket_look,
)
from wa_tui.ui.lines import plain_lines, selected_text, shown_line
from wa_tui.ui.poll_view import PollView

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
    summary: Summary  # the shard counts, as every view shows them
    masters: list[Node]
    owners: dict[int, list[Node]]  # shard id -> the nodes claiming it
    standbys: list[Node]  # the first MAX_STANDBY_CHIPS
    more_standbys: int
    labels: dict[str, str]  # node id -> its label, for the nodes drawn

    @classmethod
    def of(cls, snapshot: Snapshot, summary: Summary) -> Picture:
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
            summary,
            masters,
            owners,
            standbys[:MAX_STANDBY_CHIPS],
            max(0, len(standbys) - MAX_STANDBY_CHIPS),
            _short_labels(snapshot, drawn),
        )


def _look(node: Node, labels: dict[str, str]) -> tuple[object, ...]:
    """What a node's chip or cell shows."""
    return (node.id, node.role, socket_look(node), labels[node.id])


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


def _grid_line(shards: list[tuple[int, list[Node]]], labels: dict[str, str]) -> Text:
    """A line of shards in fixed-width columns: plain text, because laying out a Rich
    table at every redraw would be most of the topology's cost."""
    cells = [_shard_cell(shard, owners, labels) for shard, owners in shards]
    for cell in cells:
        cell.truncate(CELL_WIDTH - 2, pad=True)
    return Text("  ", no_wrap=True).join(cells)


def _shard_counts(summary: Summary) -> tuple[int, int, int, int]:
    """Shards, unassigned, conflicting, with their owner down."""
    return (
        summary.shards,
        summary.shards_unassigned,
        summary.shards_conflicting,
        summary.shards_owner_down,
    )


def _summary(counts: tuple[int, int, int, int]) -> Text:
    shards, *troubles = counts
    parts = [Text(f"{shards} shard{'s' if shards != 1 else ''}")]
    for count, what in zip(troubles, ("unassigned", "conflicting", "owner down"), strict=True):
        parts.append(Text(f"{count} {what}", style="bold red" if count else "dim"))
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


WAITING = Text("Waiting for the first answer…", style="dim")

# A part of the picture: what it shows (equal keys draw the same), and how to draw it.
Block = tuple[Hashable, Callable[[], Text]]


def blocks(picture: Picture, width: int) -> list[Block]:
    """The picture as blocks, top to bottom: masters, the shard summary, each line of the
    shard grid, the standbys, the legend. A block is drawn again only when its key
    changed (one socket flapping: one grid line, perhaps the summary)."""
    labels = picture.labels
    if picture.kind is DeploymentKind.SINGLE:
        node = picture.masters[0]
        single = (
            ("single", _look(node, labels)),
            lambda: _row("Single", [_node_chip(node, labels)]),
        )
        return [single, (("legend",), _legend)]
    masters = picture.masters
    counts = _shard_counts(picture.summary)
    shards = sorted(picture.owners.items())
    columns = max(1, width // CELL_WIDTH)
    grid = [shards[start : start + columns] for start in range(0, len(shards), columns)]
    standbys = picture.standbys
    title = "Spares" if picture.kind is DeploymentKind.MULTICONNECT else "Standby"
    return [
        (
            ("masters", *(_look(n, labels) for n in masters)),
            lambda: _row("Masters", [_master_chip(n, labels) for n in masters]),
        ),
        (("summary", counts), lambda: _row("Shards", [_summary(counts)])),
        *(
            (
                ("grid", *((s, *(_look(n, labels) for n in o)) for s, o in line)),
                lambda line=line: _grid_line(line, labels),
            )
            for line in grid
        ),
        (
            ("standbys", title, picture.more_standbys, *(_look(n, labels) for n in standbys)),
            lambda: _row(title, _standby_chips(picture)),
        ),
        (("legend",), _legend),
    ]


def _master_chip(node: Node, labels: dict[str, str]) -> Text:
    star = "★ " if node.role == Role.PRIMARY_MASTER else "☆ "
    return Text.assemble(star, _node_chip(node, labels))


WAITING_BLOCKS: list[Block] = [(("waiting",), lambda: WAITING)]


class TopologyView(Widget):
    """The picture as lines (Textual's line API): a block is rendered again only when
    what it shows changed, and a line is repainted only when it differs."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self._summary: Summary | None = None
        self._blocks: list[Block] = WAITING_BLOCKS
        self._rendered: dict[Hashable, list[Strip]] = {}  # block key -> its lines, at _width
        self._width = 0
        self._lines: list[Strip] = []
        self.redraws = 0  # blocks rendered (for tests, benchmarks)
        self.lines_painted = 0  # lines Textual asked for (the same)

    def reset(self) -> None:
        self._snapshot = None
        self._draw(WAITING_BLOCKS)

    def show(self, view: PollView) -> None:
        if view.snapshot is not None and view.summary is not None:
            self.show_picture(view.snapshot, view.summary)

    def show_picture(self, snapshot: Snapshot, summary: Summary) -> None:
        drawn, self._snapshot, self._summary = self._snapshot, snapshot, summary
        if drawn is not None and self._width and snapshot.unchanged_since(drawn):
            return  # the usual refresh: the picture is the same
        self._draw(blocks(Picture.of(snapshot, summary), self.content_size.width or 80))

    def _draw(self, picture: list[Block]) -> None:
        """Show `picture`: lay the screen out again if its height changed, else repaint
        the lines that differ."""
        self._blocks = picture
        lines = self._render_picture(picture)
        old, self._lines = self._lines, lines
        if len(lines) != len(old):
            self.refresh(layout=True)
            return
        width = self.content_size.width
        for y, (before, after) in enumerate(zip(old, lines, strict=True)):
            if before is not after and before != after:
                self.refresh(Region(0, y, width, 1))

    def _render_picture(self, picture: list[Block]) -> list[Strip]:
        """The picture's lines, each block rendered only if it was not last time."""
        width = self.content_size.width
        if not width:
            return []  # not laid out yet: rendered at the first resize
        if width != self._width:
            self._width, self._rendered = width, {}
        rendered, lines = {}, []
        for key, make in picture:
            block = self._rendered.get(key)
            if block is None:
                block = self._render_block(make(), width)
                self.redraws += 1
            rendered[key] = block
            lines += block
        self._rendered = rendered
        return lines

    def _render_block(self, text: Text, width: int) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(width)
        return [Strip(line, width) for line in console.render_lines(text, options)]

    def on_resize(self) -> None:
        if self._snapshot is not None and self.content_size.width != self._width:
            assert self._summary is not None  # shown with the snapshot
            picture = Picture.of(self._snapshot, self._summary)
            self._draw(blocks(picture, self.content_size.width))
        elif self._snapshot is None:
            self._draw(self._blocks)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self._lines and width:
            return sum(len(self._render_block(make(), width)) for _, make in self._blocks)
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        self.lines_painted += 1
        width, style = self.content_size.width, self.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, style)
        return shown_line(self, self._lines[y], y, 0, width)

    def plain_lines(self) -> list[str]:
        return plain_lines(self._lines)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selected_text(self.plain_lines(), selection)
