"""`wa-tui report`: the incident accounted from a recording (Textual is never imported;
matplotlib only for charts)."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from wa_tui.cli.options import (
    Commands,
    UsageError,
    duration,
    redact_phone_printed,
)
from wa_tui.cli.start import Start
from wa_tui.cli.targets import reading_whole


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    report = commands.add_parser(
        "report",
        help="the incident accounted from a recording: failovers, shards down, findings",
        description="The incident accounted from a recording: failovers of the primary "
        "master, each shard's downtime, findings raised and cleared, the vitals' peaks, "
        "restarts and gaps. Markdown (or JSON) on stdout, or in DIR with SVG charts.",
    )
    report.add_argument("file", metavar="RECORDING")
    report.add_argument(
        "--since",
        metavar="TIME",
        help="from (14:05, 2026-11-26T14:05, or a duration before the end: 30m, 24h)",
    )
    report.add_argument("--until", metavar="TIME", help="to (as --since)")
    report.add_argument("--format", choices=("markdown", "json"), default="markdown")
    report.add_argument(
        "--output-dir",
        "--output",
        dest="output",
        metavar="DIR",
        help="write report.md, report.json and charts in this folder",
    )
    redact_phone_printed(report)

    report.set_defaults(run=run)


def run(start: Start) -> int:
    """`wa-tui report`: Textual is never imported; matplotlib only for charts."""
    args = start.args
    import json
    from pathlib import Path

    from wa_tui.outputs.incident_report import report_document, report_markdown, write_report
    from wa_tui.recording.replay import ReplayWatcher

    path = Path(args.file).expanduser()
    watcher = ReplayWatcher.open(path, progress=reading_whole)
    if not len(watcher):
        raise UsageError(f"{path}: the recording holds no poll")
    day, end = watcher.recording.ats[0], watcher.recording.ats[-1]
    since, until = (moment_of(getattr(args, f), f, day, end) for f in ("since", "until"))
    account = watcher.account(since, until)
    if not account.polls:
        raise UsageError(f"{path}: no poll between --since and --until")
    deployment = watcher.recording.meta.get("deployment", "recording")
    if args.output:
        for line in write_report(account, deployment, Path(args.output), args.redact_phone):
            print(line)
        return 0
    document = report_document(account, deployment, args.redact_phone)
    shown = json.dumps(document, indent=2) if args.format == "json" else None
    print(shown or report_markdown(document, charts=None), end="\n" if shown else "")
    return 0


def moment_of(value: str | None, flag: str, day: datetime, end: datetime) -> datetime | None:
    """A moment of the recording: a time (of `day`, without a date), or a duration
    before its `end` (`30m`: the last half hour)."""
    from wa_tui.recording.replay import MOMENT_EXAMPLES, parse_moment

    if value is None:
        return None
    moment = parse_moment(value, day)
    if moment is not None:
        return moment
    try:
        return end - timedelta(seconds=duration(value))
    except argparse.ArgumentTypeError:
        raise UsageError(
            f"--{flag} {value!r}: not a time; try {MOMENT_EXAMPLES}, or 30m before the end"
        ) from None
