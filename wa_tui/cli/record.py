"""`wa-tui record`: a deployment's polls recorded headless (Textual is never imported)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from wa_tui.cli.common import Commands, duration, only_target, open_targets, positive, size
from wa_tui.core import memory

if TYPE_CHECKING:
    from wa_tui.recording.writer import Recorder
    from wa_tui.watch.targets import Target


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    record = commands.add_parser(
        "record",
        parents=[connection],
        help="record a deployment's polls to FILE, headless (for a systemd unit or nohup)",
    )
    record.add_argument("file", metavar="FILE")
    record.add_argument(
        "--interval",
        type=positive,
        default=argparse.SUPPRESS,  # or the one given before the command
        help="seconds between polls (default 5)",
    )
    record.add_argument(
        "--max-size", type=size, metavar="SIZE", help="drop the oldest polls past SIZE (500M)"
    )
    record.add_argument(
        "--keep", type=duration, metavar="DURATION", help="drop polls older than this (24h)"
    )
    record.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Record headless: Textual is never imported."""
    import signal

    memory.resume()  # it runs for hours
    from wa_tui.recording.writer import recording_consumer
    from wa_tui.watch.watcher import Phase, Update, Watcher

    with open_targets(args) as found:
        target = only_target(found)
        recorder = recorder_for(args.file, target, args)

        def report(update: Update) -> None:
            if update.phase is Phase.POLLED and update.result and update.result.error:
                print(f"wa-tui: poll failed (recorded): {update.result.error}", file=sys.stderr)

        async def record() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            async with Watcher(target) as watcher:
                watcher.subscribe(recording_consumer(recorder), "the recorder")
                watcher.subscribe(report, "the error report")
                polling = asyncio.create_task(watcher.run())
                await stop.wait()
                polling.cancel()
                await asyncio.sleep(0.2)  # the last poll's write ends

        print(
            f"recording {target.name} every {target.settings.interval:g}s to {recorder.path}; "
            "Ctrl+C stops",
            flush=True,
        )
        try:
            asyncio.run(record())
        finally:
            recorder.close()
    print(f"recorded {recorder.polls} polls to {recorder.path}")
    return 0


def recorder_for(path: str, target: Target, args: argparse.Namespace | None = None) -> Recorder:
    from pathlib import Path

    from wa_tui.recording.writer import Recorder

    return Recorder(
        Path(path).expanduser(),
        target.name,
        target.url,
        max_bytes=getattr(args, "max_size", None),
        keep_seconds=getattr(args, "keep", None),
    )
