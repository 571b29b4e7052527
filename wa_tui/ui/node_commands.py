"""The command palette finds nodes by their full `host:container` name (the node list
may show it short): choosing one puts the cursor on it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual.command import Hit, Hits, Provider

from wa_tui.core.text import visible

if TYPE_CHECKING:
    from wa_tui.watch.watcher import Watcher


class _Dashboard(Protocol):
    @property
    def watcher(self) -> Watcher: ...

    def select_node(self, node_id: str) -> None: ...


class NodeCommands(Provider):
    async def search(self, query: str) -> Hits:
        dashboard = cast(_Dashboard, self.app)
        snapshot = dashboard.watcher.snapshot
        if snapshot is None:
            return
        matcher = self.matcher(query)
        for node in snapshot.nodes:
            name = visible(node.id)
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(dashboard.select_node, node.id),
                    help=f"go to this node ({node.role or 'single'})",
                )
