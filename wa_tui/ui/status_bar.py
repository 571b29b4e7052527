"""The top line: which deployment, what kind, how fresh the data is, and what comes next."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text

from wa_tui.core import clock
from wa_tui.core.freshness import Freshness, freshness
from wa_tui.core.text import interval_text, visible
from wa_tui.model.judgement import Severity
from wa_tui.ui.redraw import Block
from wa_tui.watch.state import Said

if TYPE_CHECKING:
    from wa_tui.ui.poll_view import Source

# A poll quicker than this is not announced: "refreshing…" flashing on and off at every
# refresh would cost two repaints of the line for nothing the user needs to know.
SLOW_POLL_SECONDS = 1.0


def _age(watcher: Source) -> Freshness | None:
    """How old the data on screen is, by its poll's time and the watcher's interval."""
    snapshot = watcher.snapshot
    return None if snapshot is None else freshness(snapshot.fetched_at, watcher.interval)


def _health(watcher: Source) -> Text:
    """The deployment's worst severity at a glance, with how many findings carry it."""
    if watcher.status.error is not None:  # what the last good data said may no longer hold
        return Text(f" {Severity.CRITICAL.marker} STALE ", style="bold white on red")
    summary = watcher.summary
    if summary is None:
        return Text(" … ", style="dim")
    severity, count = summary.severity, summary.severity_findings
    if severity is None or severity is Severity.INFO:
        return Text(" ✔ OK ", style="bold black on green")
    style = "bold white on red" if severity is Severity.CRITICAL else "bold black on yellow"
    return Text(f" {severity.marker} {severity.name} {count} ", style=style)


# A browser shows this dashboard (`wa-tui web`): never to be taken for a terminal's.
WEB_BADGE = (" WEB VIEW ", "bold black on white")

# The colours of what a source says of itself (Said.tone), badge and words.
BADGE_STYLES = {"replay": "bold white on magenta", "recorder": "bold black on cyan"}
TONE_STYLES = {
    "replay": "bold magenta",
    "recorder": "cyan",
    "late": "bold yellow",
    "held": "bold yellow",
}


def render_status(watcher: Source, others: str = "") -> Text:
    """The line for `watcher`; `others`: how the deployments off screen are doing."""
    status, said = watcher.status, watcher.said()
    line = Text.assemble((" wa-tui ", "bold reverse"))
    if said.badge is not None:  # never to be taken for a deployment polled here, now
        line.append(f" {said.badge} ", style=BADGE_STYLES[said.tone])
    line.append_text(_health(watcher))
    if status.judged is not None:  # not the recorder's judgement: never passed off as it
        line.append(f" ⚖ {status.judged} ", style="bold black on yellow")
    line.append(" ")
    line.append(visible(watcher.name), style="bold")
    if watcher.tls_unverified:
        line.append(" ⚠ TLS NOT VERIFIED ", style="bold black on yellow")
    snapshot, summary = watcher.snapshot, watcher.summary
    if summary is not None:
        line.append(
            f" · {summary.kind} · {summary.nodes} nodes · "
            f"{summary.shards} shard{'s' if summary.shards != 1 else ''}"
        )
    line.append("  │  ", style="dim")
    # Most important first: a narrow terminal cuts the end of the line.
    age = _age(watcher)
    if snapshot is not None and age is not None and status.error is not None:
        line.append(f"STALE: data from {age.age_text} ago", style="bold yellow")
    elif snapshot is not None and age is not None:
        line.append(f"● refreshed {snapshot.fetched_at.astimezone():%H:%M:%S}")
        if age.late and watcher.can.polls:  # its own polls, late: counted out loud
            line.append(f" ({age.age_text} ago)", style="bold yellow")
    if not said.error_first:
        line.append_text(_next(watcher, said))
    if status.error is not None:
        line.append("  ")
        line.append(f"✖ {visible(status.error, limit=120)}", style="bold white on red")
    if said.error_first:  # a recorder followed: why the data is stale, then whose it is
        line.append_text(_next(watcher, said))
    if snapshot is not None and snapshot.health_error and status.error is None:
        line.append(
            f"  ▲ no gateway status: {visible(snapshot.health_error, limit=80)}", style="yellow"
        )
    if others:
        line.append(f"  │  {others}", style="dim")
    if snapshot is not None and snapshot.api_version:
        line.append(f"  │  API {visible(snapshot.api_version, limit=16)}", style="dim")
    return line


def render_narrow_status(watcher: Source, width: int) -> Text:
    """The line below 100 columns: what matters first kept whole, in this order: the
    severity, how fresh the data is (its time, or STALE, its age and why in a few
    words), then the deployment, its name shortened to what is left."""
    status, snapshot, said = watcher.status, watcher.snapshot, watcher.said()
    stale = snapshot is not None and status.error is not None
    line = Text()  # each part styled on its own: the badge's colours stop at the badge
    if said.badge is not None:  # its glyph alone
        line.append(f" {said.badge.split()[0]} ", style=BADGE_STYLES[said.tone])
    age = _age(watcher)
    if stale and age is not None:
        line.append(f" {Severity.CRITICAL.marker} STALE {age.age_text} ", "bold white on red")
    else:
        line.append_text(_health(watcher))
    if status.judged is not None:
        line.append(" ⚖ ", style="bold black on yellow")
    line.append(" ")
    if stale:
        line.append(visible(status.error, limit=24), style="red")
    elif snapshot is not None:
        line.append(f"● {snapshot.fetched_at.astimezone():%H:%M:%S}")
        line.append_text(_next(watcher, said))
    elif status.error is not None:
        line.append(f"✖ {visible(status.error, limit=24)}", style="bold red")
    else:
        line.append("waiting for the first answer", style="dim")
    room = width - line.cell_len - 3
    if room >= 4:
        line.append(" │ ", style="dim")
        line.append(visible(watcher.name, limit=room), style="bold")
    return line


def _next(watcher: Source, said: Said) -> Text:
    """What the source does next. In the steady state this does not change, so the line
    is repainted once per refresh, not every second; only a slow poll, a retry countdown
    or late data tick."""
    if said.doing:  # in the source's own words
        return Text.assemble(*((text, TONE_STYLES[tone]) for text, tone in said.doing))
    status = watcher.status
    if status.paused:
        return Text("  ⏸ paused (p resumes)", style="bold yellow")
    since = status.polling_since
    if since is not None and clock.monotonic() - since >= SLOW_POLL_SECONDS:
        doing = watcher.poller.client.waiting_for if watcher.poller.client else None
        return Text(f"  ⟳ {visible(doing or 'refreshing', limit=80)}…", style="cyan")
    if status.error is not None and status.next_poll_at is not None:
        wait = math.ceil(max(status.next_poll_at - clock.monotonic(), 0))
        return Text(f"  retry in {wait}s", style="dim")
    return Text(f"  every {interval_text(watcher.interval)}", style="dim")


class StatusBar(Block):
    _plain: str | None = None
    redraws = 0  # how often the line was repainted (for tests, benchmarks)

    def show(
        self,
        watcher: Source,
        others: str = "",
        narrow_width: int | None = None,
        web: bool = False,
    ) -> None:
        """`narrow_width`: the terminal's width when it is too narrow for the whole line;
        `web`: a browser shows it (`wa-tui web`), which the line says first."""
        if narrow_width is None:
            text = render_status(watcher, others)
        else:
            text = render_narrow_status(watcher, narrow_width)
        if web:
            text = Text.assemble(WEB_BADGE, text)
        if text.plain != self._plain:
            self._plain = text.plain
            self.redraws += 1
            # One line, always: no layout pass (it would repaint the whole screen).
            self.update(text, layout=False)
