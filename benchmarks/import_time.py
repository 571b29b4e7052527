"""`wa-tui check`'s import time here against another revision's, runs alternating: the
self time `-X importtime` gives wa-tui's own modules, and every import's (#28 item 4: the
move into packages must cost at most 5 ms). Both trees' bytecode compiled first, as an
install has it (benchmarks/common.py says why). `--follow`: what `wa-tui --follow FILE`
imports before its first frame (the command line, the follower, its app), instead.

    python -m benchmarks.import_time REV [RUNS] [--follow]
"""

from __future__ import annotations

import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT
from wa_tui.simulator import SimDeployment, SimulatorServer

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


FOLLOWER = "import wa_tui.cli.main, wa_tui.recording.follow, wa_tui.ui.follow_app"


def _self_times(tree: Path, url: str, env: dict[str, str], follow: bool) -> tuple[float, float]:
    """Milliseconds of self time: wa-tui's modules, every module."""
    what = ["-c", FOLLOWER] if follow else ["-m", "wa_tui", "check", "--url", url]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *what],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    times = [(int(m[1]), m[3]) for m in map(LINE.match, done.stderr.splitlines()) if m]
    ours = sum(us for us, name in times if name.startswith("wa_tui"))
    return ours / 1000, sum(us for us, _ in times) / 1000


def main(revision: str, runs: int, follow: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="wa-tui-rev-") as folder:
        subprocess.run(["git", "worktree", "add", "-f", folder, revision], cwd=ROOT, check=True)
        try:
            trees = {revision: Path(folder), "this tree": ROOT}
            for tree in trees.values():
                compileall.compile_dir(tree / "wa_tui", quiet=1)
            server = SimulatorServer(SimDeployment.multiconnect(8)).start()
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env |= {"WA_TUI_USERNAME": server.username, "WA_TUI_PASSWORD": server.password}
            env["PYDANTIC_DISABLE_PLUGINS"] = "__all__"  # as `wa-tui` sets it
            found: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for _ in range(runs):
                for name, tree in trees.items():
                    found[name].append(_self_times(tree, server.url, env, follow))
            server.stop()
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", folder], cwd=ROOT, check=True)
    for name, times in found.items():
        ours = statistics.median(t[0] for t in times)
        every = statistics.median(t[1] for t in times)
        print(f"{name}: wa-tui's modules {ours:.1f} ms, every import {every:.1f} ms (median)")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[2:] if a.isdigit()]
    main(sys.argv[1], int(numbers[0]) if numbers else 15, "--follow" in sys.argv)
