"""What the benchmarks share: a simulator in its own process, a real pseudo-terminal of
160x50 to run programs in, and medians. Not part of the test run."""

from __future__ import annotations

import compileall
import contextlib
import dataclasses
import json
import multiprocessing
import os
import platform
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fcntl import ioctl
from multiprocessing.connection import Connection
from pathlib import Path

from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.ui.app import WaTuiApp
from wa_tui.watch import targets
from wa_tui.watch.state import Update

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# wa-tui measured as installed: `pip install` compiles a package's bytecode, so a user's
# start-up never compiles our sources. An editable checkout on a machine that sets
# PYTHONDONTWRITEBYTECODE (this one does) would compile every module on every start;
# its libraries in site-packages are compiled, so ours are too (benchmarks/README.md).
compileall.compile_dir(ROOT / "wa_tui", quiet=1)
COLUMNS, LINES = 160, 50


@dataclass
class Simulator:
    url: str
    username: str
    password: str
    process: subprocess.Popen[str]

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, WA_TUI_USERNAME=self.username, WA_TUI_PASSWORD=self.password)


@contextlib.contextmanager
def simulator(*args: str) -> Iterator[Simulator]:
    """`wa-tui simulate ARGS` in its own process (its CPU is not ours)."""
    process = subprocess.Popen(
        [PYTHON, "-m", "wa_tui", "simulate", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    printed = {}
    while len(printed) < 3:
        key, _, value = process.stdout.readline().partition(": ")
        printed[key] = value.strip()
    try:
        yield Simulator(printed["url"], printed["username"], printed["password"], process)
    finally:
        process.terminate()
        process.wait(timeout=10)


def one_node_flapping(deployment: SimDeployment) -> Iterator[str]:
    """Each step changes one shard owner's socket: UP -> SC -> UP ..."""
    node = deployment.serving_coreapps()[5]
    while True:
        with deployment.lock:
            node.socket_conn = "SC" if node.socket_conn == "UP" else "UP"
        yield node.socket_conn


def deployment(nodes: int) -> SimDeployment:
    """A 32-shard multiconnect deployment of `nodes` nodes: 2 masters, 32 owners, spares."""
    return SimDeployment.multiconnect(32, spares=nodes - 34)


def _serve(
    nodes: int, flapping: bool, live: bool, vitals: bool, step: float, connection: Connection
) -> None:
    served_deployment = deployment(nodes)
    served_deployment.serves_stats = vitals  # without: an older build, stats not read
    if live:
        served_deployment.go_live()
    story = one_node_flapping(served_deployment) if flapping else None
    with SimulatorServer(served_deployment, story=story, step_seconds=step) as server:
        connection.send((server.url, server.username, server.password))
        connection.recv()  # serve until the benchmark says it is done


@contextlib.contextmanager
def served(
    nodes: int, flapping: bool, interval: float, live: bool = False, vitals: bool = True
) -> Iterator[targets.Target]:
    """A 32-shard deployment of `nodes` nodes (one socket flapping each `interval` if
    `flapping`; every node's logs growing if `live`), served from another process: its
    CPU, and its hold on the GIL while it encodes 1,000 nodes, are not ours. The target
    polls it every `interval`."""
    ours, theirs = multiprocessing.Pipe()
    args = (nodes, flapping, live, vitals, interval, theirs)
    process = multiprocessing.Process(target=_serve, args=args, daemon=True)
    process.start()
    url, username, password = ours.recv()
    try:
        yield targets.demo(url, username, password, targets.Overrides(interval=interval))
    finally:
        ours.send(None)
        process.join(timeout=10)


@contextlib.contextmanager
def recording_live(sim: Simulator, folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`wa-tui record --dir FOLDER` of `sim` in its own process, and its file, once made;
    stopped after."""
    recorder = subprocess.Popen(
        [PYTHON, "-m", "wa_tui", "record", "--dir", str(folder), "--url", sim.url],
        env=sim.env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        path = folder / (sim.url.split("://")[1].replace(":", "_") + ".db")
        while not path.exists():
            time.sleep(0.1)
        yield recorder, path
    finally:
        recorder.terminate()
        recorder.wait(timeout=20)


@dataclass
class PtyRun:
    process: subprocess.Popen[bytes]
    fd: int
    started: float
    output: bytearray

    def read_until(self, marker: bytes, timeout: float = 20.0) -> float:
        """Seconds from process start until `marker` has been written to the terminal."""
        deadline = time.perf_counter() + timeout
        while marker not in self.output:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} never appeared")
            self.read(0.05)
        return time.perf_counter() - self.started

    def read(self, wait: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return b""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:
            return b""
        self.output += chunk
        return chunk

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.read(0.02)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far (from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")


@contextlib.contextmanager
def in_pty(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[PtyRun]:
    """Run `argv` in a real 160x50 pseudo-terminal, as a person's terminal would (from
    `cwd`: another checkout's `python -m wa_tui` runs that checkout's code)."""
    leader, follower = pty.openpty()
    ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    environment = dict(env or os.environ, TERM="xterm-256color")
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=follower, stdout=follower, stderr=follower, env=environment, cwd=cwd
    )
    os.close(follower)
    run = PtyRun(process, leader, started, bytearray())
    try:
        yield run
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        process.kill()
        os.close(leader)


def exporter_process(
    config: Path,
    env: dict[str, str],
    *options: str,
    checkout: Path = ROOT,
    command: tuple[str, ...] = ("exporter",),
) -> tuple[subprocess.Popen[str], str]:
    """`wa-tui exporter --config CONFIG OPTIONS` (or another `command` that serves the
    metrics: `record --dir D`) on a free port, in its own process (its CPU measured apart
    from ours): the process and its /metrics URL, once it listens."""
    command_line = [PYTHON, "-m", "wa_tui", *command, "--config", str(config)]
    process = subprocess.Popen(
        [*command_line, "--listen", "127.0.0.1:0", *options],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=checkout,
    )
    assert process.stdout is not None
    said = ""  # "serving /metrics and /healthz on SCHEME://HOST:PORT ..." (a recorder
    while not said.startswith("serving "):  # says first what it records where)
        said = process.stdout.readline()
        if not said:
            raise RuntimeError(f"{command_line} stopped before serving: see its stderr")
    return process, said.split(" on ")[1].split()[0] + "/metrics"


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}  ({machine()})")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


# `python -m benchmarks` (benchmarks/__main__.py) runs each benchmark with these set: the
# quick form (fewer runs, a shorter recording), and where to write its headline figures.
QUICK = os.environ.get("WA_TUI_BENCH_QUICK") == "1"
FIGURES_FILE = os.environ.get("WA_TUI_BENCH_FIGURES")


@dataclass(frozen=True)
class Figure:
    """A headline figure: what it is, its value, the floor measured in the same run, and
    its target (a ratio to the floor, or a bound of its own)."""

    what: str
    value: float
    unit: str  # "ms", "s", "%", "MB"
    floor_what: str
    floor: float | None
    target: str  # as the issue states it: "<= 1.5x", "< 1 s"
    met: bool | None  # None: a figure shown beside a target, with none of its own

    @property
    def ratio(self) -> float | None:
        return self.value / self.floor if self.floor else None


def figure(
    what: str,
    value: float,
    unit: str,
    floor: tuple[str, float | None],
    target: str,
    met: bool | None,
) -> None:
    """Keep a headline figure for the one table; written out when the benchmark ends."""
    record = Figure(what, value, unit, floor[0], floor[1], target, met)
    if FIGURES_FILE:
        with open(FIGURES_FILE, "a") as out:
            out.write(json.dumps(dataclasses.asdict(record)) + "\n")


class TimedApp(WaTuiApp):
    """The dashboard, timing how long bringing the UI to each poll's result takes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.update_seconds: list[float] = []

    def _polled(self, update: Update) -> None:
        start = time.perf_counter()
        super()._polled(update)
        self.update_seconds.append(time.perf_counter() - start)


MINIMAL_APP = """
from textual.app import App
from textual.widgets import Label

class Minimal(App):
    def compose(self):
        yield Label("", id="l")
    def on_mount(self):
        self.query_one("#l").update("READY")
    def on_key(self, event):
        self.query_one("#l").update(f"KEY-{event.key}")

Minimal().run()
"""
