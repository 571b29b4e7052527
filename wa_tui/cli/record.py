"""`wa-tui record`: deployments' polls recorded headless (Textual is never imported): one
deployment to FILE, or with `--dir DIR` every deployment named, each to `DIR/NAME.db`, in
one process that polls each once per its interval."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.common import (
    Commands,
    UsageError,
    duration,
    only_target,
    open_targets,
    positive,
    size,
)
from wa_tui.cli.exporter import (
    listen_address,
    listening,
    start_serving,
    stop_on_signals,
    web_config_of,
    web_config_option,
)
from wa_tui.core import clock, memory
from wa_tui.core.errors import RecordingError

if TYPE_CHECKING:
    from wa_tui.outputs.exporter import Exporter
    from wa_tui.recording.writer import Recorder
    from wa_tui.watch.targets import Target
    from wa_tui.watch.watcher import Update, Watcher

# With --dir the recorder runs for the team, for months: what each file keeps by default.
DIR_KEEP_SECONDS = 7 * 86400.0
DIR_MAX_BYTES = 2 * 1024**3


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
    record.add_argument(
        "--redact-phone",
        action="store_true",
        help="mask phone numbers (wa_id) before they are written, as secrets always are",
    )
    record.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="also serve /metrics and /healthz from the same polls (nothing polled twice)",
    )
    web_config_option(record)
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
    memory.resume()  # it runs for hours
    if (args.file is None) == (args.dir is None):
        raise UsageError("say where to record: FILE (one deployment) or --dir DIR (every one)")
    if args.group and args.dir is None:
        raise UsageError("--group goes with --dir")
    if args.web_config and not args.listen:
        raise UsageError("--web-config goes with --listen")
    address = listen_address(args.listen) if args.listen else None
    with open_targets(args) as found:
        if args.file is not None:
            targets = [only_target(found)]
            recorders = [recorder_for(args.file, targets[0], args)]
        else:
            targets = [t for t in found if not t.needs_password]
            for skipped in set(found) - set(targets):
                print(f"wa-tui: {skipped.name}: no password source, not recorded", file=sys.stderr)
            recorders = _in_folder(Path(args.dir).expanduser(), targets, args)
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
                asyncio.run(_record(targets, recorders, exporter, address, args))
        finally:
            for recorder in recorders:
                recorder.close()
    for recorder in recorders:
        print(f"recorded {recorder.polls} polls to {recorder.path}")
    return 0


def _configured(args: argparse.Namespace) -> list[Target]:
    """The deployments the config file names now (SIGHUP)."""
    from wa_tui import config
    from wa_tui.cli.common import overrides_of
    from wa_tui.watch import targets

    path = config.config_path(getattr(args, "config", None))
    return targets.configured(path, getattr(args, "profile", None), overrides_of(args))


def _in_folder(folder: Path, targets: list[Target], args: argparse.Namespace) -> list[Recorder]:
    """A recorder per target in `folder` (made 0700 if it is not there; with --group,
    2750 and the group's, setgid so SQLite's side files get the group too)."""
    group = _group_id(args.group) if args.group else None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if group is not None:
        os.chown(folder, -1, group)
        folder.chmod(0o2750)
    from wa_tui.recording.format import recording_path

    paths = [recording_path(folder, t.name) for t in targets]
    if len(set(paths)) < len(paths):
        raise UsageError(f"two deployments would record to one file in {folder}: rename one")
    from wa_tui.recording.writer import Recorder

    recorders: list[Recorder] = []
    try:
        for target, path in zip(targets, paths, strict=True):
            keep = args.keep if args.keep is not None else DIR_KEEP_SECONDS
            biggest = args.max_size if args.max_size is not None else DIR_MAX_BYTES
            recorder = Recorder(
                path,
                target.name,
                target.url,
                max_bytes=biggest,
                keep_seconds=keep,
                mode=0o600 if group is None else 0o640,
                interval=target.settings.interval,
                group=group,
                say=say,
                redact_phone=args.redact_phone,
            )
            recorders.append(recorder)
    except BaseException:
        for recorder in recorders:
            recorder.close()
        raise
    return recorders


def _group_id(name: str) -> int:
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise UsageError(f"--group {name!r}: no such group on this machine") from None


async def _record(
    targets: list[Target],
    recorders: list[Recorder],
    exporter: Exporter | None,
    address: tuple[str, int] | None,
    args: argparse.Namespace,
) -> None:
    """Poll every target once per its interval, each poll to its recorder, a heartbeat
    every interval, until SIGINT or SIGTERM; with --dir, SIGHUP reads the config again
    (deployments added and removed) and the web configuration. With an exporter, it
    polls (and serves the same polls' metrics); else the team does."""
    team = Team(exporter, args)
    for index, (target, recorder) in enumerate(zip(targets, recorders, strict=True)):
        team.add(target, recorder, start=target.settings.interval * index / len(targets))
    reread = team.reread_soon if args.dir is not None else None
    stop = stop_on_signals(exporter, bool(args.web_config), reread)
    serving = await start_serving(exporter, *address) if exporter and address else None
    await stop.wait()
    if serving is not None:
        serving.cancel()
    await team.close()
    await asyncio.sleep(0.2)  # the last poll's write ends


class Team:
    """The deployments being recorded: a watcher, a recorder and their tasks each."""

    def __init__(self, exporter: Exporter | None, args: argparse.Namespace) -> None:
        self.exporter = exporter
        self.args = args
        self.members: dict[str, tuple[Watcher, Recorder, list[asyncio.Task[None]]]] = {}
        self._rereading: set[asyncio.Task[None]] = set()  # held until done
        self._slots = asyncio.Semaphore(10)  # one bound on concurrent polls for them all

    def reread_soon(self) -> None:
        """SIGHUP: the config file read again, off the loop; then deployments added and
        removed without a restart."""
        task = asyncio.create_task(self._reread())
        self._rereading.add(task)
        task.add_done_callback(self._rereading.discard)

    async def _reread(self) -> None:
        from wa_tui.config import ConfigError

        try:
            found = await asyncio.to_thread(_configured, self.args)
            usable = {t.name: t for t in found if not t.needs_password}
            added = [t for name, t in usable.items() if name not in self.members]
            folder = Path(self.args.dir).expanduser()
            for target, recorder in zip(
                added, await asyncio.to_thread(_in_folder, folder, added, self.args), strict=True
            ):
                self.add(target, recorder)
        except (ConfigError, UsageError, RecordingError) as exc:
            print(f"wa-tui: {exc}: recording what was recorded", file=sys.stderr, flush=True)
            return
        gone = [name for name in self.members if name not in usable]
        for name in gone:
            await self.remove(name)
        said = [f"+{t.name}" for t in added] + [f"-{name}" for name in gone]
        print(f"wa-tui: config read again: {' '.join(said) or 'no change'}", file=sys.stderr)

    def add(self, target: Target, recorder: Recorder, start: float = 0.0) -> None:
        from wa_tui.recording.writer import recording_consumer
        from wa_tui.watch.watcher import watchers_for

        (watcher,) = watchers_for([target], headless=True, slots=self._slots).values()
        watcher.subscribe(recording_consumer(recorder), "the recorder")
        watcher.subscribe(_report, "the error report")
        tasks = [asyncio.create_task(_heartbeat(recorder, watcher.poller.interval))]
        if self.exporter is not None:
            self.exporter.add(watcher)  # it polls, and serves the metrics of those polls
        else:
            tasks.append(asyncio.create_task(_polling(watcher, start)))
        self.members[target.name] = (watcher, recorder, tasks)

    async def remove(self, name: str) -> None:
        watcher, recorder, tasks = self.members.pop(name)
        for task in tasks:
            task.cancel()
        if self.exporter is not None:
            await self.exporter.remove(watcher)
        else:
            await watcher.aclose()
        await asyncio.sleep(0.2)  # its last write ends
        recorder.close()

    async def close(self) -> None:
        for name in list(self.members):
            await self.remove(name)


async def _polling(watcher: Watcher, after: float) -> None:
    await asyncio.sleep(after)
    await watcher.run()


async def _heartbeat(recorder: Recorder, interval: float) -> None:
    """The recorder is alive, every interval, however its deployment answers (and
    however its disk: a heartbeat that cannot be written is tried again)."""
    while True:
        with contextlib.suppress(RecordingError):  # said by the recorder, once
            await asyncio.to_thread(recorder.beat, clock.now_precise())
        await asyncio.sleep(interval)


def say(line: str) -> None:
    """What a recorder has to say of its files, on stderr (the journal, as a service)."""
    print(f"wa-tui: {line}", file=sys.stderr, flush=True)


def _report(update: Update) -> None:
    from wa_tui.watch.watcher import Phase

    if update.phase is Phase.POLLED and update.result and update.result.error:
        name = update.watcher.name
        print(f"wa-tui: {name}: poll failed (recorded): {update.result.error}", file=sys.stderr)


def recorder_for(path: str, target: Target, args: argparse.Namespace | None = None) -> Recorder:
    """The recorder of `--record FILE` (the dashboard's) and `record FILE`: the command
    (`args`) says what it has to say on stderr; under the dashboard, to the log."""
    from wa_tui.recording.writer import Recorder

    return Recorder(
        Path(path).expanduser(),
        target.name,
        target.url,
        max_bytes=getattr(args, "max_size", None),
        keep_seconds=getattr(args, "keep", None),
        interval=target.settings.interval,
        say=say if args is not None else None,
        redact_phone=getattr(args, "redact_phone", False),
    )
