"""Serving the metrics until a signal says stop: the exporter's and the recorder's
(`--listen`). Loaded when one of them runs, not when the command line is parsed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wa_tui.outputs.exporter import Exporter


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
