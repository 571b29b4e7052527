"""A follower's first frame: the recorder's newest poll as it stored it (parsed and
judged), drawn before the parser, the analysis or the config load, then the follower
made and put in its place; a recording without one is read the long way."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import Terminal, screen_text, until, wait_for
from wa_tui.api.answers import Answers
from wa_tui.core import clock
from wa_tui.recording.first_frame import FirstFrame, first_frame
from wa_tui.recording.follow import FollowWatcher
from wa_tui.recording.writer import Recorder
from wa_tui.simulator import SimDeployment
from wa_tui.ui.follow_app import FollowApp

# What a first frame is drawn without (#35 item 4): pydantic, the API's models, the
# analysis, the config's models, the watcher that polls.
NOT_BEFORE_THE_FIRST_FRAME = (
    "pydantic",
    "wa_tui.api.models",
    "wa_tui.analysis",
    "wa_tui.config",
    "wa_tui.watch.watcher",
)

# Run in a terminal of its own: at the first frame that shows nodes, which source the
# dashboard draws and which of the modules above are loaded, written to a file.
DRIVER = """
import json, sys
from wa_tui.ui import dashboard_screen

shown, seen = dashboard_screen.DashboardScreen.show_poll, []

def show_poll(self):
    shown(self)
    if not seen and self.watcher.snapshot is not None:
        seen.append(True)
        loaded = [m for m in json.loads(sys.argv[3]) if m in sys.modules]
        found = {"source": type(self.watcher).__name__, "loaded": loaded}
        with open(sys.argv[2], "w") as out:
            json.dump(found, out)

dashboard_screen.DashboardScreen.show_poll = show_poll
from wa_tui.cli.main import main

sys.exit(main(["--follow", sys.argv[1]]))
"""


def _plain(terminal: Terminal) -> str:
    """What the terminal was sent, its escape sequences left out."""
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", terminal.drawn.decode(errors="replace"))


def _recording(path: Path, deployment: SimDeployment, polls: int = 4) -> Recorder:
    """A recorder's file of `deployment`, its heartbeat fresh; the recorder, still open."""
    recorder = Recorder(path, "payments", "http://127.0.0.1:1", interval=5.0)
    for _ in range(polls):
        at = clock.now_precise()
        support = json.dumps(deployment.support_payload()).encode()
        health = json.dumps(deployment.health_payload()).encode()
        recorder.record(at, time.monotonic(), Answers(support, health, at, None, {}, 0.0), None)
    recorder.beat(clock.now())
    return recorder


@pytest.mark.slow
def test_the_first_frame_is_the_recorders_poll_drawn_before_the_parser_or_analysis_load(
    tmp_path: Path,
) -> None:
    deployment = SimDeployment.multiconnect(4)
    owner = next(n for n in deployment.nodes.values() if n.role == "coreapp" and n.shards)
    owner.disconnect()  # a finding the recorder judged
    path = tmp_path / "payments.db"
    _recording(path, deployment).close()
    found = tmp_path / "first-frame.json"
    modules = json.dumps(NOT_BEFORE_THE_FIRST_FRAME)
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm-256color", COLUMNS="160", LINES="50")
    command = [sys.executable, "-c", DRIVER, str(path), str(found), modules]
    terminal = Terminal(command, env, size=(160, 50))
    try:
        until(found.exists)
        first = json.loads(found.read_text())
        assert first == {"source": "FirstFrame", "loaded": []}
        until(lambda: "★ primary" in _plain(terminal) and "SOCKET_DOWN" in _plain(terminal))
        # The follower came, and read the poll whole: its vitals pane waits no more on
        # the history, but on stats (this recorder recorded none).
        until(lambda: "Waiting for the stats" in _plain(terminal))
        os.write(terminal.leader, b"q")
        until(lambda: terminal.process.poll() is not None)
    finally:
        status = terminal.close()
    assert status == 0


async def test_keys_wait_for_the_follower_and_nothing_breaks_meanwhile(tmp_path: Path) -> None:
    """Keys in one burst while the first frame is up (slow SSH): the commands on the
    deployment do nothing until its follower is there, moving in the list works, and
    the follower takes over where the cursor is."""
    deployment = SimDeployment.multiconnect(4)
    path = tmp_path / "payments.db"
    recorder = _recording(path, deployment)
    frame = first_frame(path)
    assert frame is not None
    released = threading.Event()

    def attach() -> FollowWatcher:  # the parser, the analysis and a day of history, slow
        released.wait(timeout=30)
        return FollowWatcher.attach(path)

    app = FollowApp(first=frame, attach=attach)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: "★ primary" in screen_text(app))
        await wait_for(pilot, lambda: "reading its history" in screen_text(app))
        await pilot.press("j", "j", "r", "p", "l", "x", "b", "y", "[", "t", "i", "s", "F")
        await pilot.pause(0.2)
        assert isinstance(app.dashboard.watcher, FirstFrame)
        assert app.screen is app.dashboard  # nothing opened on it
        said = [n.message for n in app._notifications]
        assert said.count("reading the recorder's history: done as soon as it is read") == 2
        cursor = app.dashboard.selected_node
        assert cursor is not None and cursor.id == frame.snapshot.nodes[2].id
        released.set()
        await wait_for(pilot, lambda: isinstance(app.dashboard.watcher, FollowWatcher))
        await wait_for(pilot, lambda: "following the recorder" in screen_text(app))
        selected = app.dashboard.selected_node
        assert selected is not None and selected.id == cursor.id
        assert "reading its history" not in screen_text(app)
        said = lambda: " ".join(n.message for n in app._notifications)  # noqa: E731
        await wait_for(pilot, lambda: "bundle written" in said())  # `b`, done once it came
        assert "no logs_command for this deployment" in said()  # `l`, too
    recorder.close()


def test_a_recording_without_a_stored_first_frame_is_read_the_long_way(tmp_path: Path) -> None:
    """An older recorder's file (no `newest`), or a document that does not parse: no
    first frame; the follower reads the poll whole and says what it cannot read."""
    path, deployment = tmp_path / "payments.db", SimDeployment.multiconnect(2)
    nodes = len(deployment.nodes)
    _recording(path, deployment).close()
    assert first_frame(path) is not None
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE newest SET body = ?", (b"not zlib",))
        db.commit()
    assert first_frame(path) is None
    with closing(sqlite3.connect(path)) as db:
        db.execute("DROP TABLE newest")
        db.commit()
    assert first_frame(path) is None
    watcher = FollowWatcher.attach(path)
    watcher.read_ahead()

    async def shown() -> None:
        running = asyncio.create_task(watcher.run())
        deadline = time.monotonic() + 30
        while watcher.snapshot is None:
            assert time.monotonic() < deadline, "the newest poll was never read"
            await asyncio.sleep(0.05)
        running.cancel()

    asyncio.run(shown())
    assert watcher.snapshot is not None and len(watcher.snapshot.nodes) == nodes


async def test_quitting_before_the_follower_comes_leaves_nothing_running(tmp_path: Path) -> None:
    """`q` on the first frame: the app ends at once; the follower made afterwards in its
    thread is never started."""
    path = tmp_path / "payments.db"
    _recording(path, SimDeployment.multiconnect(2)).close()
    frame = first_frame(path)
    assert frame is not None
    released, made = threading.Event(), []

    def attach() -> FollowWatcher:
        released.wait(timeout=30)
        made.append(FollowWatcher.attach(path))
        return made[-1]

    app = FollowApp(first=frame, attach=attach)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "reading its history" in screen_text(app))
        await pilot.press("q")
    assert app.return_code == 0
    released.set()
    deadline = time.monotonic() + 15
    while not made:
        assert time.monotonic() < deadline, "the follower was never made"
        await asyncio.sleep(0.05)
    assert not app.watchers and made[0].position == -1  # never watched


def test_a_config_that_cannot_be_read_ends_the_follower_with_one_line(tmp_path: Path) -> None:
    """The config is read whole only after the first frame (its `[keys]` before): a
    mistake in it then ends the dashboard as it would have before it started: exit 2,
    one line naming the file and the key, no traceback."""
    path = tmp_path / "payments.db"
    _recording(path, SimDeployment.multiconnect(2)).close()
    config = tmp_path / "config.toml"
    config.write_text("[deployments.payments]\nurl = 5\n")
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="32")
    command = [sys.executable, "-m", "wa_tui", "--config", str(config), "--follow", str(path)]
    terminal = Terminal(command, env)
    try:
        until(lambda: terminal.process.poll() is not None)
    finally:
        status = terminal.close()
    said = _plain(terminal)
    assert status == 2
    assert f"wa-tui: {config}: 'deployments.payments.url': input should be a valid string" in said
    assert "Traceback" not in said
