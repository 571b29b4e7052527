"""1. First data frame: process start -> the node list showing the primary master, for
`wa-tui --url` against a local simulator, versus process start -> first frame of a
minimal Textual app. Both in a real 160x50 pseudo-terminal; median of several runs."""

from __future__ import annotations

from benchmarks.common import (
    MINIMAL_APP,
    PYTHON,
    QUICK,
    figure,
    in_pty,
    median_of,
    report,
    simulator,
)

RUNS = 3 if QUICK else 7
# The minimal app, after loading what any dashboard on our design card loads before it
# can show data: httpx, and pydantic with one model built (the first model built also
# loads pydantic's plugin machinery, importlib.metadata). No request, no parsing.
WITH_DEPENDENCIES = (
    "import httpx\nfrom pydantic import BaseModel\n"
    "class Model(BaseModel):\n    x: int = 0\n" + MINIMAL_APP
)


def first_frame(source: str) -> float:
    with in_pty([PYTHON, "-c", source]) as run:
        return run.read_until(b"READY")


def wa_tui_first_data(url: str, env: dict[str, str]) -> float:
    with in_pty([PYTHON, "-m", "wa_tui", "--url", url], env) as run:
        return run.read_until("★ primary".encode())


def main() -> None:
    with simulator("--shards", "32", "--no-story") as sim:
        wa_tui_first_data(sim.url, sim.env)  # warm the OS file cache for all three
        first_frame(WITH_DEPENDENCIES)
        baseline = median_of(RUNS, lambda: first_frame(MINIMAL_APP))
        floor = median_of(RUNS, lambda: first_frame(WITH_DEPENDENCIES))
        ours = median_of(RUNS, lambda: wa_tui_first_data(sim.url, sim.env))
    report(
        "First data frame (32-shard deployment, 36 nodes)",
        [
            ("minimal Textual app, first frame", f"{baseline * 1000:.0f} ms"),
            ("the same after importing httpx and pydantic", f"{floor * 1000:.0f} ms"),
            ("wa-tui --url, primary master on screen", f"{ours * 1000:.0f} ms"),
            ("ratio to the minimal app (target <= 1.5x)", f"{ours / baseline:.2f}x"),
            ("ratio of the dependencies alone to the minimal app", f"{floor / baseline:.2f}x"),
            ("ratio to the minimal app with the dependencies", f"{ours / floor:.2f}x"),
        ],
    )
    figure(
        "first data frame, 36 nodes (real terminal)",
        ours * 1000,
        "ms",
        ("minimal Textual app", baseline * 1000),
        "<= 1.5x",
        ours / baseline <= 1.5,
    )
    figure(
        "first data frame, against the minimal app after httpx and pydantic",
        ours * 1000,
        "ms",
        ("minimal app, httpx, one pydantic model", floor * 1000),
        "none: the floor that stops 1.5x",
        None,
    )


if __name__ == "__main__":
    main()
