"""2. Steady state: CPU per refresh and per minute while watching a 34-node deployment
(32 shards) at a 2 s interval: byte-identical answers; live (every node's free space
drifting as its logs grow, nothing shown changing: what a real deployment sends); one
node changing each refresh; against a minimal Textual app idling as long. All of the
process's CPU (UI thread, worker threads, Textual's threads); the simulator runs in
another process, not counted.

Measured twice: headless through Pilot (it still lays out and renders every frame), with
counts of what was redrawn; and `wa-tui --url` in a real 160x50 terminal, from /proc."""

from __future__ import annotations

import asyncio
import statistics
import time

from textual.app import App
from textual.widgets import Label

from benchmarks import refresh_floor
from benchmarks.common import (
    MINIMAL_APP,
    PYTHON,
    QUICK,
    TimedApp,
    figure,
    in_pty,
    report,
    served,
    simulator,
)
from wa_tui.ui.node_detail import NodeDetail
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.status_bar import StatusBar
from wa_tui.ui.topology import TopologyView

INTERVAL = 2.0
SECONDS = 8.0 if QUICK else 30.0
# The idle minimal app uses ~0.1% of a core: 30 s is 3 of /proc's 10 ms ticks; 8 s could
# be none (a floor of 0, as in a quick run before this was measured this long).
IDLE_SECONDS = 30.0
SIZE = (160, 50)


class Minimal(App[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Label("READY")


class Ticking(Minimal):
    """The minimal app repainting one line at every interval, as a refresh must."""

    def on_mount(self) -> None:
        self.set_interval(INTERVAL, lambda: self.query_one(Label).update(f"{time.time():.3f}"))


async def fetch_floor() -> float:
    """CPU of one refresh's requests alone: the two answers fetched with httpx, as the
    client does, and nothing else (no parsing, no analysis, no UI)."""
    with served(34, flapping=False, interval=INTERVAL) as target:
        async with target.client() as client:
            await client.get_body("/v1/support")
            start = time.process_time()
            for _ in range(20):
                await asyncio.gather(client.get_body("/v1/support"), client.get_body("/v1/health"))
            return (time.process_time() - start) / 20


async def idle_cpu(app: App[None], settle: float) -> float:
    """Process CPU seconds over SECONDS, after `settle` seconds of start-up."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(settle)
        start = time.process_time()
        await asyncio.sleep(SECONDS)
        return time.process_time() - start


SHAPES = {  # label: (one node flapping, logs growing, vitals served and read)
    "identical answers, vitals off": (False, False, False),
    "live (free space drifting), vitals off": (False, True, False),
    "live, vitals on": (False, True, True),
    "one node changing, vitals off": (True, False, False),
}
HEADLINE_SHAPES = ("identical answers, vitals off", "live, vitals on")


async def watch(flapping: bool, live: bool, vitals: bool) -> tuple[float, int, dict[str, float]]:
    with served(34, flapping, INTERVAL, live=live, vitals=vitals) as target:
        app = TimedApp([target], settle_memory=True)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(3)
            polls, table = app.watcher.poller.polls, app.query_one(NodeTable)
            cells, rows = table.cell_updates, table.rows_rendered
            topology = app.query_one(TopologyView)
            redraws, painted = topology.redraws, topology.lines_painted
            details = app.query_one(NodeDetail).redraws
            status = app.query_one(StatusBar).redraws
            start = time.process_time()
            await asyncio.sleep(SECONDS)
            cpu = time.process_time() - start
            updates = app.update_seconds[-(app.watcher.poller.polls - polls) :]
            counts = {
                "UI update per refresh (median, ms)": round(statistics.median(updates) * 1000, 2),
                "cells rewritten": table.cell_updates - cells,
                "node rows drawn again": table.rows_rendered - rows,
                "topology blocks rendered again": topology.redraws - redraws,
                "topology lines repainted": topology.lines_painted - painted,
                "detail redraws": app.query_one(NodeDetail).redraws - details,
                "status line repaints": app.query_one(StatusBar).redraws - status,
            }
            return cpu, app.watcher.poller.polls - polls, counts


def in_a_terminal() -> tuple[dict[str, float], dict[str, float]]:
    """Share of a core over SECONDS: the minimal app idle, and `wa-tui --url` watching a
    36-node deployment at INTERVAL, identical and live, each in a real terminal; and
    each watch's floor (benchmarks/refresh_floor.py against the same simulator)."""
    shares, floors = {}, {}
    with in_pty([PYTHON, "-c", MINIMAL_APP]) as run:
        run.read_until(b"READY")
        run.drain(2)
        start = run.cpu_seconds()
        run.drain(IDLE_SECONDS)
        shares["minimal Textual app idle"] = (run.cpu_seconds() - start) / IDLE_SECONDS
    runs = {
        "identical answers, vitals off": (["--steady", "--no-stats"], INTERVAL),
        **({} if QUICK else {"live, vitals off": (["--no-stats"], INTERVAL)}),  # no target
        "live, vitals on": ([], INTERVAL),
        "live, vitals on, at 5 s": ([], 5.0),
    }
    for label, (options, interval) in runs.items():
        with simulator("--shards", "32", "--no-story", *options) as sim:
            # The floor of its refreshes, against the same simulator (vitals off: the
            # stats requests answered 404).
            cpu = refresh_floor.floor(sim.url, sim.username, sim.password, interval)
            floors[label] = cpu / interval
            argv = [PYTHON, "-m", "wa_tui", "--url", sim.url, "--interval", f"{interval:g}"]
            with in_pty(argv, sim.env) as run:
                run.read_until("★ primary".encode())
                # Past the start's one-time work: the early poll, the stats 1 s later,
                # the first rates (the vitals and detail grow, a scrollbar appears: a
                # layout of the whole screen), the webhook probe. At 5 s that is 11 s.
                run.drain(max(3.0, 2 * interval + 1))
                start = run.cpu_seconds()
                run.drain(SECONDS)
                shares[label] = (run.cpu_seconds() - start) / SECONDS
    return shares, floors


def main() -> None:
    baseline = asyncio.run(idle_cpu(Minimal(), settle=1))
    ticking = asyncio.run(idle_cpu(Ticking(), settle=1)) / (SECONDS / INTERVAL)
    fetching = asyncio.run(fetch_floor())
    rows = [
        ("minimal Textual app idle", f"{baseline / SECONDS * 100:.2f}% of a core"),
        ("floor: minimal app repainting a line each refresh", f"{ticking * 1000:.1f} ms"),
        ("floor: the two requests alone, through httpx", f"{fetching * 1000:.1f} ms"),
        (
            "floor: both, per refresh (the least a refresh can cost)",
            f"{(ticking + fetching) * 1000:.1f} ms = "
            f"{(ticking + fetching) / INTERVAL * 100:.2f}% of a core at {INTERVAL:g} s",
        ),
    ]
    # --quick keeps the time for the real terminal: the headless watches with no target of
    # their own are left out.
    shapes = {k: v for k, v in SHAPES.items() if not QUICK or k in HEADLINE_SHAPES}
    for label, (flapping, live, vitals) in shapes.items():
        cpu, polls, counts = asyncio.run(watch(flapping, live, vitals))
        per_refresh = (cpu - baseline) / max(polls, 1) * 1000
        rows += [
            (f"{label}: refreshes in {SECONDS:.0f} s", str(polls)),
            (f"{label}: CPU per refresh above idle (target < 2 ms)", f"{per_refresh:.1f} ms"),
            (f"{label}: watching costs (target < 0.5%)", f"{cpu / SECONDS * 100:.2f}% of a core"),
            (f"{label}: ratio to the idle minimal app", f"{cpu / baseline:.1f}x"),
            *((f"{label}: {name}", str(value)) for name, value in counts.items()),
        ]
    shares, floors = in_a_terminal()
    minimal = shares.pop("minimal Textual app idle")
    for label in ("identical answers, vitals off", "live, vitals on", "live, vitals on, at 5 s"):
        floor_share = floors[label] * 100
        rows.append((f"floor: benchmarks/refresh_floor.py, {label}", f"{floor_share:.2f}%"))
        where = label if label.endswith(" s") else f"{label}, at {INTERVAL:g} s"
        figure(
            f"watching 36 nodes, {where} (real terminal)",
            shares[label] * 100,
            "%",
            ("benchmarks/refresh_floor.py: its requests and json.loads", floor_share),
            "<= 1.5x",
            shares[label] * 100 <= 1.5 * floor_share,
        )
        # What any Textual dashboard making these requests costs: the floor that stops 1.5x.
        figure(
            f"watching 36 nodes, {where}, against the floor and Textual idling",
            shares[label] * 100,
            "%",
            ("refresh_floor.py plus the minimal Textual app idle", floor_share + minimal * 100),
            "none: what stops 1.5x",
            None,
        )
    rows.append(("real terminal: minimal Textual app idle", f"{minimal * 100:.2f}% of a core"))
    for label, share in shares.items():
        interval = 5.0 if label.endswith("5 s") else INTERVAL
        per_refresh, above_idle = share * interval * 1000, (share - minimal) * interval * 1000
        rows += [
            (f"real terminal: wa-tui --url, {label} (target < 0.5%)", f"{share * 100:.2f}%"),
            (
                f"real terminal: {label}, CPU per refresh",
                f"{per_refresh:.1f} ms ({above_idle:.1f} above idle)",
            ),
        ]
    report("Steady state, 34-node deployment at a 2 s interval", rows)


if __name__ == "__main__":
    main()
