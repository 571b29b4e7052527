"""The README's commands run as written: every fenced block marked `sh runnable` is run a
line at a time, as a user types it, against the simulator, so the README cannot drift.

The README's deployment `prod` (the config's), `http://127.0.0.1:9090` and the example
hosts are the simulator; `incident.db` is a recording of it (and the incident's times,
its); `~` is a folder of the test's. A line that sets the environment (`export`,
`read`) is the test's environment; a line that starts the simulator is the simulator the
test runs. A command that keeps
running (the dashboard, a recorder, the exporter, replay) runs in a pseudo-terminal until
the block's last line has run, and must still be running then, having printed no
traceback; every other command must end with exit status 0."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import Terminal, free_port, record_polls, until
from wa_tui.recording.reader import RecordingFile
from wa_tui.simulator import SimulatorServer

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

README = Path(__file__).parent.parent / "README.md"
KEEPS_RUNNING = re.compile(r"^wa-tui (--record|--follow|--url|--demo|record|exporter|web|replay)\b")
SET_BY_THE_TEST = re.compile(r"^(export|read)\b|^wa-tui simulate\b")
STARTED_SECONDS = 4.0


def runnable_blocks() -> list[tuple[int, list[str]]]:
    """(line number, commands) of each block marked `sh runnable`, comments dropped."""
    blocks, lines = [], README.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        if line.strip() != "```sh runnable":
            continue
        commands = []
        for text in lines[number:]:
            if text.startswith("```"):
                break
            command = re.sub(r"\s+# .*$", "", text).strip()
            if command:
                commands.append(command)
        blocks.append((number, commands))
    return blocks


@pytest.fixture
def sandbox(
    tmp_path: Path, start_simulator: StartSimulator
) -> tuple[Path, dict[str, str], dict[str, str]]:
    """The folder the commands run in, their environment, and the README's names for the
    simulator and its places, mapped to the test's."""
    server = start_simulator()
    home = tmp_path / "home"
    home.mkdir()
    config = home / "config.toml"
    config.write_text(
        f'[deployments.prod]\nurl = "{server.url}"\nusername = "{server.username}"\n'
        'password_env = "PROD_PASSWORD"\n'
    )
    asyncio.run(record_polls(server, home / "incident.db", steps=0))
    recorded = RecordingFile(home / "incident.db").ats
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".state"),
        "XDG_DATA_HOME": str(home / ".data"),
        "WA_TUI_CONFIG": str(config),
        "WA_TUI_USERNAME": server.username,
        "WA_TUI_PASSWORD": server.password,
        "PROD_PASSWORD": server.password,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "TERM": "xterm-256color",
    }
    return home, env, _names(server, home, recorded[0], recorded[-1])


def _names(server: SimulatorServer, home: Path, first: datetime, last: datetime) -> dict[str, str]:
    address = server.url.removeprefix("http://")
    minute = timedelta(minutes=1)
    window = f"--since {(first - minute).astimezone():%Y-%m-%dT%H:%M} "
    window += f"--until {(last + minute).astimezone():%Y-%m-%dT%H:%M}"
    return {
        "--since 14:05 --until 15:30": window,  # the README's incident: the recording's
        "https://wa.example:9090": server.url,
        "https://wa.example.internal:9090": server.url,
        "https://wa-eu.example.internal:9090": server.url,
        "127.0.0.1:9090": address,
        "127.0.0.1_9090": address.replace(":", "_"),
        "127.0.0.1:9877": f"127.0.0.1:{free_port()}",
        "127.0.0.1:9878": f"127.0.0.1:{free_port()}",
        "/var/lib/wa-tui": str(home / "recordings"),
    }


@pytest.mark.parametrize(("line", "commands"), runnable_blocks(), ids=lambda v: str(v))
def test_the_readmes_commands_run(
    sandbox: tuple[Path, dict[str, str], dict[str, str]], line: int, commands: list[str]
) -> None:
    home, env, names = sandbox
    running: list[tuple[str, Terminal]] = []
    try:
        for command in commands:
            for readme_name, ours in names.items():
                command = command.replace(readme_name, ours)
            if SET_BY_THE_TEST.match(command):
                continue
            if KEEPS_RUNNING.match(command):
                terminal = Terminal(["bash", "-c", f"exec {command}"], env, home)
                running.append((command, terminal))
                # Its first words (a recorder's: its files made) before the next line.
                until(lambda t=terminal: t.drawn or t.process.poll() is not None, 30)
                continue
            done = subprocess.run(
                ["bash", "-c", command], cwd=home, env=env, capture_output=True, timeout=120
            )
            said = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
            assert done.returncode == 0, f"README line {line}: {command}\n{said}"
            assert "Traceback" not in said, f"README line {line}: {command}\n{said}"
        time.sleep(STARTED_SECONDS)
        for command, terminal in running:
            shown = terminal.drawn.decode(errors="replace")
            assert terminal.process.poll() is None, f"README line {line}: {command} ended\n{shown}"
            assert not terminal.showed("Traceback"), f"README line {line}: {command}\n{shown}"
    finally:
        for _, terminal in running:
            terminal.close()
