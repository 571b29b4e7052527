"""`wa-tui snapshot`: one poll's nodes and findings, as text or JSON."""

from __future__ import annotations

import argparse
import sys

from wa_tui.cli.options import (
    EXIT_UNREADABLE,
    Commands,
    one_shot_options,
    recording_options,
    redact_phone_printed,
)
from wa_tui.cli.start import Start
from wa_tui.cli.targets import last_recorded, read_once_from, recording_asked


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    snapshot = commands.add_parser(
        "snapshot", parents=[connection], help="fetch once and print nodes and findings"
    )
    snapshot.add_argument("--format", choices=("text", "json"), default="text")
    redact_phone_printed(snapshot)
    one_shot_options(snapshot)
    recording_options(snapshot)
    snapshot.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    from wa_tui.outputs.check import Source, snapshot_json, snapshot_text

    path, settings = recording_asked(start)
    if path is not None:
        recorded = last_recorded(path, settings, args.max_age, args.rejudge)  # none: exit 2
        if recorded.stale is not None:
            print(f"wa-tui: {recorded.stale}", file=sys.stderr)
            return EXIT_UNREADABLE
        source, result = recorded.source, recorded.result
    else:
        target, result = read_once_from(start)
        source = Source(target.name, target.url)
    if result.snapshot is None:
        print(f"wa-tui: {result.error}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.format == "json":
        print(snapshot_json(source, result, args.redact_phone))
    else:
        print(snapshot_text(source, result))
    return 0
