"""What every pane of the dashboard is shown: one poll of the deployment on screen, and
the node the list's cursor is on. Each pane takes the same `PollView` and draws its part
(`Pane` in ui/dashboard_screen.py). The event log alone also reads the watcher's change
log (`view.watcher`), which a poll appends to rather than replaces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from wa_tui.model.judgement import EXPIRY_CODES, Finding, Severity, node_severity

if TYPE_CHECKING:
    from typing import TypeAlias

    from wa_tui.analysis.vitals import VitalsTracker
    from wa_tui.analysis.webhook import WebhookView
    from wa_tui.model.judgement import Summary
    from wa_tui.model.snapshot import Node, Snapshot
    from wa_tui.recording.first_frame import FirstFrame
    from wa_tui.watch.watcher import Watcher

    # What the dashboard draws: a deployment's watcher, or a follower's first frame.
    Source: TypeAlias = Watcher | FirstFrame


@dataclass(frozen=True)
class PollView:
    """The deployment on screen as its last poll left it."""

    watcher: Source
    snapshot: Snapshot | None
    summary: Summary | None
    findings: tuple[Finding, ...]
    selected: str | None  # the node list's cursor: a node id

    @classmethod
    def of(cls, watcher: Source, selected: str | None = None) -> PollView:
        return cls(watcher, watcher.snapshot, watcher.summary, watcher.findings, selected)

    @property
    def vitals(self) -> VitalsTracker | None:
        """None: not read yet (a first frame)."""
        return self.watcher.vitals

    @property
    def webhook(self) -> WebhookView | None:
        return self.watcher.webhook

    @cached_property
    def severities(self) -> Mapping[str, Severity]:
        """Each node's worst finding."""
        return node_severity(self.findings)

    @cached_property
    def node(self) -> Node | None:
        """The selected node, if this poll has it."""
        if self.snapshot is None or self.selected is None:
            return None
        return self.snapshot.by_id.get(self.selected)

    @cached_property
    def expiry_warned(self) -> frozenset[str]:
        """The nodes whose build expiry a finding raised (by the deployment's thresholds)."""
        return frozenset(n for f in self.findings if f.code in EXPIRY_CODES for n in f.nodes)


class PaneWidget(Protocol):
    """What a pane's widget does: show a poll, and forget what it drew when another
    deployment comes on screen."""

    def show(self, view: PollView) -> None: ...

    def reset(self) -> None: ...
