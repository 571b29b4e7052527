"""The vitals pane (`v`): what the deployment is doing, each vital with its sparkline over
the last 30 minutes and a text marker beside any colour. Redrawn only when a line of it
changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from wa_tui.core.text import visible
from wa_tui.model.judgement import Finding, Severity
from wa_tui.ui.badges import severity_mark
from wa_tui.ui.poll_view import PollView
from wa_tui.ui.redraw import SizedStatic

# The analysis is imported where the vitals are drawn, not with the pane: a follower's
# first frame (the recorder's stored poll) has no vitals yet, and draws before it loads.
if TYPE_CHECKING:
    from wa_tui.analysis.vitals import Vitals, VitalsTracker
    from wa_tui.api.answers import Unread

LABEL_WIDTH = 18
VALUE_WIDTH = 12
SPARK_WIDTH = 30


def _marker(code: str | None, findings: dict[str, Severity]) -> Text:
    severity = findings.get(code) if code else None
    if severity is None or severity is Severity.INFO:
        return Text("✔", style="green") if code else Text(" ")
    return severity_mark(severity)


@dataclass(frozen=True)
class VitalsShown:
    """The pane's text: a line per vital (cut at the pane's edge: a sparkline does not
    wrap), then what explains them, wrapped (long family names, failing results)."""

    lines: Text
    details: Text

    @property
    def plain(self) -> str:
        return self.lines.plain + ("\n" + self.details.plain if self.details.plain else "")

    def renderable(self) -> RenderableType:
        return Group(self.lines, self.details) if self.details.plain else self.lines


def render_vitals(tracker: VitalsTracker | None, findings: tuple[Finding, ...]) -> VitalsShown:
    """`tracker` None: a follower's first frame, its history being read."""
    if tracker is None:
        return VitalsShown(Text("Reading the recorder's last 30 minutes…", style="dim"), Text())
    from wa_tui.analysis.vitals import VITAL_LINES, sparkline

    vitals = tracker.latest
    if vitals is None:
        return VitalsShown(Text("Waiting for the stats and metrics…", style="dim"), Text())
    worst: dict[str, Severity] = {}
    for finding in findings:
        worst[finding.code] = max(worst.get(finding.code, finding.severity), finding.severity)
    lines = [_unavailable(path, why) for path, why in sorted(vitals.unavailable.items())]
    for line in VITAL_LINES:
        value = vitals.value(line.name)
        spark = sparkline(tracker.history[line.name], SPARK_WIDTH)
        lines.append(
            Text.assemble(
                _marker(line.raises, worst) if value is not None else Text(" "),
                f" {line.label:<{LABEL_WIDTH}}",
                (f"{line.shown(vitals):>{VALUE_WIDTH}}  ", "bold"),
                (spark, "cyan"),
            )
        )
    text = Text("\n").join(lines)
    text.no_wrap, text.overflow = True, "ellipsis"  # one line per vital, whatever the width
    details = Text("\n").join(_details(vitals))
    details.overflow = "fold"  # a family name longer than the pane, folded too
    return VitalsShown(text, details)


def _unavailable(path: str, unread: Unread) -> Text:
    style = "red" if unread.failed else "dim"
    return Text(f"  {path}: {visible(str(unread), limit=120)}", style=style)


def _details(vitals: Vitals) -> list[Text]:
    """What explains the numbers: where the queue is, which results fail."""
    from wa_tui.analysis.vitals import webapps_line

    lines = []
    queues = sorted(vitals.callback_queue_by_node.items(), key=lambda item: -item[1])
    busy = [f"{visible(node, limit=40)} {queue:,.0f}" for node, queue in queues[:3] if queue]
    if busy:
        lines.append(Text(f"  queue by coreapp: {', '.join(busy)}", style="dim"))
    if vitals.failing_results:
        lines.append(Text(f"  failing callbacks: {_rates(vitals.failing_results)}", style="yellow"))
    if vitals.db_errors_by_request:
        lines.append(Text(f"  DB errors by request: {_rates(vitals.db_errors_by_request)}"))
    if (webapps := webapps_line(vitals)) is not None:
        lines.append(Text(f"  {webapps}", style="dim"))
    if vitals.unknown_families:
        names = [visible(name, limit=40) for name in vitals.unknown_families]
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        lines.append(Text(f"  also reported: {', '.join(names[:4])}{more}", style="dim"))
    if vitals.problems:
        lines.append(Text(f"  skipped: {visible(vitals.problems[0], limit=100)}", style="yellow"))
    return lines


def _rates(rates: tuple[tuple[str, float], ...]) -> str:
    from wa_tui.analysis.vitals import result_label

    return ", ".join(
        f"{visible(result_label(label), limit=20)} {rate:,.1f}/s" for label, rate in rates[:3]
    )


class VitalsPanel(SizedStatic):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("Waiting for the stats and metrics…", style="dim"), id=id)
        self._shown: str | None = None
        self.redraws = 0  # for tests and benchmarks

    def reset(self) -> None:
        """Nothing to forget: the next deployment's lines are compared as they come."""

    def show(self, view: PollView) -> None:
        """Repaint when a line changed; lay the screen out again only when its height
        did (SizedStatic measures it: the details wrap)."""
        shown = render_vitals(view.vitals, view.findings)
        if shown.plain == self._shown:
            return
        self._shown = shown.plain
        self.redraws += 1
        self.show_content(shown.renderable())
