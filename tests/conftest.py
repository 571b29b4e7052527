"""Shared fixtures: simulators on 127.0.0.1 over real TCP, and clients for them."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import Pki, loop_watched
from wa_tui.api.auth import Credentials
from wa_tui.api.client import WAClient
from wa_tui.core import clock
from wa_tui.model.snapshot import Snapshot
from wa_tui.simulator import SimDeployment, SimulatorServer

StartSimulator = Callable[..., SimulatorServer]
# Where a hung monkey screen's stacks go (tests/test_monkey.py): pytest holds the
# process's stderr and the process is ended, so they are shown at the end of the run.
# A folder of this run's (made by the first process, inherited by xdist's workers): two
# runs on one machine never report each other's hangs.
HANGS_VARIABLE = "WA_TUI_TEST_HANGS"


def hangs_folder() -> Path:
    return Path(os.environ[HANGS_VARIABLE])


def pytest_configure(config: pytest.Config) -> None:
    if HANGS_VARIABLE not in os.environ:
        os.environ[HANGS_VARIABLE] = tempfile.mkdtemp(prefix="wa-tui-monkey-hangs-")


@pytest.fixture
def start_simulator() -> Iterator[StartSimulator]:
    """Start simulators (stopped at the end of the test): start_simulator(deployment, ...)."""
    servers: list[SimulatorServer] = []

    def start(deployment: SimDeployment | None = None, **kwargs: object) -> SimulatorServer:
        server = SimulatorServer(deployment or SimDeployment.multiconnect(8), **kwargs)  # type: ignore[arg-type]
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


SIMULATED_START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def seconds(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Simulated time from SIMULATED_START: `seconds(n)` moves the clock the simulator
    and wa-tui share (forecasts, accounts) n seconds on."""
    now = [0.0]
    monkeypatch.setattr(clock, "monotonic", lambda: 1000.0 + now[0])
    monkeypatch.setattr(clock, "now", lambda: SIMULATED_START + timedelta(seconds=now[0]))
    monkeypatch.setattr(clock, "now_precise", lambda: SIMULATED_START + timedelta(seconds=now[0]))

    def move(count: float) -> None:
        now[0] += count

    return move


@pytest.fixture
def simulator(start_simulator: StartSimulator) -> SimulatorServer:
    """An 8-shard multiconnect deployment with two spares, no story running."""
    return start_simulator()


async def read_snapshot(client: WAClient) -> Snapshot:
    """One poll's answers read as a snapshot, in the test's own thread."""
    return (await client.fetch_answers()).read(None)


def client_for(server: SimulatorServer, **kwargs: object) -> WAClient:
    credentials = Credentials.with_password(server.username, server.password)
    return WAClient(server.url, credentials, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Config, token cache and logs of every test (and its subprocesses) in a temp dir."""
    home = tmp_path_factory.mktemp("home")
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
    ):
        monkeypatch.setenv(variable, str(home / folder))
    for variable in ("WA_TUI_CONFIG", "WA_TUI_TOKEN", "WA_TUI_USERNAME", "WA_TUI_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    return home


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A monkey screen that stopped answering ended its process (tests/test_monkey.py):
    its stacks and last actions, written down then, are shown here."""
    if hasattr(terminalreporter.config, "workerinput"):
        return  # the run's first process reports, and clears the folder
    folder = hangs_folder()
    for stacks in sorted(folder.glob("*.stacks")):
        actions = stacks.with_suffix(".actions")
        terminalreporter.section(f"the monkey's {stacks.stem} stopped answering")
        terminalreporter.write(actions.read_text() if actions.exists() else "")
        terminalreporter.write(stacks.read_text())
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def no_slow_callbacks() -> AsyncIterator[None]:
    """The test on a loop in asyncio's debug mode: a callback that holds it longer than
    0.1 s fails the test (tests/helpers.py, `loop_watched`)."""
    async with loop_watched():
        yield


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)
