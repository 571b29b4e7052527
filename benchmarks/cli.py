"""5. CLI: wall time of `wa-tui check` and `wa-tui snapshot` against the simulator, versus
`python -c "import httpx, pydantic"` (the import floor #21 names), versus
benchmarks/check_floor.py (check's own work done with its libraries and no wa-tui code)
and versus `curl -s` of the same endpoint (the shell baseline). Median of several runs."""

from __future__ import annotations

import statistics
import subprocess
import time

from benchmarks.common import PYTHON, QUICK, ROOT, figure, report, simulator

RUNS = 3 if QUICK else 10


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    def once() -> float:
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    once()  # warm the file cache
    return statistics.median(once() for _ in range(RUNS))


def main() -> None:
    floor = wall([PYTHON, "-c", "import httpx, pydantic"])
    # `import pydantic` is lazy: BaseModel (pydantic.main) loads on first use. The floor
    # of any program that validates with pydantic and fetches with httpx's async client:
    fair = wall([PYTHON, "-c", "import asyncio, httpx; from pydantic import BaseModel"])
    with simulator("--shards", "32", "--no-story") as sim:
        token = (
            subprocess.run(
                [
                    "curl",
                    "-s",
                    "-u",
                    f"{sim.username}:{sim.password}",
                    "-X",
                    "POST",
                    f"{sim.url}/v1/users/login",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.split('"token": "')[1]
            .split('"')[0]
        )
        curl = wall(["curl", "-s", "-H", f"Authorization: Bearer {token}", f"{sim.url}/v1/support"])
        libraries = wall([PYTHON, str(ROOT / "benchmarks" / "check_floor.py"), sim.url, token])
        check = wall([PYTHON, "-m", "wa_tui", "check", "--url", sim.url], sim.env)
        snapshot = wall([PYTHON, "-m", "wa_tui", "snapshot", "--url", sim.url], sim.env)
    report(
        "CLI wall time (32-shard deployment)",
        [
            ('python -c "import httpx, pydantic"', f"{floor * 1000:.0f} ms"),
            (
                'python -c "import asyncio, httpx; from pydantic import BaseModel"',
                f"{fair * 1000:.0f} ms",
            ),
            ("curl -s /v1/support", f"{curl * 1000:.0f} ms"),
            ("check_floor.py (check's requests, no wa-tui)", f"{libraries * 1000:.0f} ms"),
            ("wa-tui check", f"{check * 1000:.0f} ms"),
            ("wa-tui snapshot", f"{snapshot * 1000:.0f} ms"),
            ("check / import floor (target <= 1.3x)", f"{check / floor:.2f}x"),
            ("snapshot / import floor", f"{snapshot / floor:.2f}x"),
            ("check / floor with BaseModel and asyncio loaded", f"{check / fair:.2f}x"),
            ("check / check_floor.py", f"{check / libraries:.2f}x"),
            ("check_floor.py / import floor", f"{libraries / floor:.2f}x"),
            ("check / curl", f"{check / curl:.1f}x"),
        ],
    )
    for name, took in (("check", check), ("snapshot", snapshot)):
        figure(
            f"`wa-tui {name}` wall time, 36 nodes",
            took * 1000,
            "ms",
            ('python -c "import httpx, pydantic"', floor * 1000),
            "<= 1.3x",
            took / floor <= 1.3,
        )
        figure(
            f"`wa-tui {name}` against its libraries doing its requests",
            took * 1000,
            "ms",
            ("benchmarks/check_floor.py", libraries * 1000),
            "none: the floor that stops 1.3x",
            None,
        )


if __name__ == "__main__":
    main()
