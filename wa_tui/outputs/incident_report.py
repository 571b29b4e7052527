"""`wa-tui report RECORDING`: the incident accounted from a recording, as Markdown (the
review's first draft: a timeline, the tables, charts beside it) or JSON.

The account comes from `ReplayWatcher.account`: what the recorder derived of each poll,
counted by wa_tui/analysis/accounting.py; the answers are never read again (a recording
made before `derived` rows were written is derived first, as replay does). Charts are
SVG files drawn by matplotlib, imported only here and only when charts are asked for
(the optional extra `wa-tui[charts]`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wa_tui import __version__
from wa_tui.analysis.accounting import Account, ChartPoint, Episode
from wa_tui.core import clock
from wa_tui.core.private_files import open_private, write_private
from wa_tui.core.secrets import mask_line, mask_phones
from wa_tui.core.text import exact_duration, iso_time, visible
from wa_tui.model.judgement import Severity
from wa_tui.model.snapshot import shard_name

# The findings each chart marks (here and on the `i` screen), by the start of their code.
CALLBACK_CODES = ("CALLBACK", "WEBHOOK")
SHARD_CODES = ("SHARD", "SOCKET", "NO_PRIMARY", "PRIMARY", "MASTER", "NODE", "GATEWAY")
SEVERITY_COLOURS = {Severity.CRITICAL: "#d62728", Severity.WARNING: "#ff9f1c"}


@dataclass(frozen=True)
class Chart:
    file: str
    title: str
    codes: tuple[str, ...]  # the findings it marks


CHARTS = (
    Chart("callbacks.svg", "Callback queue and failure share", CALLBACK_CODES),
    Chart("shards.svg", "Shard owners down and shards unassigned", SHARD_CODES),
)


class ChartsUnavailable(Exception):
    """matplotlib is not installed: the report is written without its charts."""


# -- JSON ---------------------------------------------------------------------------------


def report_document(account: Account, deployment: str, redact_phone: bool) -> dict[str, Any]:
    document = {
        "deployment": deployment,
        "generated_at": iso_time(clock.now()),
        "generated_by": f"wa-tui {__version__}",
        **account.document(),
    }
    if account.shapeless:
        document["note"] = _shapeless_note(account)
    return _masked(document, redact_phone)


def _masked(value: Any, redact_phone: bool) -> Any:
    """Every text of the report with secrets masked (and phone numbers, if asked)."""
    if isinstance(value, dict):
        return {k: _masked(v, redact_phone) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, redact_phone) for v in value]
    if isinstance(value, str):
        value = mask_line(value)
        return mask_phones(value) if redact_phone else value
    return value


def _shapeless_note(account: Account) -> str:
    return (
        f"{account.shapeless} of {account.polls} polls were recorded by a wa-tui that did "
        "not keep the primary master and the shards: failovers and shard downtime cover "
        "only the others"
    )


# -- Markdown -----------------------------------------------------------------------------


def report_markdown(document: dict[str, Any], charts: list[Chart] | None) -> str:
    """The review's first draft from `report_document`'s output; `charts` the SVG files
    written beside it (None: not asked; []: matplotlib missing)."""
    covered = document["covered"]
    lines = [
        f"# Incident report: {_cell(document['deployment'])}",
        "",
        f"Covered: {_when(covered['from'])} to {_when(covered['until'])}, "
        f"{covered['polls']:,} polls, {len(covered['gaps'])} gaps. "
        f"Times are UTC and exact to a poll interval. Made by {document['generated_by']}.",
    ]
    if "note" in document:
        lines += ["", f"> {document['note']}"]
    sections = (
        ("Timeline", _timeline(document)),
        ("Failovers of the primary master", _failovers(document["failovers"])),
        ("Shards down", _shards(document["shards"])),
        ("Findings", _findings(document["findings"])),
        ("Peaks", _peaks(document["vitals"])),
        ("Restarts", _restarts(document["restarts"])),
        ("Gaps", _gaps(covered["gaps"])),
    )
    for title, body in sections:
        lines += ["", f"## {title}", "", *body]
    if charts is not None:
        lines += ["", "## Charts", ""]
        if not charts:
            lines.append("No charts: install them with `pip install 'wa-tui[charts]'`.")
        lines += [f"![{c.title}]({c.file})\n" for c in charts]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: object) -> str:
    """A table cell: visible, and no `|` to break the row."""
    return visible(str(text), limit=200).replace("|", "\\|")


def _when(moment: str | None) -> str:
    return "—" if moment is None else moment.replace("T", " ").removesuffix("Z")


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]], none: str) -> list[str]:
    if not rows:
        return [none]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows),
    ]


def _timeline(document: dict[str, Any]) -> list[str]:
    rows = [(_when(at), what) for at, what in moments(document)]
    return _table(("time (UTC)", "what"), rows, "Nothing happened.")


def moments(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The account's moments in time order, each (ISO time, what happened): the
    timeline of the report and of the `i` screen."""
    moments: list[tuple[str, str]] = []
    for f in document["failovers"]:
        moments.append((f["lost_at"], f"primary master {f['lost_node']} lost"))
        if f["restored_at"]:
            moments.append((f["restored_at"], f"primary master again: {f['new_node']}"))
    for shard in document["shards"]:
        name = shard_name(shard["shard"])
        starts = {span["from"] for span in shard["intervals"]}
        for span in shard["intervals"]:
            moments.append((span["from"], f"{name} down: {span['why']}"))
            if span["until"] and span["until"] not in starts:  # not down again at once
                moments.append((span["until"], f"{name} up"))
    for e in document["findings"]:
        if e["severity"] != Severity.INFO.label:
            moments.append((e["raised_at"], f"{e['code']} raised ({e['severity']})"))
            if e["cleared_at"]:
                moments.append((e["cleared_at"], f"{e['code']} cleared"))
    for r in document["restarts"]:
        moments.append((r["at"], f"{r['node']} restarted"))
    for gap in document["covered"]["gaps"]:
        moments.append((gap["from"], f"nothing known until {_when(gap['until'])}: {gap['why']}"))
    return sorted(moments, key=lambda moment: moment[0])


def _failovers(failovers: list[dict[str, Any]]) -> list[str]:
    rows = [
        (
            _when(f["lost_at"]),
            _when(f["restored_at"]),
            exact_duration(f["seconds"]),
            f["lost_node"],
            f["new_node"] or "—",
        )
        for f in failovers
    ]
    header = ("lost", "restored", "without one", "lost node", "new node")
    return _table(header, rows, "The primary master was never lost.")


def _shards(shards: list[dict[str, Any]]) -> list[str]:
    rows = [
        (
            "control (-1)" if s["shard"] == -1 else s["shard"],
            exact_duration(s["down_seconds"]),
            "; ".join(
                f"{_when(i['from'])} to {_when(i['until'])} ({i['why']})" for i in s["intervals"]
            ),
        )
        for s in shards
        if s["intervals"]
    ]
    never = sum(1 for s in shards if not s["intervals"])
    body = _table(("shard", "down", "when and why"), rows, "No shard was down.")
    return [*body, "", f"{never} of {len(shards)} shards were never down."] if rows else body


def _findings(episodes: list[dict[str, Any]]) -> list[str]:
    rows = [
        (
            e["code"],
            e["severity"],
            ", ".join(e["nodes"]) or "—",
            ", ".join(map(str, e["shards"])) or "—",
            _when(e["raised_at"]),
            _when(e["cleared_at"]) if e["cleared_at"] else "still open",
            exact_duration(e["seconds"]),
        )
        for e in episodes
    ]
    header = ("code", "severity", "nodes", "shards", "raised", "cleared", "for")
    return _table(header, rows, "No findings.")


def _peaks(vitals: dict[str, Any]) -> list[str]:
    rows = [
        (name.replace("_", " "), _figure(name, peak["peak"]), _when(peak["at"]))
        for name, peak in vitals.items()
        if peak is not None
    ]
    return _table(("vital", "peak", "at"), rows, "No vitals were read.")


def _figure(name: str, value: float) -> str:
    if name.endswith("share"):
        return f"{value:.1%}"
    return f"{value:,.2f}/s" if name.endswith("per_second") else f"{value:,.0f}"


def _restarts(restarts: list[dict[str, Any]]) -> list[str]:
    rows = [(_when(r["at"]), r["node"]) for r in restarts]
    return _table(("at", "node"), rows, "No restarts.")


def _gaps(gaps: list[dict[str, Any]]) -> list[str]:
    rows = [(_when(g["from"]), _when(g["until"]), g["why"]) for g in gaps]
    return _table(("from", "until", "why"), rows, "None: every poll was read.")


# -- charts -------------------------------------------------------------------------------


def write_charts(account: Account, folder: Path) -> list[Chart]:
    """The charts as SVG files in `folder` (0600); ChartsUnavailable without matplotlib."""
    try:
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartsUnavailable("pip install 'wa-tui[charts]'") from None
    points = account.chart
    times = [p.at for p in points]
    drawn = []
    for chart, draw in zip(CHARTS, (_callbacks, _shard_counts), strict=True):
        figure = Figure(figsize=(10, 3.6), layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        draw(axes, times, points)
        marked = [e for e in account.episodes if e.code.startswith(chart.codes)]
        _mark_spans(axes, marked, account)
        axes.set_title(chart.title, loc="left")
        axes.grid(alpha=0.3)
        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        axes.set_xlabel("time (UTC); shaded: the findings' spans")
        with open_private(folder / chart.file) as out:
            figure.savefig(out, format="svg", metadata={"Date": None})
        drawn.append(chart)
    return drawn


def _callbacks(axes: Any, times: list[datetime], points: list[ChartPoint]) -> None:
    axes.plot(times, [_nan(p.callback_queue) for p in points], color="#1f77b4")
    axes.set_ylabel("callback queue", color="#1f77b4")
    share = axes.twinx()
    share.plot(times, [_nan(p.callback_failure_share) for p in points], color="#9467bd")
    share.set_ylabel("failure share", color="#9467bd")
    share.set_ylim(0, 1.05)


def _shard_counts(axes: Any, times: list[datetime], points: list[ChartPoint]) -> None:
    axes.step(times, [_nan(p.owners_down) for p in points], where="post", label="owners down")
    axes.step(times, [_nan(p.unassigned) for p in points], where="post", label="unassigned")
    axes.set_ylabel("shards")
    axes.legend(loc="upper right")
    axes.set_ylim(bottom=0)
    axes.yaxis.get_major_locator().set_params(integer=True)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _mark_spans(axes: Any, episodes: list[Episode], account: Account) -> None:
    """Each finding's episode shaded in its severity's colour; the codes raised at one
    moment named together there."""
    named: dict[datetime, list[Episode]] = {}
    for episode in episodes:
        colour = SEVERITY_COLOURS.get(episode.severity)
        if colour is None:
            continue
        end = episode.span.end or account.until
        axes.axvspan(episode.span.start, end, color=colour, alpha=0.15, linewidth=0)
        named.setdefault(episode.span.start, []).append(episode)
    for start, raised in named.items():
        worst = max(raised, key=lambda e: e.severity)
        axes.annotate(
            ", ".join(dict.fromkeys(e.code for e in raised)),
            (start, 0.98),
            xycoords=("data", "axes fraction"),
            xytext=(2, 0),
            textcoords="offset points",
            fontsize=7,
            color=SEVERITY_COLOURS[worst.severity],
            rotation=90,
            va="top",
        )


# -- files --------------------------------------------------------------------------------


def write_report(
    account: Account, deployment: str, folder: Path, redact_phone: bool
) -> Iterator[str]:
    """report.md, report.json and the charts in `folder`; what was written, line by line."""
    folder.mkdir(parents=True, exist_ok=True)
    document = report_document(account, deployment, redact_phone)
    try:
        charts = write_charts(account, folder)
    except ChartsUnavailable as missing:
        charts = []
        yield f"no charts: matplotlib is not installed ({missing})"
    write_private(folder / "report.json", json.dumps(document, indent=2) + "\n")
    write_private(folder / "report.md", report_markdown(document, charts))
    yield str(folder / "report.md")
