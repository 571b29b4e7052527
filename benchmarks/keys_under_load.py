"""4. Keys under load: time from a key press to the terminal receiving the screen change,
while a refresh is in flight (every answer 1 s late, a 0.5 s interval), versus the same
for a minimal Textual app that updates a label on each key. Real 160x50 pseudo-terminal.
Then the CPU a cursor move costs (the node list's cursor, the detail following it),
headless at 160x50, versus the minimal app updating its label on a key."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from textual.app import App, ComposeResult
from textual.events import Key
from textual.pilot import Pilot
from textual.widgets import Label

from benchmarks.common import MINIMAL_APP, PYTHON, PtyRun, in_pty, report, served, simulator
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.node_table import NodeTable

PRESSES = 20
MOVES = 60


class LabelOnKey(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("READY")

    def on_key(self, event: Key) -> None:
        self.query_one(Label).update(f"{event.key} {time.time():.3f}")


async def cpu_per_key(
    app: App[object], keys: str, ready: Callable[[Pilot[object]], Awaitable[object]]
) -> float:
    """CPU seconds per key press, each answered before the next (median of three runs)."""
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        runs = []
        for _ in range(3):
            start = time.process_time()
            for index in range(MOVES):
                await pilot.press(keys[index % len(keys)])
                await pilot.pause()
            runs.append((time.process_time() - start) / MOVES)
        return statistics.median(runs)


async def _nodes_shown(pilot: Pilot[object]) -> None:
    table = pilot.app.query_one(NodeTable)
    while table.row_count < 36:
        await pilot.pause(0.1)
    await pilot.pause(1.5)  # the stats poll after the first


def key_latencies(run: PtyRun, keys: bytes) -> list[float]:
    latencies = []
    for index in range(PRESSES):
        run.drain(0.15)  # let any frame in progress go out first
        key = keys[index % len(keys) : index % len(keys) + 1]
        before = len(run.output)
        start = time.perf_counter()
        run.write(key)
        while len(run.output) == before:
            run.read(0.01)
        latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    with in_pty([PYTHON, "-c", MINIMAL_APP]) as run:
        run.read_until(b"READY")
        baseline = statistics.median(key_latencies(run, b"ab"))
    with simulator("--shards", "32", "--no-story", "--fault", "latency") as sim:
        argv = [PYTHON, "-m", "wa_tui", "--url", sim.url, "--interval", "0.5", "--timeout", "5"]
        with in_pty(argv, sim.env) as run:
            run.read_until("★ primary".encode())
            ours = statistics.median(key_latencies(run, b"jjjjkkkk"))
    label = asyncio.run(cpu_per_key(LabelOnKey(), "ab", lambda pilot: pilot.pause(1)))
    with served(36, flapping=False, interval=60.0) as target:
        move = asyncio.run(cpu_per_key(WaTuiApp([target]), "j" * 10 + "k" * 10, _nodes_shown))
    report(
        "Keys under load (a refresh always in flight)",
        [
            ("minimal Textual app, key to screen", f"{baseline * 1000:.1f} ms"),
            ("wa-tui, j/k to screen (target < 50 ms)", f"{ours * 1000:.1f} ms"),
            ("ratio", f"{ours / baseline:.2f}x"),
            ("minimal app, CPU per key (a label updated, headless)", f"{label * 1000:.1f} ms"),
            ("wa-tui, CPU per cursor move (the detail follows)", f"{move * 1000:.1f} ms"),
            ("ratio", f"{move / label:.2f}x"),
        ],
    )


if __name__ == "__main__":
    main()
