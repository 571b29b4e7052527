"""3. Scale: a 32-shard deployment (34 nodes) and 1,000 nodes in one answer. Parse +
analysis time per refresh (median), UI update time and the longest event-loop stall
while refreshing (a 5 ms ticker measures it), and peak RSS of `wa-tui --url` in a real
terminal. Baseline: json.loads of the same answer, and the minimal Textual app's RSS."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable

from benchmarks.common import (
    MINIMAL_APP,
    PYTHON,
    TimedApp,
    deployment,
    in_pty,
    report,
    served,
    simulator,
)
from wa_tui.analysis import analyse, diff
from wa_tui.api.answers import Answers
from wa_tui.core import clock
from wa_tui.model.snapshot import Snapshot
from wa_tui.simulator import SimDeployment
from wa_tui.ui.node_table import NodeTable

NOW = clock.now()


def _next_answer(dep: SimDeployment) -> bytes:
    """The support answer a refresh later: every node's clock moved, one socket flapped."""
    answer = dep.support_payload()
    for entry in answer["support"].values():
        entry["device_iso8601"] = "2031-01-01T00:00:00"
    flapped = answer["support"][dep.serving_coreapps()[5].id]
    flapped["socket_conn"] = "SC" if flapped["socket_conn"] == "UP" else "UP"
    return json.dumps(answer).encode()


def parse_and_analyse(nodes: int) -> tuple[float, float, float]:
    """Medians: json.loads of the answers; reading and analysing them as the first answer
    of a deployment; and as a refresh, with the previous snapshot at hand."""
    dep = deployment(nodes)
    support = json.dumps(dep.support_payload()).encode()
    later = _next_answer(dep)
    health = json.dumps(dep.health_payload()).encode()
    first = Answers(support, health, NOW).read(None)

    def timed(work: Callable[[], object]) -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    def ours(answer: bytes, previous: Snapshot | None) -> None:
        snapshot = Answers(answer, health, NOW).read(previous)
        analyse(snapshot, now=NOW)
        if previous is not None:
            list(diff(previous, snapshot))

    return (
        statistics.median(
            timed(lambda: (json.loads(support), json.loads(health))) for _ in range(30)
        ),
        statistics.median(timed(lambda: ours(support, None)) for _ in range(30)),
        statistics.median(timed(lambda: ours(later, first)) for _ in range(30)),
    )


async def ui_update(nodes: int, refreshes: int = 6) -> tuple[float, float]:
    """Median UI update per refresh, and the longest event-loop stall seen meanwhile,
    one node's socket changing at every refresh (as in real life)."""
    with served(nodes, flapping=True, interval=1.0) as target:
        app = TimedApp([target], settle_memory=True)
        worst_gap = 0.0

        async def ticker() -> None:
            nonlocal worst_gap
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                worst_gap = max(worst_gap, now - last - 0.005)
                last = now

        async with app.run_test(size=(160, 50)) as pilot:
            while app.query_one(NodeTable).row_count < nodes:
                await pilot.pause(0.05)
            await pilot.pause(1)  # the table's first width pass happens on idle
            worst_gap = 0.0
            task = asyncio.create_task(ticker())
            target_polls = app.watcher.poller.polls + refreshes
            while app.watcher.poller.polls < target_polls:
                await asyncio.sleep(0.1)  # not pilot.pause(): it forces a repaint itself
            task.cancel()
        return statistics.median(app.update_seconds[-refreshes:]), worst_gap


def peak_rss(url: str, env: dict[str, str]) -> tuple[int, int]:
    with in_pty([PYTHON, "-c", MINIMAL_APP]) as run:
        run.read_until(b"READY")
        run.drain(2)
        minimal = run.peak_rss_bytes()
    with in_pty([PYTHON, "-m", "wa_tui", "--url", url, "--interval", "1"], env) as run:
        run.read_until("★ primary".encode())
        run.drain(8)
        ours = run.peak_rss_bytes()
    return minimal, ours


def main() -> None:
    rows = []
    for nodes in (34, 1000):
        decode, first, refresh = parse_and_analyse(nodes)
        update, stall = asyncio.run(ui_update(nodes, refreshes=15))
        rows += [
            (f"{nodes} nodes: json.loads alone", f"{decode * 1000:.2f} ms"),
            (f"{nodes} nodes: first answer, parse + analysis", f"{first * 1000:.2f} ms"),
            (f"{nodes} nodes: ratio to json.loads", f"{first / decode:.1f}x"),
            (
                f"{nodes} nodes: a refresh, parse + analysis + diff (target < 20 ms at 1,000)",
                f"{refresh * 1000:.2f} ms",
            ),
            (f"{nodes} nodes: ratio to json.loads", f"{refresh / decode:.1f}x"),
            (f"{nodes} nodes: UI update per refresh", f"{update * 1000:.1f} ms"),
            (f"{nodes} nodes: longest stall (target < 50 ms)", f"{stall * 1000:.0f} ms"),
        ]
    with simulator("--shards", "32", "--no-story") as sim:
        minimal, ours_rss = peak_rss(sim.url, sim.env)
    rows += [
        ("peak RSS, minimal Textual app", f"{minimal / 2**20:.1f} MiB"),
        ("peak RSS, wa-tui on 36 nodes (target < 80 MB)", f"{ours_rss / 2**20:.1f} MiB"),
        ("ratio", f"{ours_rss / minimal:.2f}x"),
    ]
    report("Scale", rows)


if __name__ == "__main__":
    main()
