"""Which deployments a command reads, as its options say: those of the config file, a
URL, the demo, or the recording a recorder keeps of them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.options import UsageError

if TYPE_CHECKING:
    from wa_tui.cli.start import Start
    from wa_tui.config import DeploymentSettings
    from wa_tui.outputs.check import Source
    from wa_tui.recording.replay import ReplayWatcher
    from wa_tui.watch.reader import PollResult
    from wa_tui.watch.targets import Target


def recording_of(target: Target) -> Path | None:
    """The recording a recorder keeps of `target`, when one is configured (`recorder =`
    of its config, or WA_TUI_RECORDER): whether it exists is the reader's to say."""
    from wa_tui.config import recorder_folder
    from wa_tui.recording.format import recording_path

    folder = recorder_folder(target.settings)
    return None if folder is None else recording_path(folder, target.name)


@dataclass(frozen=True)
class Recorded:
    """The last poll of a recording, whose deployment it was, the thresholds it is
    judged by, and why it is too old to go by (None: fresh)."""

    source: Source
    result: PollResult
    stale: str | None
    settings: DeploymentSettings


RECORDERS = "as the recorder judged it"


def last_recorded(
    path: Path,
    settings: DeploymentSettings | None,
    max_age: float | None,
    rejudge: bool = False,
) -> Recorded:
    """`snapshot` and `check` from a recorder: the last poll of the recording at `path`,
    read as the watcher then read it and shown as the recorder judged it (`rejudge`:
    judged again with `settings`), and whether the recorder is alive (younger than
    `max_age`, default three of its intervals). RecordingError when it is no recording
    or holds no poll."""
    from wa_tui.config import DeploymentSettings
    from wa_tui.core.errors import RecordingError
    from wa_tui.outputs.check import Source
    from wa_tui.recording.last_poll import last_poll
    from wa_tui.recording.replay import ReplayWatcher

    last = last_poll(path)
    stale = last.stale(max_age)
    settings = settings or DeploymentSettings()
    watcher = ReplayWatcher.open(path, settings, rejudge=rejudge)
    if not len(watcher):
        raise RecordingError(f"{path}: the recording holds no poll")
    result = watcher.read_last()
    judged = watcher.status.judged
    thresholds = settings.threshold_values if judged else watcher.recording.judged_with
    source = Source(last.deployment, last.url, judged or RECORDERS, thresholds)
    return Recorded(source, result, stale and f"{path}: {stale}", settings)


def recording_asked(start: Start) -> tuple[Path | None, DeploymentSettings | None]:
    """`snapshot` and `check`: the recording to read instead of polling (`--from-recording
    FILE`, or the recorder the config names, unless --no-recorder), and the settings of
    its deployment when the config says. (None, None): poll."""
    args = start.args
    if args.from_recording:
        return Path(args.from_recording).expanduser(), _profile_settings(start)
    if args.no_recorder or start.option("demo"):
        return None, None
    with open_targets(start) as found:
        if len(found) != 1:
            return None, None  # polling says which to choose
        return recording_of(found[0]), found[0].settings


def _profile_settings(start: Start) -> DeploymentSettings | None:
    """`--from-recording FILE --rejudge --profile NAME`: that deployment's thresholds."""
    if not (start.option("rejudge") and start.option("profile")):
        return None
    with open_targets(start) as found:
        return found[0].settings if len(found) == 1 else None


@contextmanager
def open_targets(start: Start) -> Iterator[list[Target]]:
    """The deployments the arguments name; for --demo, a simulator that lives as long."""
    from wa_tui.watch import targets

    if start.option("demo"):
        import tempfile

        from wa_tui.simulator import start_demo

        with tempfile.TemporaryDirectory(prefix="wa-tui-demo-logs-") as folder:
            server = start_demo(Path(folder))
            assert server.node_logs is not None
            # The demo's containers are files here: `l` tails them (no ssh, no docker).
            tail = ["tail", "-n", "500", "-F", server.node_logs.template]
            demo = targets.demo(server.url, server.username, server.password, start.overrides, tail)
            try:
                yield [demo]
            finally:
                server.stop()
    elif url := start.option("url"):
        yield [targets.from_url(str(url), start.overrides)]
    else:
        profile = start.option("profile")
        if not start.config_path.exists() and not profile:
            raise UsageError(
                "say which deployment: --url URL, --profile NAME, or --demo to try the "
                f"simulator (or configure deployments in {start.config_path})"
            )
        yield start.configured(profile)  # type: ignore[arg-type]


def only_target(found: list[Target]) -> Target:
    """`snapshot` and `check` read one deployment."""
    if len(found) > 1:
        names = ", ".join(t.name for t in found)
        raise UsageError(f"several deployments are configured ({names}): say --profile NAME")
    if found[0].needs_password:
        raise UsageError(
            f"deployment {found[0].name!r} has no password source: set password_env, "
            "password_command or token_env in the config file"
        )
    return found[0]


def read_once_from(start: Start, webhook: str | None = None) -> tuple[Target, PollResult]:
    """`snapshot`, `check` and `webhook`: the one deployment named, polled once as a
    watcher does (`webhook`: "probe" or "post", the webhook first)."""
    import asyncio

    from wa_tui.watch.watcher import read_once

    if webhook is None and start.option("webhook"):
        webhook = "probe"
    with open_targets(start) as found:
        target = only_target(found)
        sample = start.option("sample")
        return target, asyncio.run(read_once(target, sample, webhook))  # type: ignore[arg-type]


def reading_whole(done: int, total: int) -> None:
    """A recording of the first format is read whole before it replays: say how far."""
    end = "\n" if done + 200 >= total else ""
    print(
        f"\rreading a format-1 recording whole: {done / max(total, 1):4.0%}",
        end=end,
        file=sys.stderr,
    )


def replayed_to_the_end(path: Path) -> ReplayWatcher:
    from wa_tui.recording.replay import ReplayWatcher

    watcher = ReplayWatcher.open(path)
    if not len(watcher):
        raise UsageError(f"{path}: the recording holds no poll")
    watcher.go(len(watcher) - 1)
    return watcher
