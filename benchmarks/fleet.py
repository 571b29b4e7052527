"""7. The fleet: 200 simulated deployments (12 nodes each), served from another process.

- `wa-tui exporter` polling all of them every 15 s: its CPU (share of a core) and how
  fresh every deployment's data is, read from its own `wa_last_poll_age_seconds`;
  against the exporter watching one deployment and against one request's CPU through
  each transport (the floor), same run.
- `wa-tui` on the fleet screen with the 200: key (down arrow) to screen in a real
  160x50 terminal, median, 90th percentile and worst of 40, against a minimal Textual
  app.

`python -m benchmarks.fleet [DEPLOYMENTS] [--against CHECKOUT]`: with `--against`, the
exporter and the fleet screen of another checkout of wa-tui (e.g. a `git worktree` of an
older commit) are measured too, in the same run, as the baseline."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.common import (
    MINIMAL_APP,
    PYTHON,
    QUICK,
    ROOT,
    PtyRun,
    exporter_process,
    figure,
    in_pty,
    process_cpu_seconds,
    report,
)
from wa_tui.simulator import SimDeployment, SimulatorServer

ARGUMENTS = argparse.ArgumentParser()
ARGUMENTS.add_argument("count", nargs="?", type=int, default=200)
ARGUMENTS.add_argument("--against", type=Path, help="another checkout, measured alike")
KEYS = 40
INTERVAL = 15.0
PASSWORD = "bench-password"
SECONDS = 20.0 if QUICK else 60.0


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


def exporter_run(
    config: Path,
    env: dict[str, str],
    seconds: float,
    checkout: Path = ROOT,
    command: tuple[str, ...] = ("exporter",),
) -> tuple[float, float]:
    """Share of a core over `seconds` (after a first interval), and the oldest data, of
    the exporter (or a recorder serving the metrics: `command`)."""
    process, metrics = exporter_process(
        config, env, "--interval", f"{INTERVAL:g}", checkout=checkout, command=command
    )
    try:
        time.sleep(INTERVAL + 5)  # every deployment polled once
        start = process_cpu_seconds(process.pid)
        time.sleep(seconds)
        share = (process_cpu_seconds(process.pid) - start) / seconds
        with urllib.request.urlopen(metrics, timeout=10) as answer:
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


def request_floor(url: str, aiohttp_transport: bool) -> float:
    """CPU of one request to a deployment, as the client makes it over that transport."""
    from wa_tui.api.auth import Credentials
    from wa_tui.api.client import WAClient

    credentials = Credentials.with_password("admin", PASSWORD)

    async def measure() -> float:
        async with WAClient(url, credentials, aiohttp_transport=aiohttp_transport) as client:
            await client.get_body("/v1/health")
            start = time.process_time()
            for _ in range(100):
                await client.get_body("/v1/health")
            return (time.process_time() - start) / 100

    return asyncio.run(measure())


def key_latencies(run: PtyRun) -> list[float]:
    latencies = []
    for index in range(KEYS):
        run.drain(0.3)
        before = len(run.output)
        start = time.perf_counter()
        run.write(b"\x1b[B" if index % 4 < 2 else b"\x1b[A")
        while len(run.output) == before:
            run.read(0.005)
        latencies.append(time.perf_counter() - start)
    return latencies


def fleet_keys(config: Path, env: dict[str, str], checkout: Path = ROOT) -> list[float]:
    with in_pty([PYTHON, "-m", "wa_tui", "--config", str(config)], env, cwd=checkout) as run:
        run.read_until(b"FLEET")
        run.drain(INTERVAL + 5)  # every deployment read once
        return key_latencies(run)


def _keys_row(label: str, latencies: list[float]) -> tuple[str, str]:
    ordered = sorted(latencies)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"{label}, key to screen: median / p90 / worst of {len(latencies)}",
        f"{statistics.median(ordered) * 1000:.1f} / {p90 * 1000:.1f} / {ordered[-1] * 1000:.1f} ms",
    )


def main() -> None:
    args = ARGUMENTS.parse_args()
    count = args.count
    ours, theirs = multiprocessing.Pipe()
    host = multiprocessing.Process(target=_serve, args=(count, theirs), daemon=True)
    host.start()
    urls = ours.recv()
    env = dict(os.environ, BENCH_PW=PASSWORD)
    rows: list[tuple[str, str]] = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "one").mkdir()
            (Path(directory) / "all").mkdir()
            one = _config(urls[:1], Path(directory) / "one")
            every = _config(urls, Path(directory) / "all")
            per_second = count * (4 / INTERVAL + 1 / 60)  # requests; db stats each minute
            transports = (("httpx's", False), ("aiohttp's (the exporter's)", True))
            for name, aiohttp_transport in transports:
                cpu = request_floor(urls[0], aiohttp_transport)
                floor_share = cpu * per_second * 100  # the last: the exporter's transport
                rows.append(
                    (
                        f"floor: one request through {name} transport; {count} deployments' alone",
                        f"{cpu * 1000:.2f} ms of CPU; {cpu * per_second:.2%} of a core",
                    )
                )
            single_share, _ = exporter_run(one, env, SECONDS / 2)
            rows.append(("exporter watching one deployment", f"{single_share:.2%} of a core"))
            if args.against:
                share, _ = exporter_run(every, env, SECONDS, args.against)
                rows.append((f"baseline exporter watching {count}", f"{share:.2%} of a core"))
            share, oldest = exporter_run(every, env, SECONDS)
            rows.append((f"exporter watching {count} (target <= 7%)", f"{share:.2%} of a core"))
            figure(
                f"exporter, {count} deployments of 12 nodes at {INTERVAL:g} s",
                share * 100,
                "%",
                ("their requests alone through aiohttp", floor_share),
                "<= 7%",
                share <= 0.07,
            )
            rows.append((f"oldest data exported (target < {2 * INTERVAL:g} s)", f"{oldest:.1f} s"))
            with in_pty([PYTHON, "-c", MINIMAL_APP]) as run:
                run.read_until(b"READY")
                rows.append(_keys_row("minimal Textual app", _minimal_keys(run)))
            if args.against:
                baseline = fleet_keys(every, env, args.against)
                rows.append(_keys_row("baseline fleet screen", baseline))
            rows.append(_keys_row("fleet screen (target < 50 ms)", fleet_keys(every, env)))
    finally:
        ours.send(None)
        host.join(timeout=60)
    report(f"The fleet: {count} deployments of 12 nodes, polled every {INTERVAL:g} s", rows)


def _minimal_keys(run: PtyRun) -> list[float]:
    latencies = []
    for key in b"ab" * (KEYS // 2):
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
