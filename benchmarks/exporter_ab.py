"""The exporter at 200 deployments, this tree against another checkout, alternated
(A B A B) so that a machine's drift falls on both: `python -m benchmarks.exporter_ab
CHECKOUT [ROUNDS]`. The same measurement as benchmarks/fleet.py's exporter figure."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, report
from benchmarks.fleet import PASSWORD, SECONDS, _config, _serve, exporter_run


def main() -> None:
    against, rounds = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    ours, theirs = multiprocessing.Pipe()
    host = multiprocessing.Process(target=_serve, args=(200, theirs), daemon=True)
    host.start()
    urls = ours.recv()
    env = dict(os.environ, BENCH_PW=PASSWORD)
    shares: dict[str, list[float]] = {"baseline": [], "this tree": []}
    try:
        with tempfile.TemporaryDirectory() as directory:
            config = _config(urls, Path(directory))
            for _ in range(rounds):
                for label, checkout in (("baseline", against), ("this tree", ROOT)):
                    shares[label].append(exporter_run(config, env, SECONDS, checkout)[0])
    finally:
        ours.send(None)
        host.join(timeout=60)
    base, this = (statistics.median(shares[k]) for k in ("baseline", "this tree"))
    rows = [
        (label, " / ".join(f"{s:.2%}" for s in values) + " of a core")
        for label, values in shares.items()
    ]
    rows.append(("this tree against the baseline (medians)", f"{this / base:.2f}x"))
    report("The exporter at 200 deployments of 12 nodes, 15 s, alternated", rows)


if __name__ == "__main__":
    main()
