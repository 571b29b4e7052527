"""A compromised or buggy deployment must not take over the terminal, restyle the screen
or leak a secret: markup shows as typed, escape sequences are made visible, secrets stay
masked — on screen, in the real terminal output, in `snapshot`/`check` and in the logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import (
    HOSTILE_ID,
    OSC_52,
    SECRET,
    SIZE,
    Terminal,
    event_log_text,
    hostile_deployment,
    make_app,
    plain,
    screen_text,
    wait_for,
)
from wa_tui.simulator import SimulatorServer
from wa_tui.ui.findings_panel import FindingsPanel
from wa_tui.ui.node_table import NodeTable

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process


@pytest.fixture
def hostile(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(hostile_deployment())


async def test_screen_shows_server_strings_literally(hostile: SimulatorServer) -> None:
    app = make_app(hostile)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(NodeTable)
        await wait_for(pilot, lambda: table.row_count == 5)
        await pilot.press("j", "j")
        assert table.selected_key == HOSTILE_ID
        assert "'\\x1b[31mUP\\x1b[0m'" in plain(app.query_one(FindingsPanel))  # SOCKET_UNKNOWN
        with hostile.deployment.lock:  # a change, so the id reaches the event log too
            hostile.deployment.nodes[HOSTILE_ID].socket_conn = "DN"
        await pilot.press("r")
        await wait_for(pilot, lambda: "socket changed" in event_log_text(app))
        screen = screen_text(app)
        await pilot.press("enter")  # into the detail, and page down through all of it
        for _ in range(6):
            await pilot.press("pagedown")
            screen += screen_text(app)
        for literal in (
            "evil[bold red]x[/]\\x1b]0;owned\\x07:c\\x1b[2J",  # detail title, whole
            "[link=https://evil.example]v9[/link]",
            "[blink]+1555[/blink]\\x0d\\x08",
            "CLIP=\\x1b]52;c;ZXZpbA==\\x07",
        ):
            assert literal in screen, literal
        detail = plain(app.query_one("#detail-body"))  # unwrapped: nested JSON escapes
        assert '{"deep": "\\u001b[2J[reverse]boom[/]"' in detail
        assert "\x1b" not in screen and SECRET not in screen
        assert "evil[bold red]x[/]" in plain(app.query_one(FindingsPanel))
        assert "evil[bold red]x[/]\\x1b]0;owned" in event_log_text(app)


def test_real_terminal_output_has_no_escape_from_the_server(
    hostile: SimulatorServer, isolated_home: Path
) -> None:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="160", LINES="50")
    env |= {"WA_TUI_USERNAME": hostile.username, "WA_TUI_PASSWORD": hostile.password}
    terminal = Terminal(
        [sys.executable, "-m", "wa_tui", "--url", hostile.url, "--debug"], env, size=(160, 50)
    )
    try:
        time.sleep(8)  # started, the first answer drawn
        os.write(terminal.leader, b"jj\r")  # select the hostile node, into its detail
        time.sleep(2)
        for _ in range(6):  # page through the detail: env and unknown fields on screen
            os.write(terminal.leader, b"\x1b[6~")
            time.sleep(0.5)
        os.write(terminal.leader, b"q")
        terminal.process.wait(timeout=10)
    finally:
        terminal.close()
    out = bytes(terminal.drawn)
    assert b"\\x1b]0;owned" in out, "the hostile id never reached the terminal"
    assert b"CLIP=\\x1b]52;c;" in out, "the hostile env never reached the terminal"
    for raw in (b"\x1b]0;owned", b"\x1b]52;c;", b"\x1b[31mUP"):
        assert raw not in out
    assert SECRET.encode() not in out
    logs = list((isolated_home / "state").rglob("*.log"))
    assert logs, "the app wrote no log file"
    tokens = json.loads(next((isolated_home / "state").rglob("tokens.json")).read_text())
    (token,) = [entry["token"] for entry in tokens.values()]
    for log in logs:
        text = log.read_text()
        assert SECRET not in text and hostile.password not in text and token not in text


def test_snapshot_and_check_output_are_safe(hostile: SimulatorServer) -> None:
    env = dict(os.environ, WA_TUI_USERNAME=hostile.username, WA_TUI_PASSWORD=hostile.password)
    for args in (["snapshot"], ["snapshot", "--format", "json"], ["check"]):
        out = subprocess.run(
            [sys.executable, "-m", "wa_tui", *args, "--url", hostile.url],
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert out.returncode in (0, 1, 2), out.stderr
        assert b"\x1b" not in out.stdout and b"\x07" not in out.stdout
        assert not any(0x80 <= b <= 0x9F for b in out.stdout.decode().encode("latin-1", "replace"))
        assert SECRET.encode() not in out.stdout
        if "json" in args:
            document = json.loads(out.stdout)
            ids = [node["id"] for node in document["nodes"]]
            assert HOSTILE_ID in ids  # JSON keeps the exact string, escaped
            (node,) = [n for n in document["nodes"] if n["id"] == HOSTILE_ID]
            assert f"CLIP={OSC_52}" in node["support"]["env"]
            assert "WA_DB_PASSWORD=••••••" in node["support"]["env"]
        else:
            assert b"evil[bold red]x[/]\\x1b]0;owned" in out.stdout


async def test_show_secrets_reveals_only_after_confirmation(hostile: SimulatorServer) -> None:
    from tests.helpers import target_for
    from wa_tui.ui.app import WaTuiApp
    from wa_tui.ui.confirm_screen import ConfirmScreen

    def detail_text(app: WaTuiApp) -> str:
        return plain(app.query_one("#detail-body"))

    locked = make_app(hostile)
    async with locked.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: locked.query_one(NodeTable).row_count == 5)
        await pilot.press("j", "j", "x")  # without --show-secrets, x does nothing
        assert not isinstance(locked.screen, ConfirmScreen)
        assert SECRET not in detail_text(locked)

    app = WaTuiApp([target_for(hostile)], secrets_may_be_shown=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(NodeTable).row_count == 5)
        await pilot.press("j", "j", "x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # the default answer: nothing shown
        assert SECRET not in detail_text(app)
        await pilot.press("x", "y")
        assert f"WA_DB_PASSWORD={SECRET}" in detail_text(app)
        await pilot.press("x")  # hides again, no question asked
        assert SECRET not in detail_text(app)
