"""`wa-tui exporter`: every deployment's state as Prometheus metrics, headless."""

from __future__ import annotations

import argparse
import asyncio
import sys

from wa_tui.cli.common import Commands, UsageError, open_targets, positive
from wa_tui.core import memory


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
    exporter.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
