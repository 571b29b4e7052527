"""`wa-tui bundle`: one tar.gz to hand over, from a poll now or from a recording."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from wa_tui.cli.options import (
    EXIT_UNREADABLE,
    Commands,
    duration,
    positive,
    redact_phone_printed,
)
from wa_tui.cli.start import Start
from wa_tui.cli.targets import only_target, open_targets, replayed_to_the_end

if TYPE_CHECKING:
    from wa_tui.watch.targets import Target
    from wa_tui.watch.watcher import Watcher


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    bundle = commands.add_parser(
        "bundle",
        parents=[connection],
        help="one tar.gz to hand over: last answers, findings, changes, recording, config",
    )
    bundle.add_argument("--output", metavar="FILE", help="where (default: in this folder)")
    bundle.add_argument("--from-recording", metavar="FILE", help="build it from a recording")
    redact_phone_printed(bundle)
    window = bundle.add_mutually_exclusive_group()
    window.add_argument(
        "--last",
        type=duration,
        metavar="DURATION",
        help="of recording to include (default 30m)",
    )
    window.add_argument("--minutes", type=positive, help=argparse.SUPPRESS)  # as --last Nm

    bundle.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    import asyncio
    from pathlib import Path

    from wa_tui.core import clock
    from wa_tui.recording.bundle import default_name, handover_of, write_bundle

    config_path = None
    if args.from_recording:
        watcher = replayed_to_the_end(Path(args.from_recording).expanduser())
    else:
        config_path = start.config_path
        with open_targets(start) as found:
            watcher = asyncio.run(polled_once(only_target(found)))
        if watcher.last_answers is None:
            print(f"wa-tui: {watcher.status.error}", file=sys.stderr)
            return EXIT_UNREADABLE
    handover = handover_of(watcher, config_path=config_path)
    handover.redact_phone, handover.minutes = args.redact_phone, _minutes(args)
    output = Path(args.output or default_name(handover.deployment, clock.now())).expanduser()
    write_bundle(handover, output)
    print(output.resolve())
    return 0


async def polled_once(target: Target) -> Watcher:
    from wa_tui.watch.watcher import Watcher

    async with Watcher(target) as watcher:
        await watcher.poll()
    return watcher


def _minutes(args: argparse.Namespace) -> float:
    """The window asked for: `--last 30m`, or the older `--minutes 30`; 30 minutes."""
    if args.last is not None:
        return args.last / 60
    return args.minutes if args.minutes is not None else 30.0
