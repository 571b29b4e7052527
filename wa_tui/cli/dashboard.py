"""`wa-tui` with no command: the dashboard of the deployments named (or the fleet read
from Prometheus)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui import __version__
from wa_tui.cli.options import UsageError, duration, recorder_options
from wa_tui.cli.start import Start
from wa_tui.cli.targets import open_targets, recording_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from wa_tui.outputs.fleet import PrometheusSource
    from wa_tui.recording.follow import FollowWatcher
    from wa_tui.ui.fleet_app import FleetSource
    from wa_tui.watch.targets import Target


def add_options(parser: argparse.ArgumentParser) -> None:
    """The dashboard's own options, on the top-level parser."""
    parser.add_argument("--version", action="version", version=f"wa-tui {__version__}")
    parser.add_argument(
        "--interval", type=duration, help="between refreshes: seconds, or 30s, 1m (default 5)"
    )
    parser.add_argument(
        "--record", metavar="FILE", help="record every poll to FILE while watching (see replay)"
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        nargs="?",
        const="",
        help="the fleet from Prometheus (what wa-tui exporters recorded), not polled here; "
        "without URL, [prometheus] of the config file (TLS, basic auth)",
    )
    parser.add_argument(
        "--follow",
        metavar="PATH",
        help="attach to a recorder (wa-tui record --dir): a recording, or a folder of "
        "them (the fleet); no credentials, no request to the deployment",
    )
    recorder_options(parser)
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="let `x` reveal secret values in the detail pane, after a confirmation",
    )


def run(start: Start) -> int:
    args = start.args
    if args.prometheus is not None:
        return run_prometheus_fleet(start)
    if args.follow:
        path = Path(args.follow).expanduser()
        if path.is_dir():
            return run_folder(path, start)
        return _run(following_file(path, start))
    from wa_tui.watch.targets import Target

    with open_targets(start) as found:
        if not (args.no_recorder or args.record):
            notes: list[str] = []
            sources = [attached(target, notes, args.rejudge) for target in found]
            recorded = {
                target.name: (target, path)
                for target in found
                if not target.needs_password and (path := recording_of(target)) is not None
            }
            if recorded or any(not isinstance(source, Target) for source in sources):
                app = following_app(sources, start.keymap, notes, recorded, args.rejudge)
                return _run(app)
        from wa_tui.outputs.team import recorder_for

        record_to = Path(args.record).expanduser() if args.record else None
        recorder = recorder_for(record_to, found[0]) if record_to is not None else None
        # The deployment shown first is polled while Textual loads (a third of a second).
        from wa_tui.watch.poller import poll_early

        first = found[0]
        early = {} if first.needs_password else {first.name: poll_early(first)}
        from wa_tui.ui.app import WaTuiApp
        from wa_tui.ui.crash import run_app

        app = WaTuiApp(
            found,
            secrets_may_be_shown=args.show_secrets,
            early_polls=early,
            settle_memory=True,
            recorder=recorder,
            keymap=start.keymap,
        )
        try:
            _, status = run_app(app)
        finally:
            if recorder is not None:
                recorder.close()
                print(f"recorded {recorder.polls} polls to {recorder.path}")
    return status


def attached(target: Target, notes: list[str], rejudge: bool) -> Target | FollowWatcher:
    """The deployment's recorder, attached while its heartbeat is fresh, or whatever it
    is when this user has no credentials to poll; else the deployment, polled here
    (`notes` says why). `rejudge`: its polls judged with this config, not the recorder's."""
    from wa_tui.core.errors import RecordingError
    from wa_tui.recording.follow import FollowWatcher

    path = recording_of(target)
    if path is None:
        return target
    try:
        watcher = FollowWatcher.attach(path, target.settings, rejudge)
    except RecordingError as error:
        if target.needs_password:
            raise UsageError(f"{error}; and no credentials to poll {target.name!r} here") from None
        notes.append(f"{error}: polling {target.name} here")
        return target
    stopped = watcher.judge_recorder()
    if stopped is None or target.needs_password:
        return watcher
    watcher.recording.close()
    notes.append(f"{path}: {stopped}: polling {target.name} here")
    return target


def followed(path: Path, start: Start) -> FollowWatcher:
    """`--follow FILE`, with its deployment's settings when the config file has it (its
    thresholds, its logs_command)."""
    from wa_tui.recording.follow import FollowWatcher

    settings = start.settings_by_recording().get(path.stem)
    return FollowWatcher.attach(path, settings, bool(start.option("rejudge")))


def following_file(path: Path, start: Start) -> App[object]:
    """`--follow FILE`, or a deployment chosen in a folder's fleet: the recorder's newest
    poll drawn first as it stored it, its follower made meanwhile (the parser, the
    analysis and the config load then); the long way for a recording that keeps no
    first frame (an older recorder's), or when asked to judge again."""
    from wa_tui.recording.first_frame import first_frame

    rejudge = bool(start.option("rejudge"))
    frame = None if rejudge else first_frame(path)
    if frame is None:
        return following_app([followed(path, start)], start.keymap, rejudge=rejudge)
    from wa_tui.ui.follow_app import FollowApp

    return FollowApp(keymap=start.keymap, first=frame, attach=partial(followed, path, start))


def run_folder(folder: Path, start: Start) -> int:
    """`--follow DIR`: the fleet of the recorder's folder, read from what it judged; a
    deployment chosen is followed on its dashboard, `q` there comes back."""
    from wa_tui.recording.folder import RecordingsFolder

    source = RecordingsFolder(folder)
    try:
        if not source.files():
            raise UsageError(f"--follow {folder}: no recording (*.db) in this folder")
    except OSError as exc:
        raise UsageError(
            f"--follow {folder}: {exc.strerror or exc} (the recorder's --group may read it)"
        ) from None

    def dashboard(name: str) -> App[object]:
        path = source.path_of(name)
        assert path is not None  # the fleet opens only what the folder holds
        return following_file(path, start)

    return run_fleet(source, dashboard, start.keymap)


def _run(app: App[object]) -> int:
    """The app run in this terminal: its exit status (a crash's traceback in the log)."""
    from wa_tui.ui.crash import run_app

    return run_app(app)[1]


def following_app(
    sources: Sequence[Target | FollowWatcher],
    keymap: dict[str, str],
    notes: Sequence[str] = (),
    recorded: Mapping[str, tuple[Target, Path]] | None = None,
    rejudge: bool = False,
) -> App[object]:
    """The dashboard of deployments a recorder polls (`recorded`: those this user may
    poll too, while their recorder is stopped; `rejudge`: judged with this config)."""
    from wa_tui.watch.targets import Target

    first = sources[0]
    if not isinstance(first, Target):  # shown first: read while Textual loads
        first.read_ahead()
    from wa_tui.ui.follow_app import FollowApp

    return FollowApp(*sources, keymap=keymap, notes=notes, recorded=recorded, rejudge=rejudge)


def run_prometheus_fleet(start: Start) -> int:
    """The fleet from Prometheus; a configured deployment chosen opens its dashboard, and
    quitting that comes back to the fleet."""
    source = prometheus_source(start)
    found = start.configured() if start.has_config else []
    by_name = {target.name: target for target in found}
    from wa_tui.outputs.fleet import PrometheusFleet
    from wa_tui.ui.app import WaTuiApp

    def dashboard(name: str) -> App[object]:
        return WaTuiApp([by_name[name]], start.args.show_secrets, keymap=start.keymap)

    return run_fleet(PrometheusFleet(source, by_name), dashboard, start.keymap)


def run_fleet(
    source: FleetSource, dashboard: Callable[[str], App[object]], keymap: dict[str, str]
) -> int:
    """The fleet screen of `source`; a deployment chosen opens its `dashboard`, and
    quitting that comes back to the fleet."""
    from wa_tui.ui.crash import run_app
    from wa_tui.ui.fleet_app import FleetApp

    while True:
        name, status = run_app(FleetApp(source, keymap))
        if name is None or status:
            return status
        if status := _run(dashboard(name)):
            return status


def prometheus_source(start: Start) -> PrometheusSource:
    """Where --prometheus reads: its URL or [prometheus]'s; TLS as --insecure or
    --ca-bundle say, else as the table does; basic auth as the table says."""
    from wa_tui.api.auth import password_from_command, password_from_env
    from wa_tui.outputs.fleet import PrometheusSource

    args, table = start.args, start.prometheus
    url = args.prometheus or table.url or ""
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--prometheus {url!r}: expected an http(s):// URL (or url in [prometheus])"
        )
    verify: bool | str = table.verify_tls
    if table.ca_bundle is not None:
        verify = str(table.ca_bundle.expanduser())
    if start.option("ca_bundle"):
        verify = str(Path(args.ca_bundle).expanduser())
    if start.option("insecure"):
        verify = False
    password = None
    if table.password_env:
        password = password_from_env(table.password_env)
    elif table.password_command:
        password = password_from_command(table.password_command)
    return PrometheusSource(url, verify, table.username, password)
