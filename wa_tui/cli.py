"""`wa-tui` command line. Heavy imports (Textual, aiohttp) happen only on the paths that
need them, so the non-UI commands start fast."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence

from wa_tui import __version__

ENV_TOKEN = "WA_TUI_TOKEN"
ENV_USERNAME = "WA_TUI_USERNAME"
ENV_PASSWORD = "WA_TUI_PASSWORD"


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wa-tui",
        description="Terminal dashboard for WhatsApp Business API (on-premises) deployments.",
        epilog=(
            f"Credentials come from the environment: {ENV_TOKEN}, or {ENV_USERNAME} and "
            f"{ENV_PASSWORD}. There is no password flag: it would show in the process list."
        ),
    )
    parser.add_argument("--version", action="version", version=f"wa-tui {__version__}")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true", help="watch a live simulated deployment")
    source.add_argument("--url", help="the deployment's admin API, e.g. https://wa.example:9090")
    parser.add_argument(
        "--interval", type=_positive, default=5.0, help="seconds between refreshes (default 5)"
    )
    parser.add_argument(
        "--timeout", type=_positive, default=10.0, help="seconds before a request gives up"
    )
    parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--debug", action="store_true", help="log more to the log file")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    simulate = commands.add_parser(
        "simulate",
        help="serve a simulated deployment on 127.0.0.1",
        description="Serve a simulated deployment; prints its url, username and password.",
    )
    simulate.add_argument(
        "--topology", choices=("single", "ha", "multiconnect"), default="multiconnect"
    )
    simulate.add_argument("--shards", type=int, default=8, help="multiconnect shards, 1 to 32")
    simulate.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    simulate.add_argument(
        "--story",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="play the demo story: flaps, failovers, a lost coreapp (default: on)",
    )
    simulate.add_argument("--step", type=_positive, default=4.0, help="seconds between story steps")
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


def credentials_from_env():  # -> Credentials (import kept lazy)
    from wa_tui.client import Credentials

    token = os.environ.get(ENV_TOKEN)
    username, password = os.environ.get(ENV_USERNAME), os.environ.get(ENV_PASSWORD)
    if not token and not (username and password):
        raise UsageError(f"no credentials: set {ENV_TOKEN}, or {ENV_USERNAME} and {ENV_PASSWORD}")
    return Credentials(username=username, password=password, token=token)


def run_simulate(args: argparse.Namespace) -> int:
    from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story

    try:
        deployment = SimDeployment.build(args.topology, shards=args.shards)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    story = demo_story(deployment) if args.story else None
    server = SimulatorServer(deployment, port=args.port, story=story, step_seconds=args.step)
    try:
        server.start()
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    print(f"url: {server.url}")
    print(f"username: {server.username}")
    print(f"password: {server.password}")
    print(
        f"topology: {args.topology}"
        + (f" ({args.shards} shards)" if args.topology == "multiconnect" else "")
    )
    print("Ctrl+C stops it.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def run_dashboard(args: argparse.Namespace) -> int:
    from wa_tui.client import Credentials, WAClient

    server = None
    if args.demo:
        from wa_tui.simulator import start_demo

        server = start_demo()
        url, name = server.url, "demo"
        credentials = Credentials(username=server.username, password=server.password)
    elif args.url:
        url, name = args.url, args.url.split("://")[-1]
        credentials = credentials_from_env()
    else:
        raise UsageError("say which deployment: --url URL, or --demo to try the simulator")

    from wa_tui.ui.app import WaTuiApp

    client = WAClient(url, credentials, timeout=args.timeout, verify=not args.insecure)
    try:
        WaTuiApp(client, deployment=name, interval=args.interval).run()
    finally:
        if server is not None:
            server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.debug)
    try:
        if args.command == "simulate":
            return run_simulate(args)
        return run_dashboard(args)
    except UsageError as exc:
        print(f"wa-tui: {exc}", file=sys.stderr)
        return 2
