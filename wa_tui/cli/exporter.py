"""`wa-tui exporter`: every deployment's state as Prometheus metrics, headless."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.options import Commands, UsageError, duration
from wa_tui.cli.start import Start
from wa_tui.cli.targets import open_targets
from wa_tui.core import memory

if TYPE_CHECKING:
    from wa_tui.outputs.web_config import WebConfig


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    exporter = commands.add_parser(
        "exporter",
        parents=[connection],
        help="serve every deployment's state as Prometheus metrics (headless)",
    )
    exporter.add_argument(
        "--listen", default="127.0.0.1:9877", metavar="HOST:PORT", help="default 127.0.0.1:9877"
    )
    exporter.add_argument(
        "--interval",
        type=duration,
        default=argparse.SUPPRESS,
        help="between polls: seconds, or 30s, 1m",
    )
    web_config_option(exporter)
    exporter.set_defaults(run=run)


def web_config_option(
    parser: argparse.ArgumentParser, served: str = "/metrics and /healthz"
) -> None:
    parser.add_argument(
        "--web-config",
        "--web.config.file",
        dest="web_config",
        metavar="FILE",
        help=f"TLS, client certificates and basic auth for {served}: the Prometheus "
        "exporter toolkit's web configuration file (SIGHUP reads it again)",
    )


def web_config_of(args: argparse.Namespace, host: str) -> WebConfig:
    """The web configuration asked for (exit 2 with one line if it does not load), and a
    warning when what is served would go unencrypted beyond this machine."""
    from wa_tui.outputs.web_config import WebConfig, WebConfigError, read_web_config

    try:
        web = read_web_config(Path(args.web_config)) if args.web_config else WebConfig()
    except WebConfigError as exc:
        raise UsageError(str(exc)) from None
    if web.tls is None and not _loopback(host):
        print(
            f"wa-tui: warning: listening on {host} without TLS: anyone who reaches the port "
            "reads every deployment's nodes, addresses, roles and findings; see "
            "--web-config for TLS and basic auth",
            file=sys.stderr,
        )
    return web


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(start: Start) -> int:
    """Prometheus metrics of every deployment: Textual is never imported."""
    args = start.args
    memory.resume()  # it runs for months
    from wa_tui.outputs.exporter import Exporter

    host, port = listen_address(args.listen)
    with open_targets(start) as found:
        usable = [t for t in found if not t.needs_password]
        for skipped in set(found) - set(usable):
            print(f"wa-tui: {skipped.name}: no password source, not exported", file=sys.stderr)
        exporter = Exporter(usable, web=web_config_of(args, host))

        from wa_tui.outputs.serving import start_serving, stop_on_signals

        async def serve() -> None:
            stop = stop_on_signals(exporter.site, args.web_config is not None)
            serving = await start_serving(exporter, host, port)
            await stop.wait()
            serving.cancel()

        import asyncio

        with listening(args.listen):
            asyncio.run(serve())
    return 0


def listen_address(listen: str) -> tuple[str, int]:
    """`--listen HOST:PORT` as (host, port); one line and exit 2 if it is not that."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:9877")
    return host.strip("[]"), int(port)


@contextmanager
def listening(listen: str) -> Iterator[None]:
    """A listener that cannot start is one line and exit 2."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
