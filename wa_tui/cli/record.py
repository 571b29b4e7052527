"""`wa-tui record`: deployments' polls recorded headless (Textual is never imported): one
deployment to FILE, or with `--dir DIR` every deployment named, each to `DIR/NAME.db`, in
one process that polls each once per its interval."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wa_tui.cli.exporter import listen_address, listening, web_config_of, web_config_option
from wa_tui.cli.options import (
    Commands,
    UsageError,
    duration,
    redact_phone_recorded,
    size,
)
from wa_tui.cli.start import Start
from wa_tui.cli.targets import only_target, open_targets
from wa_tui.core import memory


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    record = commands.add_parser(
        "record",
        parents=[connection],
        help="record deployments' polls to FILE or DIR, headless (for a systemd unit)",
    )
    record.add_argument("file", metavar="FILE", nargs="?", help="one deployment's recording")
    record.add_argument(
        "--dir",
        metavar="DIR",
        help="every deployment named (the config file's, or --profile/--url), each to "
        "DIR/NAME.db; by default each keeps 7d and at most 2G",
    )
    record.add_argument(
        "--group",
        metavar="NAME",
        help="with --dir: the files 0640 and the folder 2750 for this group, which may read "
        "the recordings (every answer, phone numbers included unless --redact-phone; "
        "secrets masked) and never write them",
    )
    redact_phone_recorded(record)
    record.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="also serve /metrics and /healthz from the same polls (nothing polled twice)",
    )
    web_config_option(record)
    record.add_argument(
        "--interval",
        type=duration,
        default=argparse.SUPPRESS,  # or the one given before the command
        help="between polls: seconds, or 30s, 1m (default 5)",
    )
    record.add_argument(
        "--max-size", type=size, metavar="SIZE", help="drop the oldest polls past SIZE (500M)"
    )
    record.add_argument(
        "--keep", type=duration, metavar="DURATION", help="drop polls older than this (24h)"
    )
    record.set_defaults(run=run)


def run(start: Start) -> int:
    """Record headless: Textual is never imported."""
    args = start.args
    memory.resume()  # it runs for hours
    if (args.file is None) == (args.dir is None):
        raise UsageError("say where to record: FILE (one deployment) or --dir DIR (every one)")
    if args.group and args.dir is None:
        raise UsageError("--group goes with --dir")
    if args.web_config and not args.listen:
        raise UsageError("--web-config goes with --listen")
    address = listen_address(args.listen) if args.listen else None
    import asyncio

    from wa_tui.outputs import team

    keeping = team.Keeping(args.keep, args.max_size, args.redact_phone, args.group)
    folder = None
    with open_targets(start) as found:
        if args.file is not None:
            targets = [only_target(found)]
            recorders = [team.recorder_for(Path(args.file).expanduser(), targets[0], keeping)]
        else:
            targets = [t for t in found if not t.needs_password]
            for skipped in set(found) - set(targets):
                print(f"wa-tui: {skipped.name}: no password source, not recorded", file=sys.stderr)
            # SIGHUP: the config file read anew, its deployments added and removed.
            folder = (Path(args.dir).expanduser(), keeping, start.configured_anew)
            recorders = team.in_folder(folder[0], targets, keeping)
        try:
            for target, recorder in zip(targets, recorders, strict=True):
                print(
                    f"recording {target.name} every {target.settings.interval:g}s to "
                    f"{recorder.path}",
                    flush=True,
                )
            exporter = None
            if address is not None:
                from wa_tui.outputs.exporter import Exporter

                # The team adds each deployment's watcher to it: polled once, by it.
                exporter = Exporter([], web=web_config_of(args, address[0]))
            with listening(args.listen or ""):
                reload_web = bool(args.web_config)
                asyncio.run(
                    team.record_all(targets, recorders, exporter, address, folder, reload_web)
                )
        finally:
            for recorder in recorders:
                recorder.close()
    for recorder in recorders:
        print(f"recorded {recorder.polls} polls to {recorder.path}")
    return 0
