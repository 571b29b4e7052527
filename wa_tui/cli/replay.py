"""`wa-tui replay`: a recording on the dashboard."""

from __future__ import annotations

import argparse
import sys

from wa_tui.cli.options import Commands, UsageError
from wa_tui.cli.start import Start
from wa_tui.cli.targets import reading_whole


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    replay = commands.add_parser("replay", help="replay a recording on the dashboard")
    replay.add_argument("file", metavar="FILE")
    replay.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    from pathlib import Path

    from wa_tui.recording.replay import ReplayWatcher

    watcher = ReplayWatcher.open(Path(args.file).expanduser(), progress=reading_whole)
    if not len(watcher):
        raise UsageError(f"{args.file}: the recording holds no poll")
    if watcher.recording.stopped:
        print(f"wa-tui: {watcher.recording.stopped}", file=sys.stderr)
    from wa_tui.ui.crash import run_app
    from wa_tui.ui.replay_app import ReplayApp

    return run_app(ReplayApp(watcher, keymap=start.keymap))[1]
