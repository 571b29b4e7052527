"""The team's recorder at scale: `wa-tui record --dir` of 500 deployments of 12 nodes
each, at 15 s, serving their metrics too, this tree against another checkout, alternated
(A B A B): its share of a core, its RSS, and the CPU it spends on one poll.

    python -m benchmarks.recorder_scale CHECKOUT [ROUNDS] [COUNT]
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import QUICK, ROOT, exporter_process, process_cpu_seconds, report
from benchmarks.fleet import INTERVAL, PASSWORD, _config, _serve

SECONDS = 30.0 if QUICK else 60.0


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def recorder_run(config: Path, env: dict[str, str], checkout: Path) -> tuple[float, int]:
    """Share of a core over SECONDS (after every deployment's first poll) and the RSS
    then, of a recorder of every deployment of `config` into a fresh folder."""
    with tempfile.TemporaryDirectory() as folder:
        command = ("record", "--dir", folder)
        process, _ = exporter_process(
            config, env, "--interval", f"{INTERVAL:g}", checkout=checkout, command=command
        )
        try:
            time.sleep(INTERVAL + 10)  # every deployment polled once, recorded
            start = process_cpu_seconds(process.pid)
            time.sleep(SECONDS)
            share = (process_cpu_seconds(process.pid) - start) / SECONDS
            return share, rss_bytes(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=120)


def main() -> None:
    against = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    ours, theirs = multiprocessing.Pipe()
    host = multiprocessing.Process(target=_serve, args=(count, theirs), daemon=True)
    host.start()
    urls = ours.recv()
    env = dict(os.environ, BENCH_PW=PASSWORD)
    found: dict[str, list[tuple[float, int]]] = {"baseline": [], "this tree": []}
    try:
        with tempfile.TemporaryDirectory() as directory:
            config = _config(urls, Path(directory))
            for _ in range(rounds):
                for label, checkout in (("baseline", against), ("this tree", ROOT)):
                    found[label].append(recorder_run(config, env, checkout))
    finally:
        ours.send(None)
        host.join(timeout=120)
    polls_a_second = count / INTERVAL
    rows = []
    for label, runs in found.items():
        share = statistics.median(s for s, _ in runs)
        rss = statistics.median(r for _, r in runs)
        per_poll = share / polls_a_second * 1000
        rows += [
            (f"{label}: CPU", " / ".join(f"{s:.1%}" for s, _ in runs) + " of a core"),
            (f"{label}: RSS", f"{rss / 2**20:.0f} MiB"),
            (f"{label}: CPU a poll (median)", f"{per_poll:.2f} ms"),
        ]
    base, this = (statistics.median(s for s, _ in found[k]) for k in ("baseline", "this tree"))
    rows.append(("this tree against the baseline (CPU medians)", f"{this / base:.2f}x"))
    report(f"A recorder of {count} deployments of 12 nodes at {INTERVAL:g} s", rows)


if __name__ == "__main__":
    main()
