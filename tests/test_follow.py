"""Attached to a recorder (#29): one `wa-tui record --dir` polls each deployment; every
viewer (`--follow`, or `recorder =` in the config) reads what it wrote, with the history
from its first frame, and asks the deployment nothing."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import io
import json
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.conftest import StartSimulator
from tests.helpers import (
    SIZE,
    WA_TUI,
    Terminal,
    configured_targets,
    event_log_text,
    record_polls,
    recorded_polls,
    recorder_config,
    recorder_env,
    run,
    said,
    screen_text,
    until,
    until_nodes,
    wait_for,
)
from wa_tui.api.answers import Answers
from wa_tui.core import clock
from wa_tui.core.freshness import STOPPED_AFTER_INTERVALS
from wa_tui.recording import codec
from wa_tui.recording.follow import LONGEST_LOOK, FollowWatcher
from wa_tui.recording.writer import Recorder
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.simulator.faults import Fault
from wa_tui.simulator.timeline import socket_flap
from wa_tui.ui.follow_app import FollowApp
from wa_tui.ui.vitals_panel import SPARK_WIDTH

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process


@contextmanager
def recorder(
    server: SimulatorServer, folder: Path, name: str, interval: float, *options: str
) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    """`wa-tui record --dir folder` of `server` as `name`, once its recording holds a
    good poll: the process, the recording and the config (which names the folder as the
    recorder of its deployments); killed at the end if it still runs."""
    config = recorder_config(folder.parent / "config.toml", {name: server}, interval)
    with config.open("a") as table:
        table.write(f'\n[defaults]\nrecorder = "{folder}"\n')
    command = [*WA_TUI, "record", "--dir", str(folder), "--config", str(config), *options]
    process = subprocess.Popen(
        command,
        env=recorder_env({name: server}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = folder / f"{name}.db"
    try:
        until(lambda: path.exists() and recorded_polls(path)[0] >= 1)
        yield process, path, config
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


class TerminalViewer(Terminal):
    """`wa-tui --follow PATH` in a terminal of its own (a pty, 120x32): what it drew is
    kept, as a person would have seen it go by."""

    def __init__(self, path: Path) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "32"}
        super().__init__([*WA_TUI, "--follow", str(path)], env)

    def quit(self) -> int:
        os.write(self.leader, b"q")
        try:
            return self.process.wait(timeout=30)
        finally:
            os.close(self.leader)


def _flapping(start_simulator: StartSimulator) -> SimulatorServer:
    """A deployment whose socket goes down, reconnects and comes back, a step at a time."""
    deployment = SimDeployment.multiconnect(8, spares=2)
    return start_simulator(deployment, story=socket_flap(deployment), step_seconds=3600)


@pytest.mark.timeout(300)  # a minute of five viewers, by design
def test_five_viewers_for_a_minute_ask_nothing_and_a_late_one_starts_with_the_history(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = _flapping(start_simulator)
    folder, interval = tmp_path / "recordings", 1.0
    with recorder(server, folder, "prod", interval) as (process, path, config):
        started = clock.now()
        for _ in range(3):  # what happens in the first seconds: a socket flaps
            polled = sum(recorded_polls(path))
            server.advance()
            until(lambda polled=polled: sum(recorded_polls(path)) >= polled + 1)
        viewers = [TerminalViewer(path) for _ in range(5)]
        try:
            until(lambda: all(viewer.showed("RECORDER") for viewer in viewers))
            asked, polls = dict(server.requests), sum(recorded_polls(path))
            until(lambda: sum(recorded_polls(path)) >= polls + 50, timeout=120)  # a minute
            # Whatever the deployment was asked in that minute, the recorder asked it.
            support = server.requests["/v1/support"] - asked["/v1/support"]
            recorded = sum(recorded_polls(path)) - polls
            assert recorded - 1 <= support <= recorded + 1, (support, recorded)
            assert server.requests["/v1/users/login"] == 1  # the recorder's, once
            _late_viewer_and_killed_recorder(path, process, config, started, interval)
            until(lambda: all(v.showed("recorder stopped") for v in viewers))
        finally:
            codes = [viewer.quit() for viewer in viewers]
    assert codes == [0] * 5


def _late_viewer_and_killed_recorder(
    path: Path, process: subprocess.Popen[str], config: Path, started: datetime, interval: float
) -> None:
    async def attach() -> None:
        watcher = FollowWatcher.attach(path)
        app = FollowApp(watcher)
        async with app.run_test(size=SIZE) as pilot:
            await until_nodes(pilot)
            # The first frame has what a watcher of its own would have gathered in a minute:
            # the change log from the first seconds, full sparklines, the events.
            oldest = watcher.changes[-1]
            assert (oldest.seen_at - started).total_seconds() < 20, oldest
            assert oldest.message[:30] in event_log_text(app)
            points = watcher.vitals.history["pending_messages"]
            assert len(points) >= SPARK_WIDTH
            assert watcher.events and (watcher.events[0].at - started).total_seconds() < 20
            assert "RECORDER" in screen_text(app) and "following the recorder" in screen_text(app)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            # Stale within three of the recorder's intervals of its last heartbeat.
            late = STOPPED_AFTER_INTERVALS * interval + LONGEST_LOOK + 2
            await wait_for(pilot, lambda: "recorder stopped" in screen_text(app), late)
            assert "STALE" in screen_text(app)
            assert watcher.snapshot is not None  # the last screen kept

    asyncio.run(attach())
    checked = run(["check", "--config", str(config)])
    assert checked.returncode == 3, checked.stdout
    assert "the recorder's last sign of life is" in checked.stdout


async def test_a_failing_deployment_keeps_its_viewers_attached_showing_the_failure(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    folder = tmp_path / "recordings"
    with recorder(server, folder, "flaky", 0.5, "--timeout", "1") as (_, path, _):
        watcher = FollowWatcher.attach(path)
        app = FollowApp(watcher)
        async with app.run_test(size=SIZE) as pilot:
            await until_nodes(pilot)
            server.faults.always = Fault.HTML_502
            failed = recorded_polls(path)[1]
            await wait_for(pilot, lambda: "✖" in screen_text(app) and "502" in screen_text(app))
            # Past three intervals of failures the recorder is alive all the same.
            await wait_for(pilot, lambda: recorded_polls(path)[1] >= failed + 3, 30)
            assert "recorder stopped" not in screen_text(app)
            assert "RECORDER" in screen_text(app) and "STALE" in screen_text(app)
            assert len(watcher.snapshot.nodes) == 12  # the last good data, kept
            server.faults.always = None
            await wait_for(pilot, lambda: "STALE" not in screen_text(app))


# -- who may read: a member of the recorder's group, who cannot write ----------------------


def _as_member(function: Callable[[], object], member: bool = True) -> object:
    """`function()` in a child process of a user who is not root (`nobody`), in the group
    `daemon` (the recorder's --group) when `member`, in no other: what it returns, or
    what it raised, as a line. Forked, so the code it runs is already loaded."""
    nobody, daemon = pwd.getpwnam("nobody"), grp.getgrnam("daemon")
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's report is the test's
        try:
            os.setgroups([daemon.gr_gid] if member else [])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            outcome: object = ["returned", function()]
        except BaseException as exc:
            outcome = ["raised", f"{type(exc).__name__}: {exc}"]
        os.write(write, json.dumps(outcome, default=str).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        said = json.loads(pipe.read() or b'["raised", "the child said nothing"]')
    os.waitpid(child, 0)
    return said


def _must_be_root() -> None:
    if os.geteuid() != 0:
        message = "permission tests switch to the user nobody: run them as root (CI does)"
        assert not os.environ.get("CI"), message
        pytest.skip(message)


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder anyone may pass through (pytest's own are root's alone), as /var/lib is."""
    folder = Path(tempfile.mkdtemp(prefix="wa-tui-team-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _viewer_sees(path: Path) -> Callable[[], object]:
    """What a viewer attached to `path` sees of it, and whether it could write there."""

    def attach() -> dict[str, object]:
        watcher = FollowWatcher.attach(path)
        asyncio.run(watcher.look())
        watcher.go(len(watcher) - 1)
        writes = []
        for attempt in (lambda: path.open("r+b"), lambda: (path.parent / "mine").touch()):
            try:
                attempt()
                writes.append("written")
            except PermissionError:
                writes.append("refused")
        assert watcher.snapshot is not None
        return {"nodes": len(watcher.snapshot.nodes), "writes": writes}

    return attach


def test_a_group_member_who_cannot_write_attaches_while_it_records_and_after(
    start_simulator: StartSimulator, shared_folder: Path
) -> None:
    _must_be_root()
    server = start_simulator()
    folder = shared_folder / "recordings"
    path = folder / "team.db"
    seen = {"nodes": 12, "writes": ["refused", "refused"]}
    with recorder(server, folder, "team", 0.3, "--group", "daemon") as (process, _, _):
        assert _as_member(_viewer_sees(path)) == ["returned", seen]  # its side files too
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # Stopped cleanly: no side file left for a viewer to need, none it could make.
    assert sorted(p.name for p in folder.iterdir()) == ["team.db"]
    assert _as_member(_viewer_sees(path)) == ["returned", seen]
    with recorder(server, folder, "team", 0.3, "--group", "daemon"):  # restarted
        polls = sum(recorded_polls(path))
        until(lambda: sum(recorded_polls(path)) >= polls + 2)
        assert _as_member(_viewer_sees(path)) == ["returned", seen]
        # Someone outside the group: one line, exit 2.
        said = _as_member(partial(_follow_exit, folder), member=False)
        assert said == [
            "returned",
            [
                2,
                f"wa-tui: --follow {folder}: Permission denied "
                "(the recorder's --group may read it)\n",
            ],
        ]


def _follow_exit(folder: Path) -> list[object]:
    """`wa-tui --follow folder`, as the command line runs it: its status and stderr."""
    from wa_tui.cli.main import main

    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        status = main(["--follow", str(folder)])
    return [status, errors.getvalue()]


# -- faults: what is no recording, a newer one, a file pruned or a recorder gone ------------


def test_what_cannot_be_followed_is_said_in_one_line(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    garbage = tmp_path / "notes.db"
    garbage.write_text("not a recording\n" * 100)
    said = run(["--follow", str(garbage)])
    assert said.returncode == 2 and said.stderr.count("\n") == 1
    assert "not a wa-tui recording" in said.stderr
    newer = tmp_path / "newer.db"
    asyncio.run(record_polls(_flapping(start_simulator), newer, steps=1))
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value = '9' WHERE key = 'format'")
    said = run(["--follow", str(newer)])
    assert said.returncode == 2 and said.stderr.count("\n") == 1
    assert "recorded in format 9 by a newer wa-tui" in said.stderr
    checked = run(["check", "--from-recording", str(newer)])
    assert checked.returncode == 3 and "upgrade wa-tui to read it" in checked.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    said = run(["--follow", str(empty)])
    assert said.returncode == 2 and "no recording (*.db) in this folder" in said.stderr


async def test_a_viewer_follows_the_recorder_pruning_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codec, "KEYFRAME_EVERY", 5)  # what stays starts at a keyframe
    deployment = SimDeployment.multiconnect(2)
    path = tmp_path / "pruned.db"
    writer = Recorder(path, "pruned", "http://127.0.0.1:1", keep_seconds=1.0, interval=0.05)

    def poll() -> None:
        at = clock.now_precise()
        support = json.dumps(deployment.support_payload()).encode()
        health = json.dumps(deployment.health_payload()).encode()
        writer.record(at, time.monotonic(), Answers(support, health, at, None, {}, 0.0), None)
        writer.beat(at)

    for _ in range(3):
        poll()
    nodes = len(deployment.support_payload()["support"])
    watcher = FollowWatcher.attach(path)
    following = asyncio.create_task(watcher.run())
    first = watcher.recording.ids[0]
    await _until_async(lambda: watcher.position == len(watcher) - 1)
    await watcher.seek(0)
    watcher.leave_live()  # back in time, on a poll the recorder is about to drop
    deadline = time.monotonic() + 30
    while watcher.recording.ids[0] == first or not watcher.following.live:
        assert time.monotonic() < deadline, "the poll on screen was never pruned"
        poll()  # the recorder goes on; its pruning drops what the viewer shows
        await asyncio.sleep(0.05)
    await _until_async(lambda: watcher.position == len(watcher) - 1)
    assert watcher.snapshot is not None and len(watcher.snapshot.nodes) == nodes
    assert watcher.status.error is None
    following.cancel()
    writer.close()


async def test_a_viewer_waits_out_a_killed_recorder_and_attaches_again_when_it_restarts(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    folder = tmp_path / "recordings"
    with recorder(server, folder, "restarted", 0.3) as (process, path, _):
        watcher = FollowWatcher.attach(path)
        following = asyncio.create_task(watcher.run())
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        await _until_async(lambda: watcher.following.stopped is not None)
        assert "recorder stopped" in str(watcher.status.error)
        shown = len(watcher)
    with recorder(server, folder, "restarted", 0.3):
        await _until_async(lambda: watcher.following.stopped is None and len(watcher) > shown)
        await _until_async(lambda: watcher.position == len(watcher) - 1)
        assert watcher.status.error is None and watcher.snapshot is not None
    following.cancel()


async def _until_async(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never came within {timeout}s: {said(condition)}"
        await asyncio.sleep(0.05)


# -- the keys: into the recording and back; what asks nothing says so -----------------------


@contextlib.asynccontextmanager
async def _following(
    server: SimulatorServer, folder: Path, name: str
) -> AsyncIterator[tuple[FollowWatcher, FollowApp, Pilot[object]]]:
    """A recorder of `server` at 0.3 s, and its viewer's dashboard showing the nodes."""
    with recorder(server, folder / "recordings", name, 0.3) as (_, path, _):
        watcher = FollowWatcher.attach(path)
        app = FollowApp(watcher)
        async with app.run_test(size=SIZE) as pilot:
            await until_nodes(pilot)
            yield watcher, app, pilot


async def test_the_keys_move_into_the_recording_and_back_and_ask_the_deployment_nothing(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    async with _following(server, tmp_path, "keys") as (watcher, app, pilot):
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: "space: back to live" in screen_text(app))
        assert "REPLAY" in screen_text(app) and not watcher.following.live
        behind = watcher.position
        await wait_for(pilot, lambda: len(watcher) > behind + 4)
        assert watcher.position == behind  # it stays where it was taken
        await pilot.press("space")
        await wait_for(pilot, lambda: watcher.position == len(watcher) - 1)
        await wait_for(pilot, lambda: "following the recorder" in screen_text(app))
        await pilot.press("p")
        await wait_for(pilot, lambda: "view paused" in screen_text(app))
        held = watcher.position
        await wait_for(pilot, lambda: len(watcher) > held + 3)
        assert watcher.position == held
        await pilot.press("p")
        await wait_for(pilot, lambda: watcher.position > held)
        asked = dict(server.requests)
        await pilot.press("r", "x")
        said = lambda: " ".join(n.message for n in app._notifications)  # noqa: E731
        await wait_for(pilot, lambda: "the recorder polls every 0.3s" in said())
        await wait_for(pilot, lambda: "secrets are never recorded" in said())
        assert server.requests.get("/v1/support", 0) - asked.get("/v1/support", 0) <= 2


async def test_each_poll_the_recorder_writes_is_drawn_once(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    """Textual calls a message handler of every class of the app that defines one: the
    follower's dashboard (three classes deep) once drew each poll three times."""
    server = start_simulator()
    async with _following(server, tmp_path, "once") as (watcher, app, pilot):
        published, drawn = [], []
        watcher.subscribe(
            lambda update: published.append(update) if update.result else None, "count"
        )
        show_poll = app.dashboard.show_poll
        app.dashboard.show_poll = lambda: drawn.append(show_poll())  # type: ignore[method-assign]
        await wait_for(pilot, lambda: len(published) >= 4)
        await wait_for(pilot, lambda: len(drawn) >= len(published))
        await pilot.pause(0.5)
        assert len(drawn) <= len(published) + 1, (len(drawn), len(published))


async def test_a_viewer_who_may_poll_polls_while_the_recorder_is_stopped_then_follows_it(
    start_simulator: StartSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder stops: a viewer with the deployment's credentials polls it itself;
    the recorder comes back: the viewer follows it again, asking the deployment nothing."""
    server = start_simulator()
    folder = tmp_path / "recordings"
    monkeypatch.setenv("PW_0", server.password)
    with recorder(server, folder, "team", 0.3) as (process, path, config):
        (target,) = configured_targets(config, "team")
        app = FollowApp(FollowWatcher.attach(path), recorded={"team": (target, path)})
        async with app.run_test(size=SIZE) as pilot:
            await until_nodes(pilot)
            assert "RECORDER" in screen_text(app)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            await wait_for(pilot, lambda: not isinstance(app.watcher, FollowWatcher), 20)
            asked = server.requests["/v1/support"]
            await wait_for(pilot, lambda: server.requests["/v1/support"] >= asked + 2)
            await wait_for(pilot, lambda: "RECORDER" not in screen_text(app))
            assert any("polling it here" in n.message for n in app._notifications)
            with recorder(server, folder, "team", 0.3):  # back
                await wait_for(pilot, lambda: isinstance(app.watcher, FollowWatcher), 20)
                await wait_for(pilot, lambda: "following the recorder" in screen_text(app))
                shown = lambda: app.watcher.snapshot and len(app.watcher.snapshot.nodes)  # noqa: E731
                await wait_for(pilot, lambda: shown() == 12)
