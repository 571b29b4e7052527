"""One deployment the dashboard watches: its target, poller, status and change log.

The app keeps one Watch per deployment; every one keeps polling in the background, and
the screen draws the current one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from wa_tui.analysis import Change, Severity, worst
from wa_tui.poller import Poller
from wa_tui.targets import Target
from wa_tui.ui.status_bar import PollStatus

CHANGES_KEPT = 500


@dataclass
class Watch:
    target: Target
    poller: Poller
    status: PollStatus
    changes: deque[Change] = field(default_factory=lambda: deque(maxlen=CHANGES_KEPT))
    changes_seen: int = 0  # grows with every change added: tells the log when to redraw
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set: poll now

    @classmethod
    def of(cls, target: Target) -> Watch:
        poller = Poller.for_target(target)
        status = PollStatus(target.name, poller, tls_unverified=target.tls_unverified)
        return cls(target, poller, status)

    @property
    def name(self) -> str:
        return self.target.name

    def add_changes(self, changes: tuple[Change, ...]) -> None:
        self.changes.extendleft(reversed(changes))  # newest batch on top, in derived order
        self.changes_seen += len(changes)

    def poll_now(self) -> None:
        """End the wait for the next poll (or, mid-poll, the next wait at once)."""
        self.wake.set()

    async def woken(self, delay: float | None) -> bool:
        """Wait `delay` seconds (None: for ever) or until poll_now(); True if the latter."""
        try:
            await asyncio.wait_for(self.wake.wait(), delay)
        except TimeoutError:
            return False
        self.wake.clear()
        return True

    @property
    def severity(self) -> Severity | None:
        """Worst finding; an unreadable deployment counts as critical."""
        if self.status.error is not None:
            return Severity.CRITICAL
        return worst(self.status.findings)
