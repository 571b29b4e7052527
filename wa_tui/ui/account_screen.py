"""`i`: the incident accounted, for what this session has seen (live) or the whole
recording (replay): charts drawn in the terminal (time across, the findings' spans
marked under each), then every moment in time order; in replay, `enter` on a moment
jumps there. The same account and the same moments as `wa-tui report`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wa_tui.analysis.accounting import Account, ChartPoint, Episode
from wa_tui.core.text import visible
from wa_tui.keys import ACCOUNT
from wa_tui.model.judgement import Severity
from wa_tui.outputs.incident_report import CALLBACK_CODES, SHARD_CODES, moments
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce, PagedOptionList
from wa_tui.ui.redraw import Block

BARS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = 9
SPAN_STYLES = {Severity.CRITICAL: "red", Severity.WARNING: "yellow"}


@dataclass(frozen=True)
class Series:
    title: str
    value: Callable[[ChartPoint], float | None]
    codes: tuple[str, ...]  # the findings whose spans are marked under it
    style: str
    share: bool = False


SERIES = (
    Series("callback queue", lambda p: p.callback_queue, CALLBACK_CODES, "cyan"),
    Series(
        "callback failure share",
        lambda p: p.callback_failure_share,
        CALLBACK_CODES,
        "magenta",
        share=True,
    ),
    Series(
        "shards down (owner down + unassigned)",
        lambda p: p.shards_down,
        SHARD_CODES,
        "red",
    ),
)


def chart(account: Account, series: Series, width: int, height: int = 4) -> Text:
    """One series over the account's time as bars, its findings' spans under it, and
    the times at both ends."""
    points, plot = account.chart, max(width - LABEL_WIDTH, 10)
    text = Text(f"{series.title}\n", style="bold")
    if not points or account.started is None or account.until is None:
        return text.append("nothing seen yet", style="dim")
    start, end = points[0].at, points[-1].at
    span = max((end - start).total_seconds(), 1.0)
    columns: list[float | None] = [None] * plot
    for point in points:
        value = series.value(point)
        column = min(int((point.at - start).total_seconds() / span * plot), plot - 1)
        if value is not None:
            columns[column] = max(value, columns[column] or 0.0)
    columns = _held(columns, account, start, span)
    highest = max((v for v in columns if v is not None), default=0.0)
    scale = 1.0 if series.share else max(highest, 1.0)
    for row in range(height):
        label = _figure(scale, series.share) if row == 0 else ("0" if row == height - 1 else "")
        text.append(f"{label:>{LABEL_WIDTH - 1}} ", style="dim")
        for value in columns:
            eighths = 0 if value is None else round(value / scale * height * 8)
            filled = min(max(eighths - (height - 1 - row) * 8, 0), 8)
            text.append(BARS[filled], style=series.style)
        text.append("\n")
    text.append(" " * LABEL_WIDTH)
    text.append_text(_spans(account, series.codes, start, span, plot))
    left, right = f"{start:%H:%M:%S}", f"{end:%H:%M:%S} UTC"
    gap = max(plot - len(left) - len(right), 1)
    return text.append(f"\n{' ' * LABEL_WIDTH}{left}{' ' * gap}{right}", style="dim")


def _held(
    columns: list[float | None], account: Account, start: datetime, span: float
) -> list[float | None]:
    """Columns between two polls hold the value of the poll before (more columns than
    polls); the gaps stay empty: nothing was known then."""
    held, last = [], None
    for value in columns:
        last = value if value is not None else last
        held.append(last)
    plot = len(columns)
    for gap in account.gaps:
        end = gap.end or gap.start
        first = int((gap.start - start).total_seconds() / span * plot)
        final = int((end - start).total_seconds() / span * plot)
        for column in range(max(first + 1, 0), min(final, plot)):
            held[column] = None
    return held


def _spans(
    account: Account, codes: tuple[str, ...], start: datetime, span: float, plot: int
) -> Text:
    """A row under the chart: each column marked by the worst finding open then."""
    worst: list[Severity | None] = [None] * plot
    for episode in account.episodes:
        if not episode.code.startswith(codes) or episode.severity not in SPAN_STYLES:
            continue
        first, last = _columns(episode, account, start, span, plot)
        for column in range(first, last + 1):
            marked = worst[column]
            if marked is None or episode.severity > marked:
                worst[column] = episode.severity
    row = Text()
    for severity in worst:
        if severity is None:
            row.append(" ")
        else:
            row.append("▀", style=SPAN_STYLES[severity])
    return row


def _columns(
    episode: Episode, account: Account, start: datetime, span: float, plot: int
) -> tuple[int, int]:
    end = episode.span.end or account.until or episode.span.start

    def column(moment: datetime) -> int:
        return min(max(int((moment - start).total_seconds() / span * plot), 0), plot - 1)

    return column(episode.span.start), column(end)


def _figure(value: float, share: bool) -> str:
    if share:
        return f"{value:.0%}"
    return f"{value / 1000:,.0f}k" if value >= 10_000 else f"{value:,.0f}"


def _count(count: int, what: str) -> str:
    return f"{count:,} {what}" + ("" if count == 1 else "s")


def chart_rows(terminal_height: int) -> int:
    """A chart's height: the three charts leave the moments room on any terminal."""
    return 4 if terminal_height >= 40 else 2 if terminal_height >= 28 else 1


class AccountChart(Block):
    """A chart as wide as the screen gives it, drawn again when the terminal's size
    changes."""

    def __init__(self, account: Account, series: Series, id: str) -> None:
        super().__init__(id=id)
        self.account, self.series = account, series

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        rows = chart_rows(self.app.size.height)
        self.update(chart(self.account, self.series, self.content_size.width, rows))


class AccountScreen(DismissOnce, ModalScreen[datetime | None]):
    """Dismissed with the moment to jump to (replay), or None."""

    BINDINGS = bindings(ACCOUNT)
    HELP_GROUPS = (("Incident", ACCOUNT),)

    def __init__(self, account: Account, document: dict[str, Any], replay: bool) -> None:
        super().__init__()
        self.account, self.document, self.replay = account, document, replay
        self.moments = moments(document)
        # Made here, not queried: a key may come as the screen is composed or taken down.
        self._list = PagedOptionList(
            *(
                Option(Text.assemble((f"{at[11:19]}  ", "dim"), visible(what)))
                for at, what in self.moments
            ),
            id="account-moments",
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="account"):
            yield Block(self._title(), id="account-title")
            for index, series in enumerate(SERIES):
                yield AccountChart(self.account, series, id=f"account-chart-{index}")
            yield self._list

    def _title(self) -> Text:
        covered = self.document["covered"]
        where = "the recording" if self.replay else "this session"
        down = sum(1 for s in self.document["shards"] if s["intervals"])
        text = Text.assemble(
            (f"Incident, as {where} saw it", "bold underline"),
            f"\n{_count(covered['polls'], 'poll')}, {_count(len(covered['gaps']), 'gap')} · "
            f"{_count(len(self.document['failovers']), 'failover')} · "
            f"{_count(down, 'shard')} down at some point · "
            f"{_count(len(self.document['findings']), 'finding')} raised",
        )
        hint = "enter: jump there · " if self.replay else ""
        return text.append(f"\n{hint}escape: close · wa-tui report writes this down", "dim")

    def on_mount(self) -> None:
        if not self.moments:
            self._list.add_option(Option("nothing happened", disabled=True))
        self.set_focus(self._list)

    def on_resize(self) -> None:
        for widget in self.query(AccountChart):  # a taller or shorter terminal
            widget.redraw()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_jump(event.option_index)

    def action_jump(self, index: int | None = None) -> None:
        if index is None:
            index = self._list.highlighted
        if index is None or index >= len(self.moments):
            return
        if not self.replay:
            self.notify("jumping to a moment is for replay: this is live")
            return
        moment = datetime.fromisoformat(self.moments[index][0].replace("Z", "+00:00"))
        self.dismiss_once(moment)
