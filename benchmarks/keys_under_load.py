"""4. Keys under load: time from a key press to the terminal receiving the screen change,
while a refresh is in flight (every answer 1 s late, a 0.5 s interval), versus the same
for a minimal Textual app that updates a label on each key. Real 160x50 pseudo-terminal."""

from __future__ import annotations

import statistics
import time

from benchmarks.common import MINIMAL_APP, PYTHON, PtyRun, in_pty, report, simulator

PRESSES = 20


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
    report(
        "Keys under load (a refresh always in flight)",
        [
            ("minimal Textual app, key to screen", f"{baseline * 1000:.1f} ms"),
            ("wa-tui, j/k to screen (target < 50 ms)", f"{ours * 1000:.1f} ms"),
            ("ratio", f"{ours / baseline:.2f}x"),
        ],
    )


if __name__ == "__main__":
    main()
