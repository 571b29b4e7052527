"""The monkey: an impatient person at every screen, seeded, so a failure replays.

Random keys (the screen's own bindings and printable ones, often several in one read),
clicks, drags followed by ctrl+c, the wheel, and resizes from 60x18 to 250x70, against
deployments that change meanwhile (the demo's story) and hostile ones (markup, escapes,
odd shapes, faults). Any exception ends the test with the seed and the last actions.

Bounded: at least MIN_ACTIONS a screen, one test a screen (pytest-xdist runs them side
by side: about 45 s of the default run). WA_TUI_MONKEY_SECONDS runs it longer (shared
by the screens), WA_TUI_MONKEY_SEED replays a seed. A screen that stops answering ends
its process after HUNG_AFTER; its stacks and last actions are printed at the end of the
run (under pytest-xdist) and kept in the run's own folder (tests/conftest.py).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import random
import string
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual import events
from textual.app import App, ScreenStackError
from textual.geometry import Size
from textual.pilot import Pilot

from tests.conftest import StartSimulator, hangs_folder
from tests.helpers import (
    hostile_deployment,
    post_clicks,
    post_key,
    post_mouse,
    record_polls,
    target_for,
    toggled_panes,
)
from wa_tui import keys
from wa_tui.api.auth import Credentials
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
from wa_tui.simulator.faults import Fault, FaultPlan
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.dashboard_screen import panes_by_id
from wa_tui.ui.replay_app import ReplayApp
from wa_tui.watch.targets import Target

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

SECONDS = float(os.environ.get("WA_TUI_MONKEY_SECONDS", "45"))
SEED = int(os.environ.get("WA_TUI_MONKEY_SEED", str(time.time_ns() % 1_000_000)))
MIN_ACTIONS = 200
HUNG_AFTER = 240.0  # seconds past a screen's share of SECONDS
SIZES = ((60, 250), (18, 70))
# Faults that answer quickly: a hanging or huge answer only makes the monkey wait.
QUICK_FAULTS = tuple(f for f in Fault if f not in (Fault.HANG, Fault.HUGE, Fault.DRIP))
# Keys anybody presses, whatever the screen says.
COMMON_KEYS = (
    *("enter", "escape", "tab", "shift+tab", "up", "down", "left", "right"),
    *("pageup", "pagedown", "home", "end", "space", "backspace", "ctrl+p", "ctrl+c"),
)
# Keys that leave the terminal or the process, not the app: never pressed.
NEVER = {"ctrl+z", "ctrl+backslash"}
# Quitting restarts the app (a second): seldom, so the screens get their actions.
QUIT_KEYS = {"q", "ctrl+q"}


@dataclass
class Scene:
    """A screen to be monkeyed: how to make its app, and the keys that reach it."""

    name: str
    make: Callable[[], App[object]]
    size: tuple[int, int]
    reach: tuple[str, ...] = ()


class Monkey:
    def __init__(self, scene: str, hang_note: Path) -> None:
        # Each screen its own sequence, from the seed and its name: one fails, it
        # replays alone (WA_TUI_MONKEY_SEED=... pytest tests/test_monkey.py -k NAME).
        self.rng = random.Random(f"{SEED} {scene}")
        self.scene = scene
        self.hang_note = hang_note  # the last actions, kept for a hang's report
        self.actions: deque[str] = deque(maxlen=25)
        self.count = 0

    def keys(self, app: App[object]) -> list[str]:
        bound = [key for key in app.active_bindings if key not in NEVER | QUIT_KEYS]
        printable = string.ascii_letters.replace("q", "") + string.digits + "/?[]{}+-"
        pool = bound + list(COMMON_KEYS) + list(printable)
        keys = [self.rng.choice(pool) for _ in range(self.rng.choice((1, 1, 1, 2, 3, 5, 20)))]
        if self.rng.random() < 0.02:
            keys.insert(self.rng.randrange(len(keys) + 1), self.rng.choice(sorted(QUIT_KEYS)))
        return keys

    def point(self, app: App[object]) -> tuple[int, int]:
        width, height = app.size
        return self.rng.randrange(max(width, 1)), self.rng.randrange(max(height, 1))

    async def act(self, pilot: Pilot[object]) -> None:
        app = pilot.app
        kinds, weights = ("keys", "click", "drag", "wheel", "resize"), (60, 15, 10, 10, 5)
        kind = self.rng.choices(kinds, weights)[0]
        if kind == "keys":
            keys = self.keys(app)
            self.note(f"keys {' '.join(keys)}")
            for key in keys:
                post_key(app, key)
        elif kind == "click":
            x, y = self.point(app)
            self.note(f"click {x},{y} x{(times := self.rng.choice((1, 1, 2)))}")
            post_clicks(app, x, y, times)
        elif kind == "drag":
            (x, y), (x2, y2) = self.point(app), self.point(app)
            self.note(f"drag {x},{y} -> {x2},{y2}, ctrl+c")
            post_mouse(app, events.MouseDown, x, y)
            post_mouse(app, events.MouseMove, (x + x2) // 2, (y + y2) // 2)
            post_mouse(app, events.MouseMove, x2, y2)
            post_mouse(app, events.MouseUp, x2, y2)
            post_key(app, "ctrl+c")
        elif kind == "wheel":
            x, y = self.point(app)
            up = self.rng.random() < 0.5
            self.note(f"wheel {'up' if up else 'down'} at {x},{y}")
            for _ in range(self.rng.randint(1, 6)):
                post_mouse(app, events.MouseScrollUp if up else events.MouseScrollDown, x, y)
        else:
            size = Size(*(self.rng.randint(low, high) for low, high in SIZES))
            self.note(f"resize {size.width}x{size.height}")
            app.post_message(events.Resize(size, size))  # as the driver does on SIGWINCH
        self.count += 1
        if self.count % 6:
            return  # six actions' events queued at once: a busy person, a slow link
        self.hang_note.write_text(self.last_words())
        # The screen's messages handled, then a moment: not Pilot's wait for an idle CPU,
        # which the deployments' own threads keep from coming.
        try:
            await pilot.pause(0.005)
        except ScreenStackError:
            if app.return_code is None:  # not quitting: the app lost its screens
                raise

    def note(self, action: str) -> None:
        self.actions.append(action)

    def last_words(self) -> str:
        """How to replay this screen and its last actions."""
        last = "\n  ".join(self.actions)
        return (
            f"replay with WA_TUI_MONKEY_SEED={SEED} pytest tests/test_monkey.py -n 0 "
            f"-k {self.scene!r}; the last actions:\n  {last}\n"
        )


class Errors(logging.Handler):
    """Exceptions wa-tui caught and logged (a consumer's, a poll's): the monkey counts
    them as failures too."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The simulators' servers log the faults they inject (a reset connection): not ours.
        if record.exc_info and record.name.startswith("wa_tui"):
            self.records.append(record)


def _children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.add(int(entry.name))
    return found


def _pane_scene(pane_id: str, make: Callable[[], App[object]]) -> Scene:
    key = keys.BY_ID[panes_by_id()[pane_id].key or ""]
    return Scene(pane_id, make, (80, 24), (keys.split_keys(key.keys)[0],))


SCENES = (
    "dashboard, wide",
    "dashboard, narrow",
    "detail",
    *toggled_panes(),
    "fleet",
    "replay",
    "help",
    "palette",
    "switcher",
    "login",
    "webhook",
    "logs",
    "incident",
)


@pytest.fixture
async def scenes(start_simulator: StartSimulator, tmp_path: Path) -> dict[str, Scene]:
    deployment = SimDeployment.multiconnect(8, spares=2).go_live()
    story = start_simulator(deployment, story=demo_story(deployment), step_seconds=0.3)
    faults = FaultPlan(rate=0.3, choices=QUICK_FAULTS, latency=0.2, seed=SEED)
    hostile = start_simulator(hostile_deployment(), faults=faults)
    recorded = SimDeployment.multiconnect(8, spares=2)
    server = start_simulator(recorded, story=demo_story(recorded), step_seconds=3600)
    await record_polls(server, tmp_path / "monkey.db", steps=6)
    return {scene.name: scene for scene in _scenes(story, hostile, tmp_path)}


def _scenes(story: SimulatorServer, hostile: SimulatorServer, tmp_path: Path) -> list[Scene]:
    def live() -> list[Target]:
        return [
            target_for(story, 0.5, "story", timeout=2),
            target_for(hostile, 0.5, "hostile[b]x", timeout=2),
        ]

    def dashboard() -> WaTuiApp:
        return WaTuiApp(live()[:1])

    def hostile_only() -> WaTuiApp:
        return WaTuiApp(live()[1:])

    def login() -> WaTuiApp:
        target = live()[0]
        asks = Credentials(username="admin")  # no password source: the login prompt
        return WaTuiApp([Target(target.name, target.url, asks, target.settings, verify=True)])

    def with_logs() -> WaTuiApp:
        """The story's deployment, each node's log a shell loop (ERROR lines, escapes)."""
        target = live()[0]
        loop = (
            'i=0; while :; do printf "%s line %d \\033[31mERROR\\033[0m token=x\\n" '
            "{container} $i; i=$((i+1)); sleep 0.01; done"
        )
        settings = target.settings.model_copy(update={"logs_command": ["sh", "-c", loop]})
        return WaTuiApp([Target(target.name, target.url, target.credentials, settings, True)])

    recording = tmp_path / "monkey.db"

    def replay() -> ReplayApp:
        return ReplayApp(ReplayWatcher.open(recording))

    return [
        Scene("dashboard, wide", dashboard, (160, 50)),
        Scene("dashboard, narrow", hostile_only, (80, 24)),
        Scene("detail", dashboard, (120, 32), ("enter",)),
        *(_pane_scene(pane, dashboard) for pane in toggled_panes()),
        Scene("fleet", lambda: WaTuiApp(live()), (120, 32)),
        Scene("replay", replay, (160, 50)),
        Scene("help", dashboard, (120, 32), ("question_mark",)),
        Scene("palette", dashboard, (120, 32), ("ctrl+p",)),
        Scene("switcher", lambda: WaTuiApp(live()), (160, 50), ("escape", "s")),
        Scene("login", login, (100, 30)),
        Scene("webhook", dashboard, (120, 32), ("W",)),
        Scene("logs", with_logs, (160, 50), ("l",)),
        Scene("incident", replay, (120, 32), ("i",)),
    ]


@pytest.mark.parametrize("name", SCENES)
async def test_the_monkey_crashes_nothing(name: str, scenes: dict[str, Scene]) -> None:
    before = _children()
    errors = Errors()
    logging.getLogger().addHandler(errors)
    stacks = hangs_folder() / f"{name}-{os.getpid()}.stacks"
    monkey = Monkey(name, stacks.with_suffix(".actions"))
    began = time.monotonic()
    # A screen that stops answering is a failure too, not a run that waits for ever:
    # every thread's stack written down, and this process ended (its test fails).
    with stacks.open("w") as dump:
        faulthandler.dump_traceback_later(HUNG_AFTER + SECONDS / len(SCENES), exit=True, file=dump)
        try:
            done = await _monkey_scene(monkey, scenes[name], SECONDS / len(SCENES), errors)
        finally:
            faulthandler.cancel_dump_traceback_later()
            logging.getLogger().removeHandler(errors)
    stacks.unlink()
    monkey.hang_note.unlink(missing_ok=True)
    print(f"{name}: {done} actions in {time.monotonic() - began:.1f} s")
    assert done >= MIN_ACTIONS
    assert _children() <= before, "a child process was left behind"


async def _monkey_scene(monkey: Monkey, scene: Scene, seconds: float, errors: Errors) -> int:
    """Actions on `scene` for `seconds` and at least MIN_ACTIONS, its app started
    again after a quit; how many."""
    start, done = time.monotonic(), 0
    while done < MIN_ACTIONS or time.monotonic() - start < seconds:
        app = scene.make()
        try:
            async with app.run_test(size=scene.size) as pilot:
                for key in scene.reach:
                    await pilot.press(key)
                monkey.note(f"-- {scene.name}: started, {' '.join(scene.reach)}")
                while app.return_code is None and (
                    done < MIN_ACTIONS or time.monotonic() - start < seconds
                ):
                    await monkey.act(pilot)
                    done += 1
                    if errors.records:
                        break
                if app.return_code is None:  # time is up: the person quits, as with q
                    await app.action_quit()
        except Exception as exc:  # the app's own exception, re-raised by run_test
            where = traceback.extract_tb(exc.__traceback__)[-4:]
            frames = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in where)
            _fail(monkey, scene, f"{type(exc).__name__}: {exc} (at {frames})")
        if app.return_code not in (None, 0):
            _fail(monkey, scene, f"the app ended with status {app.return_code}")
        if errors.records:
            record = errors.records[0]
            _fail(monkey, scene, f"logged: {record.getMessage()} ({record.exc_info[1]!r})")
    return done


def _fail(monkey: Monkey, scene: Scene, what: str) -> None:
    pytest.fail(f"the monkey broke {scene.name!r}: {what}\n{monkey.last_words()}", pytrace=False)
