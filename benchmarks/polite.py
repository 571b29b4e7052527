"""11. A polite client: what one deployment receives from wa-tui, this tree against
another checkout (`--against`, e.g. a `git worktree` of the commit before), in the same
run. Each runs `wa-tui check --sample 1` (two polls) and `snapshot` (one) against a
simulator whose every answer takes 50 ms, so requests that are sent together are in
flight together; the simulator counts requests, the most in
flight at once, and the 503s a deployment allowing two in flight would have answered.

`python -m benchmarks.polite --against CHECKOUT`"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from benchmarks.common import PYTHON, ROOT, report
from wa_tui.simulator import SimDeployment, SimulatorServer

ARGUMENTS = argparse.ArgumentParser()
ARGUMENTS.add_argument("--against", type=Path, help="another checkout, measured alike")


def _received(checkout: Path, limit: int | None, *command: str) -> tuple[int, int, int, int]:
    """Requests, the most in flight, 503s for the limit, exit status: of `command`."""
    server = SimulatorServer(
        SimDeployment.multiconnect(8, spares=2), concurrency_limit=limit, request_seconds=0.05
    ).start()
    try:
        env = dict(os.environ, WA_TUI_USERNAME=server.username, WA_TUI_PASSWORD=server.password)
        done = subprocess.run(
            [PYTHON, "-m", "wa_tui", *command, "--url", server.url],
            cwd=checkout,
            env=env,
            capture_output=True,
            timeout=120,
        )
        asked = sum(server.requests.values())
        return asked, server.most_in_flight, server.limited_answers, done.returncode
    finally:
        server.stop()


def _rows(label: str, checkout: Path) -> list[tuple[str, str]]:
    rows = []
    for what, command in (
        ("check --sample 1", ("check", "--sample", "1")),
        ("snapshot --format json", ("snapshot", "--format", "json")),
    ):
        asked, most, _, _ = _received(checkout, None, *command)
        _, _, refused, status = _received(checkout, 2, *command)
        rows.append(
            (
                f"{label}: {what}",
                f"{asked} requests, {most} in flight at most; against a limit of 2: "
                f"{refused} answered 503, exit {status}",
            )
        )
    return rows


def main() -> None:
    args = ARGUMENTS.parse_args()
    rows = []
    if args.against:
        rows += _rows("baseline", args.against)
    rows += _rows("this tree (max_in_flight 2)", ROOT)
    report("A polite client: one deployment's view of wa-tui", rows)


if __name__ == "__main__":
    main()
