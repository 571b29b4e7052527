"""What the tests share: driving the dashboard through Pilot against a simulator, a
recording made, a command run, a hostile deployment, a real Prometheus, the faults' lines."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import html
import inspect
import json
import logging
import os
import pty
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import trustme
from rich.console import Console, Group
from textual import events
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Static

from wa_tui.api.auth import Credentials
from wa_tui.cli.main import build_parser
from wa_tui.cli.start import Start
from wa_tui.config import DeploymentSettings
from wa_tui.model.judgement import Summary
from wa_tui.model.snapshot import Snapshot
from wa_tui.outputs.exporter import Exporter
from wa_tui.recording.codec import Unpacker
from wa_tui.recording.reader import RecordedPoll, RecordingFile
from wa_tui.recording.writer import Recorder, recording_consumer
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.simulator.faults import Fault
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.dashboard_screen import panes_by_id
from wa_tui.ui.node_table import NodeTable
from wa_tui.watch.targets import Target
from wa_tui.watch.watcher import Watcher

# wa-tui as a user runs it, in a process of its own.
WA_TUI = [sys.executable, "-m", "wa_tui"]
SIZE = (160, 50)


def target_for(
    server: SimulatorServer, interval: float = 30.0, name: str = "test", timeout: float = 10.0
) -> Target:
    """The simulator as a deployment to watch (no token cache: nothing written)."""
    credentials = Credentials.with_password(server.username, server.password)
    settings = DeploymentSettings(url=server.url, interval=interval, timeout=timeout)
    return Target(name, server.url, credentials, settings, verify=True)


def start_of(*argv: str) -> Start:
    """What wa-tui reads of this command line (the config file it names, read once)."""
    return Start(build_parser().parse_args(list(argv)))


def configured_targets(config: Path, profile: str | None = None) -> list[Target]:
    """The deployments of the config file at `config`, as `wa-tui --config` reads them."""
    return start_of("--config", str(config)).configured(profile)


def make_app(server: SimulatorServer, interval: float = 30.0, name: str = "test") -> WaTuiApp:
    return WaTuiApp([target_for(server, interval, name)])


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` is true; fail with a clear message if it never
    is. A widget not there yet (the dashboard's panes compose just after the app mounts)
    is not there *yet*."""
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {said(condition)}")
        await pilot.pause(0.05)


async def until_nodes(pilot: Pilot, count: int = 12) -> None:
    """Until the node list shows `count` nodes: the deployment's first answer drawn."""

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
    from wa_tui.ui.node_table import COLUMNS

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


# What the one line says for each fault that keeps wa-tui from data.
FAILING = {
    Fault.HANG: "no answer from",
    Fault.RESET: "broke mid-answer",
    Fault.HTTP_500: "HTTP 500, error 1014: Internal error",
    Fault.HTML_502: "HTTP 502: 502 Bad Gateway (HTML page, likely from a proxy)",
    Fault.HTTP_503: "HTTP 503, error 1011: Service not ready",
    Fault.HTML_503: "HTTP 503: 503 Service Temporarily Unavailable (HTML page",
    Fault.PROXY_500: "HTTP 500: Upstream WhatsApp API timed out",
    Fault.ERRORS_200: "HTTP 200, error 1011: Service not ready: Wacore is not instantiated",
    Fault.HTML_504: "HTTP 504: 504 Gateway Time-out (HTML page",
    Fault.RATE_LIMITED: "HTTP 429, error 1015",
    Fault.MALFORMED: "an answer that is not JSON",
    Fault.TRUNCATED: "broke mid-answer",
    Fault.EMPTY: "an empty answer",
    Fault.WRONG_SHAPE: "the answer has no 'support' section",
    Fault.HUGE: "answer larger than 32 MiB, refused",
    Fault.DRIP: "no answer from",
}


HARMLESS = (Fault.LATENCY, Fault.REVOKED)  # slower, or one more login: the data still comes


def require_binary(binary: str, package: str = "prometheus") -> str:
    """The path of `binary`; missing, the test skips with how to install it (fails in CI)."""
    found = shutil.which(binary)
    if found is None:
        message = f"{binary} is missing: apt-get install -y {package} (Debian's package)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def prometheus_serving(config: Path, folder: Path, web_config: Path | None = None) -> Iterator[int]:
    """Debian's Prometheus with `config`, its data in `folder` (and its own web
    configuration: TLS, basic auth): the port it listens on."""
    port = free_port()
    web = [f"--web.config.file={web_config}"] if web_config else []
    process = subprocess.Popen(
        [
            require_binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            *web,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def prometheus_query(port: int) -> Callable[[str], list[dict]]:
    def query(expression: str) -> list[dict]:
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expression}
        )
        try:
            answer = json.loads(http_get(url))
        except OSError:
            return []  # not listening yet
        return answer["data"]["result"] if answer.get("status") == "success" else []

    return query


def until_answered(ask: Callable[[], list[dict]], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while not (found := ask()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Prometheus never answered within {timeout}s")
        time.sleep(0.5)
    return found


HOSTILE_ID = "evil[bold red]x[/]\x1b]0;owned\x07:c\x1b[2J"


SECRET = "Sup3r-S3cret-db-pw"


OSC_52 = "\x1b]52;c;ZXZpbA==\x07"  # would write the user's clipboard


def hostile_deployment() -> SimDeployment:
    deployment = SimDeployment.multiconnect(2, spares=1)
    core = deployment.serving_coreapps()[0]  # owns shard 0: third row
    del deployment.nodes[core.id]
    core.id = HOSTILE_ID
    deployment.nodes[HOSTILE_ID] = core
    core.version = "[link=https://evil.example]v9[/link]"
    core.socket_conn = "\x1b[31mUP\x1b[0m"
    core.debug_info = "[blink]+1555[/blink]\r\x08"
    core.extra = {
        "env": ["TZ=UTC", f"CLIP={OSC_52}", f"WA_DB_PASSWORD={SECRET}"],
        "unknown_field": {"deep": "\x1b[2J[reverse]boom[/]", "n": -(10**30)},
        "x" * 10_000: "a very long key",
    }
    return deployment


def run(args: list[str], server: SimulatorServer | None = None, **env: str):
    environment = dict(os.environ)  # no WA_TUI_ variable: conftest's isolated_home
    if server is not None:
        environment |= {"WA_TUI_USERNAME": server.username, "WA_TUI_PASSWORD": server.password}
        args = [*args, "--url", server.url]
    return subprocess.run(
        [*WA_TUI, *args], capture_output=True, text=True, env=environment | env, timeout=60
    )


SECRETS = ("Sup3r-S3cret-db-pw", "k-8d1f4a77c2e94b0f")


async def record_polls(
    server: SimulatorServer,
    path: Path,
    steps: int,
    db_stats_every: float = 60.0,
    judged_with: dict[str, Any] | None = None,
    **recorder_options: Any,
) -> None:
    """A poll after each step of the story (and one before it), by a Recorder given
    `recorder_options`, judged with the deployment settings `judged_with`."""
    target = target_for(server, name="demo")
    update = {"db_stats_interval": db_stats_every, **(judged_with or {})}
    settings = target.settings.model_copy(update=update)
    recorder_options.setdefault("thresholds", settings.threshold_values)
    recorder = Recorder(path, "demo", server.url, **recorder_options)
    target = Target(target.name, target.url, target.credentials, settings, target.verify)
    async with Watcher(target) as watcher:
        watcher.subscribe(recording_consumer(recorder), "the recorder", finish=True)
        for step in range(steps + 1):
            if step:
                server.advance()
            await watcher.poll()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the last write
    recorder.close()


def every_value_of(database: Path) -> Iterator[tuple[str, str]]:
    """Every cell of every table of a recording, inflated where it is compressed (blobs,
    judgements, the readings' and stats' streams), as text: (where, text)."""
    with closing(sqlite3.connect(database)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            streams: dict[str, Unpacker] = {}
            for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                for column, cell in enumerate(row):
                    where = f"{table}[{column}]"
                    if not isinstance(cell, bytes):
                        yield where, str(cell)
                    elif table == "polls":  # a stream: each frame against the one before
                        yield where, streams.setdefault(where, Unpacker()).advance(cell).decode()
                    else:
                        yield where, _inflated_or_raw(cell)


def _inflated_or_raw(cell: bytes) -> str:
    try:
        return zlib.decompress(cell).decode()
    except zlib.error:
        return cell.decode("utf-8", "replace")


class Terminal:
    """A program in a pseudo-terminal of its own (`size`: columns, rows), as a person
    runs it: what it drew is kept as it goes by (a terminal nobody reads would block the
    program's writes)."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path | None = None,
        size: tuple[int, int] = (120, 32),
    ) -> None:
        leader, follower = pty.openpty()
        columns, rows = size
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=follower,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
        )
        os.close(follower)
        self.leader = leader
        self.drawn = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:  # until the program's end has been read (EIO)
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.drawn += chunk

    def showed(self, text: str) -> bool:
        return text.encode() in self.drawn

    def close(self) -> int:
        """Ended (asked, then killed after a grace); its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        try:
            return self.process.wait(timeout=20)
        finally:
            self._reader.join(timeout=5)  # what it drew last, read before the end
            os.close(self.leader)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode()


async def scrape_until(exporter: Exporter, marker: str) -> tuple[str, str]:
    """Serve `exporter` until its /metrics shows `marker`: that text, and /healthz's."""
    ready = asyncio.Event()
    serving = asyncio.create_task(exporter.serve("127.0.0.1", 0, ready))
    try:
        await ready.wait()
        base = f"http://127.0.0.1:{exporter.port}"
        async with asyncio.timeout(20):
            while marker not in (text := await asyncio.to_thread(http_get, f"{base}/metrics")):
                await asyncio.sleep(0.1)
        return text, await asyncio.to_thread(http_get, f"{base}/healthz")
    finally:
        serving.cancel()


def toggled_panes() -> list[str]:
    """Every pane a key shows (PANES): the monkey drives each on its own, opened at 80x24."""
    return [pane.id for pane in panes_by_id().values() if pane.key is not None]


# A callback that holds the event loop longer than this is a stall a user would feel.
SLOW_CALLBACK_SECONDS = 0.1


class _SlowCallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "took" in str(record.msg):
            self.said.append(record.getMessage())


@asynccontextmanager
async def loop_watched() -> AsyncIterator[None]:
    """The running loop in asyncio's debug mode while this lasts: every callback that holds
    it longer than SLOW_CALLBACK_SECONDS is logged, and one logged fails the test. What
    earlier tests left is frozen first, as wa-tui settles its own start-up
    (wa_tui/core/memory.py): a collection walking a whole session's objects is no stall
    of ours."""
    gc.collect()
    gc.freeze()
    loop = asyncio.get_running_loop()
    was_debugging = loop.get_debug()  # on from the start where TLS connects meanwhile
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
    await asyncio.sleep(0)  # the step that collected ends before anything is watched
    slow = _SlowCallbacks()
    logger = logging.getLogger("asyncio")
    logger.addHandler(slow)
    try:
        yield
    finally:
        logger.removeHandler(slow)
        loop.set_debug(was_debugging)
        gc.unfreeze()
    assert slow.said == [], "the event loop stalled:\n" + "\n".join(slow.said)


# -- a recorder in a process of its own (tests/test_recorder.py, test_follow.py) ----


def recorder_config(path: Path, servers: dict[str, SimulatorServer], interval: float = 0.3) -> Path:
    """A config of `servers`, each polled every `interval`; passwords from recorder_env."""
    path.write_text(
        "".join(
            f'[deployments."{name}"]\nurl = "{server.url}"\nusername = "{server.username}"\n'
            f'password_env = "PW_{index}"\ninterval = {interval}\n'
            for index, (name, server) in enumerate(servers.items())
        )
    )
    return path


def recorder_env(servers: dict[str, SimulatorServer]) -> dict[str, str]:
    return {
        **os.environ,
        **{f"PW_{i}": server.password for i, server in enumerate(servers.values())},
    }


def recording_meta(path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT key, value FROM meta"))


def recorded_polls(path: Path) -> tuple[int, int]:
    """Good polls and failed ones (none yet while the recorder makes the file)."""
    try:
        # Closed at once: an open connection to a WAL file keeps the recorder, stopping,
        # from leaving it without side files.
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            good = db.execute("SELECT COUNT(*) FROM polls WHERE error IS NULL").fetchone()[0]
            failed = db.execute("SELECT COUNT(*) FROM polls WHERE error IS NOT NULL").fetchone()
    except sqlite3.OperationalError:
        return 0, 0
    return good, failed[0]


def until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never came within {timeout}s: {said(condition)}"
        time.sleep(0.1)


def said(condition: Callable[[], object]) -> str:
    """What a waiting loop waited for: the condition's docstring, or its source line."""
    if condition.__doc__ and not isinstance(condition, type):
        return condition.__doc__.strip()
    try:
        return inspect.getsource(condition).strip()
    except (OSError, TypeError):
        return repr(condition)


def every_poll(path: Path) -> list[RecordedPoll]:
    """Every poll of the recording at `path`, read as a replay reads them (RecordingError:
    one is damaged)."""
    recording = RecordingFile(path)
    try:
        return [recording.poll(index) for index in range(len(recording))]
    finally:
        recording.close()


def render_topology(snapshot: Snapshot, summary: Summary, width: int) -> Group:
    """The topology pane's picture at `width`, whole, as the pane draws it block by
    block (ui/topology.py: `blocks` of a `Picture`)."""
    from wa_tui.ui.topology import Picture, blocks

    return Group(*(make() for _, make in blocks(Picture.of(snapshot, summary), width)))


PASSWORD = "scrape-s3cret"  # the basic-auth user's, in Pki's web config


class Pki:
    """A private CA, the exporter's certificate, a client's, and a web config file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = trustme.CA()
        self.ca.cert_pem.write_to_path(folder / "ca.pem")
        self.issue("server")
        client = self.ca.issue_cert("prometheus-client")
        client.private_key_and_cert_chain_pem.write_to_path(folder / "client.pem")
        self.hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()

    def issue(self, stem: str) -> trustme.LeafCert:
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(self.folder / f"{stem}.key")
        cert.cert_chain_pems[0].write_to_path(self.folder / f"{stem}.crt")
        return cert

    def web_config(self, extra_tls: str = "", users: bool = True) -> Path:
        path = self.folder / "web.yml"
        text = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n" + extra_tls
        if users:
            text += f"basic_auth_users:\n  prometheus: {self.hash}\n"
        path.write_text(text)
        return path
