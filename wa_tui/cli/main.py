"""`wa-tui` command line. Heavy imports (Textual, aiohttp) happen only on the paths that
need them: `snapshot` and `check` never import Textual, so they start fast."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from wa_tui import __version__
from wa_tui.core import memory

if TYPE_CHECKING:
    from wa_tui.watch.poller import PollResult
    from wa_tui.watch.targets import Overrides, Target

EXIT_USAGE = 2
EXIT_UNREADABLE = 3


class UsageError(Exception):
    """A problem with how wa-tui was called: shown as one line, exit status 2."""


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


_SIZES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}  # "500M", "2GiB", "100kb"
_DURATIONS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}  # "90m", "24h", "7d"
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]?)(?:i?b)?\s*", re.I)


def _amount(value: str, units: dict[str, int], example: str) -> float:
    match = _AMOUNT.fullmatch(value)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in units:
        raise argparse.ArgumentTypeError(f"{value!r}: expected e.g. {example}")
    if (amount := float(match.group(1)) * units[unit]) <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return amount


def _size(value: str) -> int:
    return int(_amount(value, _SIZES, "500M or 2G"))


def _duration(value: str) -> float:
    return _amount(value, _DURATIONS, "90m, 24h or 7d")


def _connection_options(inherit: bool = False) -> argparse.ArgumentParser:
    """The options every command that reads a deployment takes. With `inherit`, an option
    left out after the command keeps the value given before it (`wa-tui --demo check`)."""
    options = argparse.ArgumentParser(
        add_help=False, argument_default=argparse.SUPPRESS if inherit else None
    )
    source = options.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true", help="a live simulated deployment")
    source.add_argument("--url", help="the deployment's admin API, e.g. https://wa.example:9090")
    source.add_argument("--profile", metavar="NAME", help="a deployment of the config file")
    options.add_argument("--config", metavar="PATH", help="the config file to read")
    options.add_argument("--timeout", type=_positive, help="seconds before a request gives up")
    options.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    options.add_argument("--ca-bundle", metavar="PATH", help="verify TLS against this CA file")
    options.add_argument("--debug", action="store_true", help="log more to the log file")
    return options


def build_parser() -> argparse.ArgumentParser:
    connection = _connection_options(inherit=True)
    parser = argparse.ArgumentParser(
        prog="wa-tui",
        parents=[_connection_options()],
        description="Terminal dashboard for WhatsApp Business API (on-premises) deployments.",
        epilog=(
            "With --url, credentials come from the environment: WA_TUI_TOKEN, or "
            "WA_TUI_USERNAME and WA_TUI_PASSWORD; with no option, the deployments of the "
            "config file (wa-tui config path). There is no password flag: it would show "
            "in the process list."
        ),
    )
    parser.add_argument("--version", action="version", version=f"wa-tui {__version__}")
    parser.add_argument("--interval", type=_positive, help="seconds between refreshes (default 5)")
    parser.add_argument(
        "--record", metavar="FILE", help="record every poll to FILE while watching (see replay)"
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        help="the fleet from Prometheus (what wa-tui exporters recorded), not polled here",
    )
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="let `x` reveal secret values in the detail pane, after a confirmation",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    snapshot = commands.add_parser(
        "snapshot", parents=[connection], help="fetch once and print nodes and findings"
    )
    snapshot.add_argument("--format", choices=("text", "json"), default="text")
    check = commands.add_parser(
        "check",
        parents=[connection],
        help="monitoring-plugin check: one line, exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)",
    )
    snapshot.add_argument(
        "--redact-phone", action="store_true", help="mask the phone number (wa_id) too"
    )
    for one_shot in (snapshot, check):
        one_shot.add_argument(
            "--sample",
            type=_positive,
            metavar="S",
            help="read twice, S seconds apart, to give rates (callbacks, API errors)",
        )
        one_shot.add_argument(
            "--webhook",
            action="store_true",
            help="probe the webhook too (DNS, TCP, TLS, certificate; no request is sent)",
        )
    webhook = commands.add_parser(
        "webhook",
        parents=[connection],
        help="where callbacks go: settings, probe (exit 0/1/2/3 as check); --post sends one",
    )
    webhook.add_argument(
        "--post",
        action="store_true",
        help='send one test POST ({"wa_tui_probe": TIME}, User-Agent wa-tui/VERSION)',
    )

    record = commands.add_parser(
        "record",
        parents=[connection],
        help="record a deployment's polls to FILE, headless (for a systemd unit or nohup)",
    )
    record.add_argument("file", metavar="FILE")
    record.add_argument(
        "--interval",
        type=_positive,
        default=argparse.SUPPRESS,  # or the one given before the command
        help="seconds between polls (default 5)",
    )
    record.add_argument(
        "--max-size", type=_size, metavar="SIZE", help="drop the oldest polls past SIZE (500M)"
    )
    record.add_argument(
        "--keep", type=_duration, metavar="DURATION", help="drop polls older than this (24h)"
    )
    exporter = commands.add_parser(
        "exporter",
        parents=[connection],
        help="serve every deployment's state as Prometheus metrics (headless)",
    )
    exporter.add_argument(
        "--listen", default="127.0.0.1:9877", metavar="HOST:PORT", help="default 127.0.0.1:9877"
    )
    exporter.add_argument(
        "--interval", type=_positive, default=argparse.SUPPRESS, help="seconds between polls"
    )
    replay = commands.add_parser("replay", help="replay a recording on the dashboard")
    replay.add_argument("file", metavar="FILE")
    bundle = commands.add_parser(
        "bundle",
        parents=[connection],
        help="one tar.gz to hand over: last answers, findings, changes, recording, config",
    )
    bundle.add_argument("--output", metavar="FILE", help="where (default: in this folder)")
    bundle.add_argument("--from-recording", metavar="FILE", help="build it from a recording")
    bundle.add_argument("--redact-phone", action="store_true", help="mask phone numbers too")
    bundle.add_argument(
        "--minutes", type=_positive, default=30.0, help="of recording to include (default 30)"
    )

    report = commands.add_parser(
        "report",
        help="the incident accounted from a recording: failovers, shards down, findings",
        description="The incident accounted from a recording: failovers of the primary "
        "master, each shard's downtime, findings raised and cleared, the vitals' peaks, "
        "restarts and gaps. Markdown (or JSON) on stdout, or in DIR with SVG charts.",
    )
    report.add_argument("file", metavar="RECORDING")
    report.add_argument("--since", metavar="TIME", help="from (14:05, 2026-11-26T14:05, ...)")
    report.add_argument("--until", metavar="TIME", help="to (as --since)")
    report.add_argument("--format", choices=("markdown", "json"), default="markdown")
    report.add_argument(
        "--output", metavar="DIR", help="write report.md, report.json and charts here"
    )
    report.add_argument("--redact-phone", action="store_true", help="mask phone numbers too")

    simulate = commands.add_parser(
        "simulate",
        help="serve a simulated deployment on 127.0.0.1",
        description="Serve a simulated deployment; prints its url, username and password.",
    )
    simulate.add_argument(
        "--topology", choices=("single", "ha", "multiconnect"), default="multiconnect"
    )
    simulate.add_argument("--shards", type=int, default=8, help="multiconnect shards, 1 to 32")
    simulate.add_argument(
        "--scenario",
        metavar="NAME",
        help="a deployment in a known state instead (no story); `--scenario list` names them",
    )
    simulate.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    simulate.add_argument(
        "--story",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="play the demo story: flaps, failovers, a lost coreapp (default: on)",
    )
    simulate.add_argument("--step", type=_positive, default=4.0, help="seconds between steps")
    simulate.add_argument(
        "--truth",
        metavar="FILE",
        help="with --scenario incident: write the true times of its steps here (JSON)",
    )
    simulate.add_argument(
        "--no-stats",
        action="store_true",
        help="answer 404 on stats and metrics, as builds before v2.21.3 do",
    )
    simulate.add_argument(
        "--steady",
        action="store_true",
        help="byte-identical answers between polls (by default logs grow, as on a live one)",
    )
    simulate.add_argument(
        "--fault",
        metavar="NAME",
        help="inject this fault into every support/health answer; `--fault list` names them",
    )
    simulate.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="inject a random fault into this share (0..1) of the answers",
    )
    simulate.add_argument(
        "--webhook",
        metavar="STATE",
        help="pin the simulated webhook in one state: ok, expired, expiring, untrusted, "
        "wronghost, slow, 503, down, unset, http",
    )
    simulate.add_argument("--debug", action="store_true", help="log more to the log file")

    config = commands.add_parser("config", help="the config file: path, check, add")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    for action, text in (("path", "print where the config file is"), ("check", "validate it")):
        config_commands.add_parser(action, help=text).add_argument("--config", metavar="PATH")
    add = config_commands.add_parser("add", help="add a deployment (never writes a password)")
    add.add_argument("name")
    add.add_argument("--url", required=True)
    add.add_argument("--username")
    add.add_argument("--config", metavar="PATH")
    return parser


def setup_logging(debug: bool) -> None:
    """Log to a file, never to the terminal the UI is drawn on."""
    from platformdirs import user_log_path

    try:
        directory = user_log_path("wa-tui", ensure_exists=True)
        handler: logging.Handler = logging.FileHandler(directory / "wa-tui.log", encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=[handler])
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# -- which deployments -----------------------------------------------------------------


def _overrides(args: argparse.Namespace) -> Overrides:
    from wa_tui.watch.targets import Overrides

    return Overrides(
        timeout=getattr(args, "timeout", None),
        interval=getattr(args, "interval", None),
        insecure=getattr(args, "insecure", False),
        ca_bundle=getattr(args, "ca_bundle", None),
    )


@contextmanager
def open_targets(args: argparse.Namespace) -> Iterator[list[Target]]:
    """The deployments the arguments name; for --demo, a simulator that lives as long."""
    from wa_tui import config
    from wa_tui.watch import targets

    overrides = _overrides(args)
    if getattr(args, "demo", False):
        import tempfile
        from pathlib import Path

        from wa_tui.simulator import start_demo

        with tempfile.TemporaryDirectory(prefix="wa-tui-demo-logs-") as folder:
            server = start_demo(Path(folder))
            assert server.node_logs is not None
            # The demo's containers are files here: `l` tails them (no ssh, no docker).
            tail = ["tail", "-n", "500", "-F", server.node_logs.template]
            try:
                yield [targets.demo(server.url, server.username, server.password, overrides, tail)]
            finally:
                server.stop()
    elif getattr(args, "url", None):
        yield [targets.from_url(args.url, overrides)]
    else:
        path = config.config_path(getattr(args, "config", None))
        if not path.exists() and not getattr(args, "profile", None):
            raise UsageError(
                "say which deployment: --url URL, --profile NAME, or --demo to try the "
                f"simulator (or configure deployments in {path})"
            )
        yield targets.configured(path, getattr(args, "profile", None), overrides)


def _only(found: list[Target]) -> Target:
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


def _keymap(args: argparse.Namespace) -> dict[str, str]:
    """The config file's `[keys]`, checked (wa_tui/keys.py)."""
    from wa_tui import config

    return config.keymap(config.config_path(getattr(args, "config", None)))


def _read_once(args: argparse.Namespace, webhook: str | None = None) -> tuple[Target, PollResult]:
    """`snapshot`, `check` and `webhook`: the one deployment named, polled once as a
    watcher does (`webhook`: "probe" or "post", the webhook first)."""
    from wa_tui.watch.watcher import read_once

    if webhook is None and getattr(args, "webhook", False):
        webhook = "probe"
    with open_targets(args) as found:
        target = _only(found)
        return target, asyncio.run(read_once(target, getattr(args, "sample", None), webhook))


# -- commands --------------------------------------------------------------------------


def run_dashboard(args: argparse.Namespace) -> int:
    from wa_tui.watch.poller import poll_early

    if args.prometheus:
        return run_prometheus_fleet(args)
    with open_targets(args) as found:
        recorder = _recorder(args.record, found[0]) if args.record else None
        # The deployment shown first is polled while Textual loads (a third of a second).
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
            keymap=_keymap(args),
        )
        try:
            _, status = run_app(app)
        finally:
            if recorder is not None:
                recorder.close()
                print(f"recorded {recorder.polls} polls to {recorder.path}")
    return status


def run_prometheus_fleet(args: argparse.Namespace) -> int:
    """The fleet from Prometheus; a configured deployment chosen opens its dashboard, and
    quitting that comes back to the fleet."""
    from wa_tui import config
    from wa_tui.watch import targets

    if not args.prometheus.startswith(("http://", "https://")):
        raise UsageError(f"--prometheus {args.prometheus!r}: expected an http(s):// URL")
    path = config.config_path(getattr(args, "config", None))
    found = targets.configured(path, None, _overrides(args)) if path.exists() else []
    by_name = {target.name: target for target in found}
    from wa_tui.ui.app import WaTuiApp
    from wa_tui.ui.crash import run_app
    from wa_tui.ui.fleet_app import FleetApp

    keymap = _keymap(args)
    while True:
        name, status = run_app(FleetApp(args.prometheus, by_name, keymap))
        if name is None or status:
            return status
        dashboard = WaTuiApp([by_name[name]], args.show_secrets, keymap=keymap)
        _, status = run_app(dashboard)
        if status:
            return status


def _recorder(path: str, target: Target, args: argparse.Namespace | None = None):  # -> Recorder
    from pathlib import Path

    from wa_tui.recording.store import Recorder

    return Recorder(
        Path(path).expanduser(),
        target.name,
        target.url,
        max_bytes=getattr(args, "max_size", None),
        keep_seconds=getattr(args, "keep", None),
    )


def run_record(args: argparse.Namespace) -> int:
    """Record headless: Textual is never imported."""
    import signal

    memory.resume()  # it runs for hours
    from wa_tui.recording.store import recording_consumer
    from wa_tui.watch.watcher import Phase, Update, Watcher

    with open_targets(args) as found:
        target = _only(found)
        recorder = _recorder(args.file, target, args)

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


def run_bundle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wa_tui import config
    from wa_tui.core import clock
    from wa_tui.recording.bundle import default_name, handover_of, write_bundle

    config_path = None
    if args.from_recording:
        watcher = _replayed_to_the_end(Path(args.from_recording).expanduser())
    else:
        config_path = config.config_path(getattr(args, "config", None))
        with open_targets(args) as found:
            watcher = asyncio.run(_polled_once(_only(found)))
        if watcher.last_answers is None:
            print(f"wa-tui: {watcher.status.error}", file=sys.stderr)
            return EXIT_UNREADABLE
    handover = handover_of(watcher, config_path=config_path)
    handover.redact_phone, handover.minutes = args.redact_phone, args.minutes
    output = Path(args.output or default_name(handover.deployment, clock.now())).expanduser()
    write_bundle(handover, output)
    print(output.resolve())
    return 0


async def _polled_once(target):  # -> Watcher (imports kept lazy)
    from wa_tui.watch.watcher import Watcher

    async with Watcher(target) as watcher:
        await watcher.poll()
    return watcher


def _reading_whole(done: int, total: int) -> None:
    """A recording of the first format is read whole before it replays: say how far."""
    end = "\n" if done + 200 >= total else ""
    print(
        f"\rreading a format-1 recording whole: {done / max(total, 1):4.0%}",
        end=end,
        file=sys.stderr,
    )


def run_report(args: argparse.Namespace) -> int:
    """`wa-tui report`: Textual is never imported; matplotlib only for charts."""
    import json
    from pathlib import Path

    from wa_tui.outputs.incident_report import report_document, report_markdown, write_report
    from wa_tui.recording.replay import ReplayWatcher

    path = Path(args.file).expanduser()
    watcher = ReplayWatcher.open(path, progress=_reading_whole)
    if not len(watcher):
        raise UsageError(f"{path}: the recording holds no poll")
    day = watcher.recording.ats[0]
    since, until = (_moment(getattr(args, f), f, day) for f in ("since", "until"))
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


def _moment(value: str | None, flag: str, day):  # -> datetime | None (imports kept lazy)
    from wa_tui.recording.replay import MOMENT_EXAMPLES, parse_moment

    if value is None:
        return None
    moment = parse_moment(value, day)
    if moment is None:
        raise UsageError(f"--{flag} {value!r}: not a time; try {MOMENT_EXAMPLES}")
    return moment


def _replayed_to_the_end(path):  # -> ReplayWatcher (imports kept lazy)
    from wa_tui.recording.replay import ReplayWatcher

    watcher = ReplayWatcher.open(path)
    if not len(watcher):
        raise UsageError(f"{path}: the recording holds no poll")
    watcher.go(len(watcher) - 1)
    return watcher


def run_exporter(args: argparse.Namespace) -> int:
    """Prometheus metrics of every deployment: Textual is never imported."""
    import signal

    memory.resume()  # it runs for months
    from wa_tui.outputs.exporter import Exporter

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--listen {args.listen!r}: expected HOST:PORT, e.g. 127.0.0.1:9877")
    with open_targets(args) as found:
        usable = [t for t in found if not t.needs_password]
        for skipped in set(found) - set(usable):
            print(f"wa-tui: {skipped.name}: no password source, not exported", file=sys.stderr)
        exporter = Exporter(usable)

        async def serve() -> None:
            ready, stop = asyncio.Event(), asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            serving = asyncio.create_task(exporter.serve(host.strip("[]"), int(port), ready))
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
            if serving.done():
                serving.result()  # it failed to start: say why
            print(
                f"serving /metrics and /healthz on http://{host}:{exporter.port} "
                f"for {len(usable)} deployment(s); Ctrl+C stops",
                flush=True,
            )
            await stop.wait()
            serving.cancel()

        try:
            asyncio.run(serve())
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wa_tui.recording.replay import ReplayWatcher

    watcher = ReplayWatcher.open(Path(args.file).expanduser(), progress=_reading_whole)
    if not len(watcher):
        raise UsageError(f"{args.file}: the recording holds no poll")
    if watcher.recording.stopped:
        print(f"wa-tui: {watcher.recording.stopped}", file=sys.stderr)
    from wa_tui.ui.crash import run_app
    from wa_tui.ui.replay_app import ReplayApp

    return run_app(ReplayApp(watcher, _keymap(args)))[1]


def run_snapshot(args: argparse.Namespace) -> int:
    from wa_tui.outputs.check import Source, snapshot_json, snapshot_text

    target, result = _read_once(args)
    if result.snapshot is None:
        print(f"wa-tui: {result.error}", file=sys.stderr)
        return EXIT_UNREADABLE
    source = Source(target.name, target.url)
    if args.format == "json":
        print(snapshot_json(source, result, args.redact_phone))
    else:
        print(snapshot_text(source, result))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from wa_tui.outputs.check import CheckStatus, check_line, unknown_line

    target, result = _read_once(args)
    if result.snapshot is None:
        print(unknown_line(str(result.error)))
        return CheckStatus.UNKNOWN
    expiry_days = target.settings.thresholds.expiry_warning_days
    line, status = check_line(result, expiry_days)
    print(line)
    return status


def run_webhook(args: argparse.Namespace) -> int:
    from wa_tui.outputs.check import CheckStatus, unknown_line, webhook_status, webhook_text

    _, result = _read_once(args, "post" if args.post else "probe")
    if result.snapshot is None:
        print(unknown_line(str(result.error)))
        return CheckStatus.UNKNOWN
    print("\n".join(webhook_text(result)))
    return webhook_status(result)


def run_config(args: argparse.Namespace) -> int:
    from wa_tui import config

    path = config.config_path(args.config)
    if args.config_command == "path":
        print(path)
    elif args.config_command == "check":
        deployments = config.load(path)
        names = ", ".join(d.name for d in deployments)
        remapped = len(config.keymap(path))
        print(f"{path}: {len(deployments)} deployment(s): {names}; {remapped} key(s) remapped")
    elif args.config_command == "add":
        config.add_deployment(path, args.name, args.url, args.username)
        print(f"{path}: deployment {args.name!r} written (no password is ever stored)")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    memory.resume()  # a server that runs for hours
    from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
    from wa_tui.simulator.scenarios import SCENARIOS

    if args.scenario == "list" or args.fault == "list":
        from wa_tui.simulator.faults import Fault

        print("\n".join(SCENARIOS if args.scenario == "list" else [f.value for f in Fault]))
        return 0
    if args.scenario is not None and args.scenario not in SCENARIOS:
        raise UsageError(f"no scenario {args.scenario!r}; `--scenario list` names them")
    try:
        if args.scenario:
            deployment = SCENARIOS[args.scenario]()
        else:
            deployment = SimDeployment.build(args.topology, shards=args.shards)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not args.steady:
        deployment.go_live()
    deployment.serves_stats = not args.no_stats
    if args.webhook is not None:
        _pin_webhook(deployment, args.webhook)
    if args.truth is not None and args.scenario != "incident":
        raise UsageError("--truth goes with --scenario incident")
    story = demo_story(deployment) if args.story and not args.scenario else None
    if args.scenario == "incident":
        from pathlib import Path

        from wa_tui.simulator.incident import IncidentTruth, incident_story

        truth = IncidentTruth(Path(args.truth) if args.truth else None)
        story = incident_story(deployment, truth)
    server = SimulatorServer(
        deployment,
        port=args.port,
        story=story,
        step_seconds=args.step,
        faults=_fault_plan(args.fault, args.fault_rate),
    )
    try:
        server.start()
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    shards = f" ({args.shards} shards)" if args.topology == "multiconnect" else ""
    print(f"url: {server.url}")
    print(f"username: {server.username}")
    print(f"password: {server.password}")
    print(f"api key: {server.api_key}")
    print(f"deployment: {args.scenario or args.topology + shards}")
    webhook = deployment.webhook
    print(f"webhook: {webhook.url() or '(unset)'} ({webhook.state.value})")
    print("Ctrl+C stops it.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _pin_webhook(deployment, state: str) -> None:  # a SimDeployment (import kept lazy)
    from wa_tui.simulator.webhook import WebhookState

    try:
        deployment.webhook.pin(WebhookState(state))
    except ValueError:
        known = ", ".join(s.value for s in WebhookState)
        raise UsageError(f"no webhook state {state!r}; one of {known}") from None


def _fault_plan(name: str | None, rate: float):  # -> FaultPlan (import kept lazy)
    from wa_tui.simulator.faults import Fault, FaultPlan

    if not 0 <= rate <= 1:
        raise UsageError("--fault-rate takes a share from 0 to 1")
    plan = FaultPlan(rate=rate)
    if name is not None:
        try:
            plan.always = Fault(name)
        except ValueError:
            raise UsageError(f"no fault {name!r}; `--fault list` names them") from None
    return plan


COMMANDS = {
    None: run_dashboard,
    "config": run_config,
    "snapshot": run_snapshot,
    "check": run_check,
    "webhook": run_webhook,
    "simulate": run_simulate,
    "record": run_record,
    "replay": run_replay,
    "bundle": run_bundle,
    "report": run_report,
    "exporter": run_exporter,
}


def main(argv: Sequence[str] | None = None) -> int:
    memory.starting()  # see wa_tui.core.memory
    # pydantic looks for plugins among every installed package's entry points on its
    # first model (~10 ms of each start); wa-tui uses none, and none is to see the
    # answers it validates (they hold phone numbers and keys).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        return _run(argv)
    finally:
        memory.resume()


def _run(argv: Sequence[str] | None) -> int:
    from wa_tui.config import ConfigError
    from wa_tui.core.errors import RecordingError

    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "debug", False))
    try:
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, RecordingError) as exc:
        print(f"wa-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
