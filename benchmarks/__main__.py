"""`python -m benchmarks [--quick]`: every benchmark, each in its own process, then one
Markdown table of their headline figures (figure, floor in the same run, ratio, target,
met). Each benchmark's own output goes to benchmarks/runs/last-NAME.txt.

`--quick` gives the same table in a few minutes: fewer runs, a one-hour recording
instead of a day, shorter watches. Its figures are noisier; the targets stand.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure, machine

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("first_frame", "cli", "steady_state", "fleet", "recording", "team", "web")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the same table, in minutes")
    parser.add_argument("only", nargs="*", metavar="NAME", help=f"some of {BENCHMARKS}")
    args = parser.parse_args()
    figures: list[tuple[str, Figure]] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or BENCHMARKS:
            figures += [(name, f) for f in _run(name, args.quick, Path(folder))]
    print(table(figures, args.quick, time.perf_counter() - began))
    return 0 if all(f.met is not False for _, f in figures) else 1


def _run(name: str, quick: bool, folder: Path) -> list[Figure]:
    """One benchmark in its own process: its headline figures."""
    written = folder / f"{name}.jsonl"
    env = dict(os.environ, WA_TUI_BENCH_FIGURES=str(written), WA_TUI_BENCH_QUICK=str(int(quick)))
    log = HERE / "runs" / f"last-{name}.txt"
    print(f"running {name} (its output: {log.relative_to(HERE.parent)})", file=sys.stderr)
    began = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], env=env, stdout=out)
    print(f"  {name} took {time.perf_counter() - began:.0f} s", file=sys.stderr)
    if done.returncode:
        print(f"{name} failed (exit {done.returncode}): see {log}", file=sys.stderr)
    if not written.exists():
        return []
    return [Figure(**json.loads(line)) for line in written.read_text().splitlines()]


def table(figures: list[tuple[str, Figure]], quick: bool, seconds: float) -> str:
    lines = [
        f"Run {'--quick ' if quick else ''}on {machine()}, {seconds / 60:.0f} min in all.",
        "",
        "| benchmark | figure | wa-tui | floor, same run | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in figures:
        floor = f"{_value(f.floor, f.unit)} ({f.floor_what})" if f.floor is not None else "—"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[f.met]
        value = _value(f.value, f.unit)
        lines.append(f"| {name} | {f.what} | {value} | {floor} | {ratio} | {f.target} | {met} |")
    return "\n".join(lines)


def _value(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.2f}% of a core"
    if unit == "s" and value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:,.1f} {unit}" if unit != "ms" else f"{value:,.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
