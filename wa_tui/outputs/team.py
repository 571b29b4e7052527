"""The recorder's deployments at work (`wa-tui record`): a recorder per deployment, each
polled once per its interval by one process, a heartbeat every interval, SIGHUP read
again; loaded when `record` runs (asyncio and all), not when the command line is parsed.
What it is asked (where, how long to keep, for which group) comes as a `Keeping` and a
`Reread`: it reads no option and no config file itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.core import clock
from wa_tui.core.errors import ConfigError, RecordingError
from wa_tui.core.freshness import HEARTBEAT_AFTER_INTERVALS
from wa_tui.outputs.serving import start_serving, stop_on_signals

if TYPE_CHECKING:
    from wa_tui.outputs.exporter import Exporter
    from wa_tui.recording.writer import Recorder
    from wa_tui.watch.state import Update
    from wa_tui.watch.targets import Target
    from wa_tui.watch.watcher import Watcher

# With --dir the recorder runs for the team, for months: what each file keeps by default.
DIR_KEEP_SECONDS = 7 * 86400.0
DIR_MAX_BYTES = 2 * 1024**3


# The deployments the config file names now (read again on SIGHUP).
Reread = Callable[[], "list[Target]"]


@dataclass(frozen=True)
class Keeping:
    """How the recordings are kept: `record`'s --keep, --max-size, --redact-phone and
    --group (None: as the defaults say)."""

    keep_seconds: float | None = None
    max_bytes: int | None = None
    redact_phone: bool = False
    group: str | None = None


def in_folder(folder: Path, targets: list[Target], keeping: Keeping) -> list[Recorder]:
    """A recorder per target in `folder` (made 0700 if it is not there; with a group,
    2750 and the group's, setgid so SQLite's side files get the group too). ConfigError
    when two would share a file, or the group is unknown."""
    group = _group_id(keeping.group) if keeping.group else None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if group is not None:
        os.chown(folder, -1, group)
        folder.chmod(0o2750)
    from wa_tui.recording.format import recording_path

    paths = [recording_path(folder, t.name) for t in targets]
    if len(set(paths)) < len(paths):
        raise ConfigError(f"two deployments would record to one file in {folder}: rename one")
    from wa_tui.recording.writer import Recorder

    recorders: list[Recorder] = []
    try:
        for target, path in zip(targets, paths, strict=True):
            keep = keeping.keep_seconds if keeping.keep_seconds is not None else DIR_KEEP_SECONDS
            biggest = keeping.max_bytes if keeping.max_bytes is not None else DIR_MAX_BYTES
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
                redact_phone=keeping.redact_phone,
                thresholds=target.settings.threshold_values,
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
        raise ConfigError(f"--group {name!r}: no such group on this machine") from None


async def record_all(
    targets: list[Target],
    recorders: list[Recorder],
    exporter: Exporter | None,
    address: tuple[str, int] | None,
    folder: tuple[Path, Keeping, Reread] | None = None,
    reload_web: bool = False,
) -> None:
    """Poll every target once per its interval, each poll to its recorder, a heartbeat
    every interval, until SIGINT or SIGTERM; recording to a `folder`, SIGHUP reads the
    config again (deployments added and removed; `reload_web`: the web configuration
    too). With an exporter, it polls (and serves the same polls' metrics); else the team
    does."""
    team = Team(exporter, folder)
    for index, (target, recorder) in enumerate(zip(targets, recorders, strict=True)):
        team.add(target, recorder, start=target.settings.interval * index / len(targets))
    reread = team.reread_soon if folder is not None else None
    stop = stop_on_signals(exporter.site if exporter else None, reload_web, reread)
    serving = await start_serving(exporter, *address) if exporter and address else None
    await stop.wait()
    if serving is not None:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving  # the exporter's watchers stopped, their last writes made
    await team.close()


class Team:
    """The deployments being recorded: a watcher, a recorder and their tasks each."""

    def __init__(
        self, exporter: Exporter | None, folder: tuple[Path, Keeping, Reread] | None = None
    ) -> None:
        from wa_tui.watch.state import WatcherPool

        self.exporter = exporter
        self.folder = folder  # where deployments added on SIGHUP are recorded, and how
        self.members: dict[str, tuple[Watcher, Recorder, asyncio.Task[None]]] = {}
        self._rereading: set[asyncio.Task[None]] = set()  # held until done
        self._slots = asyncio.Semaphore(10)  # one bound on concurrent polls for them all
        self._pool = WatcherPool()  # their polling, when no exporter polls them

    def reread_soon(self) -> None:
        """SIGHUP: the config file read again, off the loop; then deployments added and
        removed without a restart."""
        task = asyncio.create_task(self._reread())
        self._rereading.add(task)
        task.add_done_callback(self._rereading.discard)

    async def _reread(self) -> None:
        assert self.folder is not None  # SIGHUP rereads only a folder's deployments
        folder, keeping, configured = self.folder
        try:
            found = await asyncio.to_thread(configured)
            usable = {t.name: t for t in found if not t.needs_password}
            added = [t for name, t in usable.items() if name not in self.members]
            recorders = await asyncio.to_thread(in_folder, folder, added, keeping)
            for target, recorder in zip(added, recorders, strict=True):
                self.add(target, recorder)
        except (ConfigError, RecordingError) as exc:
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
        watcher.subscribe(recording_consumer(recorder), "the recorder", finish=True)
        watcher.subscribe(_report, "the error report")
        heartbeat = asyncio.create_task(_heartbeat(recorder, watcher.poller.interval))
        if self.exporter is not None:
            self.exporter.add(watcher)  # it polls, and serves the metrics of those polls
        else:
            self._pool.start(watcher, start)
        self.members[target.name] = (watcher, recorder, heartbeat)

    async def remove(self, name: str) -> None:
        """Its polling stopped and its last poll written (the pool waits for the
        recorder's write), then its file closed."""
        watcher, recorder, heartbeat = self.members.pop(name)
        heartbeat.cancel()
        if self.exporter is not None:
            await self.exporter.remove(watcher)
        else:
            await self._pool.stop(watcher)
        recorder.close()

    async def close(self) -> None:
        """Every deployment at once: a recorder of hundreds stops in a moment."""
        await asyncio.gather(*(self.remove(name) for name in list(self.members)))


async def _heartbeat(recorder: Recorder, interval: float) -> None:
    """The recorder is alive, every interval, however its deployment answers (and
    however its disk: a heartbeat that cannot be written is tried again). A poll
    written is a heartbeat too: no other is written within an interval of it."""
    while True:
        if recorder.silent_for() >= interval * HEARTBEAT_AFTER_INTERVALS:
            with contextlib.suppress(RecordingError):  # said by the recorder, once
                await asyncio.to_thread(recorder.beat, clock.now_precise())
        await asyncio.sleep(interval)


def say(line: str) -> None:
    """What a recorder has to say of its files, on stderr (the journal, as a service)."""
    print(f"wa-tui: {line}", file=sys.stderr, flush=True)


def _report(update: Update) -> None:
    from wa_tui.watch.state import Phase

    if update.phase is Phase.POLLED and update.result and update.result.error:
        name = update.watcher.name
        print(f"wa-tui: {name}: poll failed (recorded): {update.result.error}", file=sys.stderr)


def recorder_for(path: Path, target: Target, keeping: Keeping | None = None) -> Recorder:
    """The recorder of `--record FILE` (the dashboard's) and `record FILE` (`keeping`:
    its options; it says what it has to say on stderr, the dashboard's to the log)."""
    from wa_tui.recording.writer import Recorder

    return Recorder(
        path,
        target.name,
        target.url,
        max_bytes=keeping.max_bytes if keeping else None,
        keep_seconds=keeping.keep_seconds if keeping else None,
        interval=target.settings.interval,
        say=say if keeping is not None else None,
        redact_phone=keeping.redact_phone if keeping else False,
        thresholds=target.settings.threshold_values,
    )
