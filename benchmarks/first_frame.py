"""1. First data frame: process start -> the node list showing the primary master, for
`wa-tui --url` against a local simulator, versus process start -> first frame of a
minimal Textual app. Both in a real 160x50 pseudo-terminal; median of several runs."""

from __future__ import annotations

from benchmarks.common import MINIMAL_APP, PYTHON, in_pty, median_of, report, simulator

RUNS = 7


def minimal_first_frame() -> float:
    with in_pty([PYTHON, "-c", MINIMAL_APP]) as run:
        return run.read_until(b"READY")


def wa_tui_first_data(url: str, env: dict[str, str]) -> float:
    with in_pty([PYTHON, "-m", "wa_tui", "--url", url], env) as run:
        return run.read_until("★ primary".encode())


def main() -> None:
    with simulator("--shards", "32", "--no-story") as sim:
        wa_tui_first_data(sim.url, sim.env)  # warm the OS file cache for both
        minimal_first_frame()
        baseline = median_of(RUNS, minimal_first_frame)
        ours = median_of(RUNS, lambda: wa_tui_first_data(sim.url, sim.env))
    report(
        "First data frame (32-shard deployment, 36 nodes)",
        [
            ("minimal Textual app, first frame", f"{baseline * 1000:.0f} ms"),
            ("wa-tui --url, primary master on screen", f"{ours * 1000:.0f} ms"),
            ("ratio (target <= 1.5x)", f"{ours / baseline:.2f}x"),
        ],
    )


if __name__ == "__main__":
    main()
