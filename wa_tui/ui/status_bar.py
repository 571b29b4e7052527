"""The top line: which deployment, what kind, how fresh the data is, and what comes next."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from wa_tui import clock
from wa_tui.analysis import Finding, Severity, worst
from wa_tui.models import Snapshot
from wa_tui.poller import Poller
from wa_tui.text import human_age, visible
from wa_tui.ui.badges import SEVERITY_LOOK


@dataclass
class PollStatus:
    """What the status line says; the app fills it in, the line only draws it. The data
    shown is the poller's own (last good snapshot, its findings), never a copy."""

    deployment: str
    poller: Poller
    error: str | None = None
    polling_since: float | None = None  # clock.monotonic() when the poll in flight began
    paused: bool = False
    tls_unverified: bool = False
    others: str = ""  # the other deployments' state, when there are several
    next_poll_at: float | None = None  # clock.monotonic()

    @property
    def polling(self) -> bool:
        return self.polling_since is not None

    @property
    def ticking(self) -> bool:
        """The line can change with time alone: "refreshing…" on a slow poll, the retry
        countdown, the age of the data while paused."""
        return self.paused or self.polling or self.error is not None

    @property
    def snapshot(self) -> Snapshot | None:
        return self.poller.last_good

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.poller.findings


# A poll quicker than this is not announced: "refreshing…" flashing on and off at every
# refresh would cost two repaints of the line for nothing the user needs to know.
SLOW_POLL_SECONDS = 1.0


def _age_seconds(snapshot: Snapshot) -> float:
    return (clock.now() - snapshot.fetched_at).total_seconds()


def _age(snapshot: Snapshot) -> str:
    return human_age(_age_seconds(snapshot))


def _health(status: PollStatus) -> Text:
    """The deployment's worst severity at a glance, with how many findings carry it."""
    if status.error is not None:  # what the last good data said may no longer hold
        return Text(" ✖ STALE ", style="bold white on red")
    if status.snapshot is None:
        return Text(" … ", style="dim")
    severity = worst(status.findings)
    if severity is None or severity is Severity.INFO:
        return Text(" ✔ OK ", style="bold black on green")
    marker, label, _ = SEVERITY_LOOK[severity]
    count = sum(1 for f in status.findings if f.severity is severity)
    style = "bold white on red" if severity is Severity.CRITICAL else "bold black on yellow"
    return Text(f" {marker} {label} {count} ", style=style)


def render_status(status: PollStatus) -> Text:
    line = Text.assemble(
        (" wa-tui ", "bold reverse"), _health(status), " ", (visible(status.deployment), "bold")
    )
    if status.tls_unverified:
        line.append(" ⚠ TLS NOT VERIFIED ", style="bold black on yellow")
    snapshot = status.snapshot
    if snapshot is not None:
        line.append(
            f" · {snapshot.kind.value} · {len(snapshot.nodes)} nodes · "
            f"{snapshot.shard_count} shard{'s' if snapshot.shard_count != 1 else ''}"
        )
    line.append("  │  ", style="dim")
    # Most important first: a narrow terminal cuts the end of the line.
    if snapshot is not None and status.error is not None:
        line.append(f"STALE: data from {_age(snapshot)} ago", style="bold yellow")
    elif snapshot is not None:
        line.append(f"● refreshed {snapshot.fetched_at.astimezone():%H:%M:%S}")
        if _age_seconds(snapshot) > 2 * status.poller.interval:  # late: count it out loud
            line.append(f" ({_age(snapshot)} ago)", style="bold yellow")
    line.append_text(_next(status))
    if status.error is not None:
        line.append("  ")
        line.append(f"✖ {visible(status.error, limit=120)}", style="bold white on red")
    if snapshot is not None and snapshot.health_error and status.error is None:
        line.append(
            f"  ▲ no gateway status: {visible(snapshot.health_error, limit=80)}", style="yellow"
        )
    if status.others:
        line.append(f"  │  {status.others}", style="dim")
    if snapshot is not None and snapshot.api_version:
        line.append(f"  │  API {visible(snapshot.api_version, limit=16)}", style="dim")
    return line


def _next(status: PollStatus) -> Text:
    """What polling does next. In the steady state this does not change, so the line is
    repainted once per refresh, not every second; only a slow poll, a retry countdown or
    late data tick."""
    if status.paused:
        return Text("  ⏸ paused (p resumes)", style="bold yellow")
    since = status.polling_since
    if since is not None and clock.monotonic() - since >= SLOW_POLL_SECONDS:
        return Text("  ⟳ refreshing…", style="cyan")
    if status.error is not None and status.next_poll_at is not None:
        wait = math.ceil(max(status.next_poll_at - clock.monotonic(), 0))
        return Text(f"  retry in {wait}s", style="dim")
    interval = status.poller.interval
    every = f"{interval:g}s" if interval < 60 else human_age(interval)
    return Text(f"  every {every}", style="dim")


class StatusBar(Static):
    _plain: str | None = None
    redraws = 0  # how often the line was repainted (for tests, benchmarks)

    def show(self, status: PollStatus) -> None:
        text = render_status(status)
        if text.plain != self._plain:
            self._plain = text.plain
            self.redraws += 1
            # One line, always: no layout pass (it would repaint the whole screen).
            self.update(text, layout=False)
