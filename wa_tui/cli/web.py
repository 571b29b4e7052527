"""`wa-tui web PATH`: the recorder's dashboard in a browser, read-only, behind the same
web configuration as the metrics (wa_tui/web/)."""

from __future__ import annotations

import argparse
from pathlib import Path

from wa_tui.cli.exporter import listen_address, listening, web_config_of, web_config_option
from wa_tui.cli.options import Commands, UsageError, duration
from wa_tui.cli.start import Start
from wa_tui.core import memory

DEFAULT_LISTEN = "127.0.0.1:9878"


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    web = commands.add_parser(
        "web",
        help="the recorder's dashboard in a browser: read-only, each tab a follower",
        description="Serve the dashboard of a recorder's files to browsers: each tab "
        "follows PATH as `wa-tui --follow` does, read-only (no command runs, nothing is "
        "written on this host; screenshots and bundles arrive as downloads). It reads "
        "recordings only: no credentials, no request to a deployment.",
    )
    web.add_argument("path", metavar="PATH", help="a recording, or a recorder's folder (--dir)")
    web.add_argument(
        "--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT", help=f"default {DEFAULT_LISTEN}"
    )
    web_config_option(web, "the page, its WebSocket and its downloads")
    web.add_argument(
        "--max-sessions",
        type=_sessions,
        default=8,
        metavar="N",
        help="browser tabs served at once (default 8); the next is told so",
    )
    web.add_argument(
        "--idle",
        type=duration,
        default=30 * 60.0,
        metavar="DURATION",
        help="a tab with no key for this long is ended (default 30m); it may reconnect",
    )
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the page's address behind a reverse proxy (its origin is the one allowed)",
    )
    web.add_argument("--config", metavar="PATH", help="the config file whose [keys] tabs use")
    web.set_defaults(run=run)


def _sessions(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError("expected a number of sessions from 1 to 64")
    return int(value)


def run(start: Start) -> int:
    """Served until SIGINT or SIGTERM; SIGHUP reads the web configuration again. Neither
    Textual nor a deployment's client is imported: the sessions draw."""
    args = start.args
    memory.resume()  # it runs for days
    followed = Path(args.path).expanduser()
    _check_followed(followed)
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise UsageError(f"--public-url {args.public_url!r}: expected an http(s):// URL")
    host, port = listen_address(args.listen)
    import asyncio

    from wa_tui.outputs.serving import GuardedSite, start_serving, stop_on_signals
    from wa_tui.web.server import WebView, keys_config

    site = GuardedSite(web_config_of(args, host))
    view = WebView(
        followed, site, keys_config(start.keymap), args.max_sessions, args.idle, args.public_url
    )

    async def serve() -> None:
        stop = stop_on_signals(site, args.web_config is not None)
        serving = await start_serving(view, host, port)
        await stop.wait()
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    with listening(args.listen):
        asyncio.run(serve())
    return 0


def _check_followed(path: Path) -> None:
    """PATH is a recording or a folder holding some: else one line, before listening."""
    from wa_tui.core.errors import RecordingError

    if path.is_dir():
        try:
            recordings = [p for p in path.iterdir() if p.suffix == ".db"]
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror or exc}") from None
        if not recordings:
            raise UsageError(f"{path}: no recording (*.db) in this folder")
        return
    from wa_tui.recording.read_only import open_read_only

    try:
        db, _ = open_read_only(path)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    db.close()
