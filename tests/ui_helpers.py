"""Helpers for driving the dashboard through Pilot against a simulator."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from io import StringIO

from rich.console import Console
from textual import events
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Static

from wa_tui.api.auth import Credentials
from wa_tui.config import DeploymentSettings
from wa_tui.simulator import SimulatorServer
from wa_tui.ui.app import WaTuiApp
from wa_tui.watch.targets import Target

SIZE = (160, 50)


def target_for(
    server: SimulatorServer, interval: float = 30.0, name: str = "test", timeout: float = 10.0
) -> Target:
    """The simulator as a deployment to watch (no token cache: nothing written)."""
    credentials = Credentials.with_password(server.username, server.password)
    settings = DeploymentSettings(url=server.url, interval=interval, timeout=timeout)
    return Target(name, server.url, credentials, settings, verify=True)


def make_app(server: SimulatorServer, interval: float = 30.0, name: str = "test") -> WaTuiApp:
    return WaTuiApp([target_for(server, interval, name)])


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` is true; fail with a clear message if it never
    is. A widget not there yet (the dashboard's panes compose just after the app mounts)
    is not there *yet*."""
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"condition not met within {timeout}s: {condition.__doc__ or condition}"
            )
        await pilot.pause(0.05)


async def until_nodes(pilot: Pilot, count: int = 12) -> None:
    """Until the node list shows `count` nodes: the deployment's first answer drawn."""
    from wa_tui.ui.node_table import NodeTable

    await wait_for(pilot, lambda: pilot.app.query_one(NodeTable).row_count == count)


def _holds(condition: Callable[[], object]) -> bool:
    try:
        return bool(condition())
    except NoMatches:
        return False


def plain(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(file=StringIO(), width=200, color_system=None, record=True)
    console.print(widget.content)
    return console.export_text()


def screen_text(app: WaTuiApp) -> str:
    """Everything on screen as text (from the SVG screenshot Textual exports)."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return "".join(html.unescape(part) for part in parts).replace("\xa0", " ")


def event_log_text(app: WaTuiApp) -> str:
    """The event log as one string: wrapped lines joined back, time and marker cut."""
    from wa_tui.ui.event_log import PREFIX_WIDTH, EventLog

    lines = app.query_one(EventLog).plain_lines()
    return " ".join(line[PREFIX_WIDTH:].strip() for line in lines)


def row_texts(app: WaTuiApp) -> list[dict[str, str]]:
    """The node list's rows, top to bottom, each as {column key: text}."""
    from wa_tui.ui.node_table import COLUMNS, NodeTable

    table = app.query_one(NodeTable)
    return [{key: table.cells(node_id)[key].plain for key, _ in COLUMNS} for node_id in table.keys]


# The character each named key types (a key event carries both).
KEY_CHARACTERS = {
    "enter": "\r",
    "escape": "\x1b",
    "space": " ",
    "tab": "\t",
    "slash": "/",
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
    "plus": "+",
    "minus": "-",
}


def post_key(app: App[object], key: str) -> None:
    """One key event, queued as the terminal's driver queues it."""
    character = KEY_CHARACTERS.get(key, key if len(key) == 1 else None)
    app.post_message(events.Key(key, character))


def post_mouse(
    app: App[object], kind: type[events.MouseEvent], x: int, y: int, **more: object
) -> None:
    """One mouse event at (x, y) on the screen, button 1, queued as the driver does."""
    modifiers = {"shift": False, "meta": False, "ctrl": False}
    app.post_message(kind(None, x, y, 0, 0, 1, **modifiers, screen_x=x, screen_y=y, **more))


def post_clicks(app: App[object], x: int, y: int, times: int = 1) -> None:
    """`times` clicks at (x, y) (2: a double click), each a press, a release, a click."""
    for chain in range(1, times + 1):
        post_mouse(app, events.MouseDown, x, y)
        post_mouse(app, events.MouseUp, x, y)
        post_mouse(app, events.Click, x, y, chain=chain)


async def burst(pilot: Pilot, *keys: str) -> None:
    """Keys in one read, as key repeat over a slow SSH link (or one `tmux send-keys`)
    delivers them: every one queued before the first is handled (Pilot's `press` lets
    the app settle between keys). Then the app settles."""
    for key in keys:
        post_key(pilot.app, key)
    await pilot.pause()
    await pilot.pause()


async def click_burst(pilot: Pilot, x: int, y: int, times: int = 2) -> None:
    """`times` clicks at (x, y) on the screen in one read (a double click)."""
    post_clicks(pilot.app, x, y, times)
    await pilot.pause()
    await pilot.pause()
