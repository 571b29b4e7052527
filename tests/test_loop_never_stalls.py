"""Nothing a command waits for runs on an event loop: a `password_command` that takes its
time holds up neither the other deployments of the exporter's loop nor the dashboard's
keys, at start, as a second deployment, or when a revoked token sends it to log in again.

The password command here waits for a file the test writes (a gate): it is running for as
long as the test needs, whatever the machine's speed, and the test waits on conditions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import StartSimulator
from tests.helpers import (
    SIZE,
    http_get,
    loop_watched,
    plain,
    target_for,
    until_nodes,
    wait_for,
)
from wa_tui.api.auth import Credentials, TokenCache, password_from_command
from wa_tui.outputs.exporter import Exporter
from wa_tui.simulator import SimulatorServer
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.help_screen import HelpScreen
from wa_tui.ui.status_bar import StatusBar
from wa_tui.watch.targets import Target

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process


@pytest.fixture(autouse=True)
async def _debug_from_the_start() -> AsyncIterator[None]:
    """asyncio's debug mode from the loop's start (loop_watched only listens then):
    switched on mid-test, a TLS handshake begun before it ends in a TypeError inside
    asyncio, which takes a handshake's start time only in debug mode (1 run in 10)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    yield
    loop.set_debug(False)


class Gate:
    """A password command that says it started, then waits until the gate opens (or
    GIVE_UP_SECONDS pass: a loop it blocked then fails the test, never hangs it)."""

    GIVE_UP_SECONDS = 10

    def __init__(self, folder: Path, password: str) -> None:
        self.started, self.open_file = folder / "started", folder / "open"
        tries = self.GIVE_UP_SECONDS * 20
        self.command = (
            f"sh -c 'touch {self.started}; i=0; while [ ! -e {self.open_file} ] "
            f"&& [ $i -lt {tries} ]; do sleep 0.05; i=$((i+1)); done; printf %s {password}'"
        )

    def open(self) -> None:
        self.open_file.touch()

    def close(self) -> None:
        self.open_file.unlink(missing_ok=True)
        self.started.unlink(missing_ok=True)

    def target(self, server: SimulatorServer, name: str, **kwargs: object) -> Target:
        plain_target = target_for(server, 0.3, name)
        credentials = Credentials(server.username, password_from_command(self.command))
        return Target(
            name,
            server.url,
            credentials,
            plain_target.settings,
            True,
            **kwargs,  # type: ignore[arg-type]
        )


async def _until(condition: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_the_exporter_polls_the_others_while_one_logs_in(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    slow_server, fast_server = start_simulator(), start_simulator()
    gate = Gate(tmp_path, slow_server.password)
    targets = [
        gate.target(slow_server, "slow"),
        target_for(fast_server, 0.3, "fast-a"),
        target_for(fast_server, 0.3, "fast-b"),
    ]
    exporter = Exporter(targets)
    slow, *fast = exporter.watchers
    ready = asyncio.Event()
    serving = asyncio.create_task(exporter.serve("127.0.0.1", 0, ready))
    try:
        await ready.wait()
        await _until(gate.started.exists)
        async with loop_watched():
            polls = [w.poller.polls for w in fast]
            await _until(
                lambda: all(w.poller.polls >= p + 3 for w, p in zip(fast, polls, strict=True))
            )
            metrics = await asyncio.to_thread(http_get, f"http://127.0.0.1:{exporter.port}/metrics")
            assert 'wa_up{deployment="fast-a"} 1.0' in metrics
            assert slow.snapshot is None and gate.started.exists()  # still logging in
        gate.open()
        await _until(lambda: slow.snapshot is not None)
    finally:
        serving.cancel()


async def test_the_dashboard_answers_while_its_deployment_logs_in(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    gate = Gate(tmp_path, server.password)
    app = WaTuiApp([gate.target(server, "gated")])
    async with app.run_test(size=SIZE) as pilot:
        await _until(gate.started.exists)
        await _answers_while_logging_in(pilot, app, gate)
        gate.open()
        await until_nodes(pilot)


async def test_a_second_deployment_logging_in_holds_up_neither_the_first_nor_the_keys(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    first, second = start_simulator(), start_simulator()
    gate = Gate(tmp_path, second.password)
    app = WaTuiApp([target_for(first, 0.3, "first"), gate.target(second, "second")])
    async with app.run_test(size=SIZE) as pilot:
        await _until(gate.started.exists)
        await pilot.press("escape")  # the fleet, the start screen of several
        await until_nodes(pilot)
        async with loop_watched():
            polls = app.watcher.poller.polls
            await wait_for(pilot, lambda: app.watcher.poller.polls >= polls + 2)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.watchers["second"].snapshot is None
        gate.open()
        await wait_for(pilot, lambda: app.watchers["second"].snapshot is not None)


async def test_logging_in_again_after_a_revoked_token_holds_up_nothing(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    gate = Gate(tmp_path, server.password)
    gate.open()
    cache = TokenCache(tmp_path / "tokens.json")
    app = WaTuiApp([gate.target(server, "revoked", token_cache=cache)])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        assert cache.get(server.url, server.username) is not None
        gate.close()
        server.revoke_all_tokens()  # what the simulator's `revoked` fault does
        await _until(gate.started.exists)
        await _answers_while_logging_in(pilot, app, gate)
        logins = server.logins
        gate.open()
        await wait_for(pilot, lambda: server.logins == logins + 1)
        await wait_for(pilot, lambda: "STALE" not in _status(app))


async def _answers_while_logging_in(pilot: Pilot, app: WaTuiApp, gate: Gate) -> None:
    """The status line says what the login waits for, on a loop that never stalls; then
    `?` opens the help while the login still waits. (Opening the help is itself ~0.1 s of
    Textual's composing in asyncio's debug mode: watched apart, it would be the stall.)"""
    async with loop_watched():
        await wait_for(pilot, lambda: "waiting for password_command" in _status(app))
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
    assert not gate.open_file.exists()  # answered while the login waited
    await pilot.press("escape")


def _status(app: WaTuiApp) -> str:
    return plain(app.screen_stack[0].query_one(StatusBar))
