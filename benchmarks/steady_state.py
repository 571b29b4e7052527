"""2. Steady state: CPU of the UI thread per refresh and per minute while watching a
34-node deployment (32 shards) at a 2 s interval, unchanged, then with one node changing
each refresh; against a minimal Textual app idling as long. Headless Textual (it still
lays out and renders every frame); the simulator runs in another thread, not measured."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator

from textual.app import App
from textual.widgets import Label

from benchmarks.common import TimedApp, report
from wa_tui import targets
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.topology import TopologyView

INTERVAL = 2.0
SECONDS = 30.0
SIZE = (160, 50)


def one_node_flapping(deployment: SimDeployment) -> Iterator[str]:
    """Each step changes one shard owner's socket: UP -> SC -> UP ..."""
    node = deployment.serving_coreapps()[5]
    while True:
        with deployment.lock:
            node.socket_conn = "SC" if node.socket_conn == "UP" else "UP"
        yield node.socket_conn


class Minimal(App[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Label("READY")


async def idle_cpu(app: App[None], settle: float) -> float:
    """UI-thread CPU seconds over SECONDS, after `settle` seconds of start-up."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(settle)
        start = time.thread_time()
        await asyncio.sleep(SECONDS)
        return time.thread_time() - start


async def watch(changing: bool) -> tuple[float, int, dict[str, float]]:
    deployment = SimDeployment.multiconnect(32, spares=0)  # 34 nodes
    story = one_node_flapping(deployment) if changing else None
    with SimulatorServer(deployment, story=story, step_seconds=INTERVAL) as server:
        target = targets.demo(
            server.url, server.username, server.password, targets.Overrides(interval=INTERVAL)
        )
        app = TimedApp([target])
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(3)
            polls, table = app.poller.polls, app.query_one(NodeTable)
            cells, redraws = table.cell_updates, app.query_one(TopologyView).redraws
            details = app.query_one(NodeDetail).redraws
            start = time.thread_time()
            await asyncio.sleep(SECONDS)
            cpu = time.thread_time() - start
            updates = app.update_seconds[-(app.poller.polls - polls) :]
            counts = {
                "UI update per refresh (median, ms)": round(statistics.median(updates) * 1000, 2),
                "cells rewritten": table.cell_updates - cells,
                "topology redraws": app.query_one(TopologyView).redraws - redraws,
                "detail redraws": app.query_one(NodeDetail).redraws - details,
            }
            return cpu, app.poller.polls - polls, counts


def main() -> None:
    baseline = asyncio.run(idle_cpu(Minimal(), settle=1))
    rows = [("minimal Textual app idle", f"{baseline / SECONDS * 100:.2f}% of a core")]
    for changing in (False, True):
        cpu, polls, counts = asyncio.run(watch(changing))
        label = "one node changing" if changing else "unchanged"
        per_refresh = (cpu - baseline) / max(polls, 1) * 1000
        rows += [
            (f"{label}: refreshes in {SECONDS:.0f} s", str(polls)),
            (f"{label}: CPU per refresh above idle (target < 2 ms)", f"{per_refresh:.1f} ms"),
            (f"{label}: watching costs (target < 0.5%)", f"{cpu / SECONDS * 100:.2f}% of a core"),
            (f"{label}: ratio to the idle minimal app", f"{cpu / baseline:.1f}x"),
            *((f"{label}: {name}", str(value)) for name, value in counts.items()),
        ]
    report("Steady state, 34-node deployment at a 2 s interval", rows)


if __name__ == "__main__":
    main()
