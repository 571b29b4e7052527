"""7. The fleet: 200 simulated deployments (12 nodes each), served from another process.

- `wa-tui exporter` polling all of them every 15 s: its CPU (share of a core) and how
  fresh every deployment's data is, read from its own `wa_last_poll_age_seconds`;
  against the exporter watching one deployment, same run.
- `wa-tui` on the fleet screen with the 200: key (down arrow) to screen in a real
  160x50 terminal, median and worst of 20, against a minimal Textual app.

`python -m benchmarks.fleet [DEPLOYMENTS]`."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.common import MINIMAL_APP, PYTHON, ROOT, PtyRun, in_pty, report
from wa_tui.simulator import SimDeployment, SimulatorServer

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200
INTERVAL = 15.0
PASSWORD = "bench-password"
SECONDS = 60.0


def _serve(count: int, connection: Connection) -> None:
    servers = [
        SimulatorServer(SimDeployment.multiconnect(8, spares=2), password=PASSWORD).start()
        for _ in range(count)
    ]
    connection.send([server.url for server in servers])
    connection.recv()
    for server in servers:
        server.stop()


def _config(urls: list[str], directory: Path) -> Path:
    lines = ['[defaults]\nusername = "admin"\npassword_env = "BENCH_PW"\n']
    lines += [f'[deployments.d{i:03}]\nurl = "{url}"\n' for i, url in enumerate(urls)]
    path = directory / "fleet.toml"
    path.write_text("\n".join(lines))
    return path


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exporter_run(config: Path, env: dict[str, str], seconds: float) -> tuple[float, float]:
    """Share of a core over `seconds` (after a first interval), and the oldest data."""
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "wa_tui",
            "exporter",
            "--config",
            str(config),
            "--listen",
            "127.0.0.1:0",
            "--interval",
            f"{INTERVAL:g}",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().split("http://")[1].split()[0]
        time.sleep(INTERVAL + 5)  # every deployment polled once
        start = _cpu(process.pid)
        time.sleep(seconds)
        share = (_cpu(process.pid) - start) / seconds
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        ages = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("wa_last_poll_age_seconds{")
        ]
        return share, max(ages) if ages else float("inf")
    finally:
        process.terminate()
        process.wait(timeout=20)


def request_floor(url: str) -> float:
    """CPU of one request to a deployment through httpx, as the client makes it."""
    from wa_tui.auth import Credentials
    from wa_tui.client import WAClient

    async def measure() -> float:
        async with WAClient(url, Credentials.with_password("admin", PASSWORD)) as client:
            await client.get_body("/v1/health")
            start = time.process_time()
            for _ in range(100):
                await client.get_body("/v1/health")
            return (time.process_time() - start) / 100

    return asyncio.run(measure())


def key_latencies(run: PtyRun) -> list[float]:
    latencies = []
    for index in range(20):
        run.drain(0.3)
        before = len(run.output)
        start = time.perf_counter()
        run.write(b"\x1b[B" if index % 4 < 2 else b"\x1b[A")
        while len(run.output) == before:
            run.read(0.005)
        latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    ours, theirs = multiprocessing.Pipe()
    host = multiprocessing.Process(target=_serve, args=(COUNT, theirs), daemon=True)
    host.start()
    urls = ours.recv()
    env = dict(os.environ, BENCH_PW=PASSWORD)
    try:
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "one").mkdir()
            (Path(directory) / "all").mkdir()
            one = _config(urls[:1], Path(directory) / "one")
            every = _config(urls, Path(directory) / "all")
            per_request = request_floor(urls[0])
            single_share, _ = exporter_run(one, env, SECONDS / 2)
            share, oldest = exporter_run(every, env, SECONDS)
            with in_pty([PYTHON, "-c", MINIMAL_APP]) as run:
                run.read_until(b"READY")
                baseline = statistics.median(_minimal_keys(run))
            with in_pty([PYTHON, "-m", "wa_tui", "--config", str(every)], env) as run:
                run.read_until(b"FLEET")
                run.drain(INTERVAL + 5)  # every deployment read once
                latencies = key_latencies(run)
    finally:
        ours.send(None)
        host.join(timeout=60)
    report(
        f"The fleet: {COUNT} deployments of 12 nodes, polled every {INTERVAL:g} s",
        [
            ("floor: one request through httpx", f"{per_request * 1000:.2f} ms of CPU"),
            (
                f"floor: {COUNT} deployments' requests alone (4 a poll, db stats every minute)",
                f"{per_request * COUNT * (4 / INTERVAL + 1 / 60):.2%} of a core",
            ),
            ("exporter watching one deployment", f"{single_share:.2%} of a core"),
            (f"exporter watching {COUNT} (target < 10%)", f"{share:.2%} of a core"),
            (f"oldest data exported (target < {2 * INTERVAL:g} s)", f"{oldest:.1f} s"),
            ("minimal Textual app, key to screen", f"{baseline * 1000:.1f} ms"),
            (
                "fleet screen, key to screen, median (target < 50 ms)",
                f"{statistics.median(latencies) * 1000:.1f} ms",
            ),
            ("fleet screen, key to screen, worst of 20", f"{max(latencies) * 1000:.1f} ms"),
        ],
    )


def _minimal_keys(run: PtyRun) -> list[float]:
    latencies = []
    for key in b"abababababababababab":
        run.drain(0.1)
        before = len(run.output)
        start = time.perf_counter()
        run.write(bytes([key]))
        while len(run.output) == before:
            run.read(0.005)
        latencies.append(time.perf_counter() - start)
    return latencies


if __name__ == "__main__":
    main()
