"""`wa-tui exporter`: every deployment's state as Prometheus metrics, headless."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.common import Commands, UsageError, open_targets, positive
from wa_tui.core import memory

if TYPE_CHECKING:
    from wa_tui.outputs.exporter import Exporter
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
        "--interval", type=positive, default=argparse.SUPPRESS, help="seconds between polls"
    )
    web_config_option(exporter)
    exporter.set_defaults(run=run)


def web_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--web-config",
        "--web.config.file",
        dest="web_config",
        metavar="FILE",
        help="TLS and basic auth for /metrics and /healthz: the Prometheus exporter "
        "toolkit's web configuration file (SIGHUP reads it again)",
    )


def web_config_of(args: argparse.Namespace, host: str) -> WebConfig:
    """The web configuration asked for (exit 2 with one line if it does not load), and a
    warning when metrics would go unencrypted beyond this machine."""
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


def run(args: argparse.Namespace) -> int:
    """Prometheus metrics of every deployment: Textual is never imported."""
    memory.resume()  # it runs for months
    from wa_tui.outputs.exporter import Exporter

    host, port = listen_address(args.listen)
    with open_targets(args) as found:
        usable = [t for t in found if not t.needs_password]
        for skipped in set(found) - set(usable):
            print(f"wa-tui: {skipped.name}: no password source, not exported", file=sys.stderr)
        exporter = Exporter(usable, web=web_config_of(args, host))

        async def serve() -> None:
            stop = stop_on_signals(exporter, args.web_config is not None)
            serving = await start_serving(exporter, host, port)
            await stop.wait()
            serving.cancel()

        with listening(args.listen):
            asyncio.run(serve())
    return 0


def listen_address(listen: str) -> tuple[str, int]:
    """`--listen HOST:PORT` as (host, port); one line and exit 2 if it is not that."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:9877")
    return host.strip("[]"), int(port)


def stop_on_signals(
    exporter: Exporter | None, reload_web: bool, also: Callable[[], None] | None = None
) -> asyncio.Event:
    """An event SIGINT and SIGTERM set. SIGHUP reads the web configuration again (when
    there is one), off the loop, saying how it went in one line; and calls `also`."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    reloading: set[asyncio.Task[None]] = set()  # held until done (the loop holds weakly)

    async def reload(exporter: Exporter) -> None:
        said = await exporter.reload_web(exporter.web.source)
        print(f"wa-tui: {said}", file=sys.stderr, flush=True)

    def on_sighup() -> None:
        if exporter is not None and reload_web:
            task = asyncio.create_task(reload(exporter))
            reloading.add(task)
            task.add_done_callback(reloading.discard)
        if also is not None:
            also()

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    return stop


async def start_serving(exporter: Exporter, host: str, port: int) -> asyncio.Task[None]:
    """The exporter polling and serving: the task, once it listens (and the line that
    says where), or the reason it could not."""
    ready = asyncio.Event()
    serving = asyncio.create_task(exporter.serve(host, port, ready))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
    if serving.done():
        waiting.cancel()
        serving.result()  # it failed to start: say why
    shown = f"[{host}]" if ":" in host else host
    print(
        f"serving /metrics and /healthz on {exporter.web.scheme}://{shown}:{exporter.port} "
        f"for {len(exporter.watchers)} deployment(s); Ctrl+C stops",
        flush=True,
    )
    return serving


@contextmanager
def listening(listen: str) -> Iterator[None]:
    """A listener that cannot start is one line and exit 2."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
