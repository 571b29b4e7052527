"""`wa-tui web`: the recorder's dashboard in a browser, read-only, behind the web
configuration. A tab here is what a browser's is without the canvas: the session's bytes
read through a terminal emulator (pyte), keys sent as the page sends them; the real
browser's tests are in tests/test_web_browser.py."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp
import bcrypt
import pyte
import pytest

from tests.conftest import StartSimulator
from tests.helpers import WA_TUI, Pki, free_port, record_polls, require_binary, start_of
from wa_tui.outputs.serving import GuardedSite
from wa_tui.outputs.web_config import WebConfig, read_web_config
from wa_tui.simulator import SimDeployment, demo_story
from wa_tui.web.server import WebView, keys_config
from wa_tui.web.session import MAX_SIZE, MIN_SIZE, unpacked

USER, PASSWORD = "commander", "incident-room"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4))
SIZE = (120, 32)
DEPLOY = Path(__file__).parent.parent / "deploy" / "systemd"


@pytest.fixture
async def recording(start_simulator: StartSimulator, tmp_path: Path) -> Path:
    """A recorder's file of a deployment through its story's first steps."""
    deployment = SimDeployment.multiconnect(8, spares=2)
    server = start_simulator(deployment, story=demo_story(deployment), step_seconds=3600)
    path = tmp_path / "recordings" / "demo.db"
    path.parent.mkdir()
    await record_polls(server, path, steps=3)
    return path


@asynccontextmanager
async def serving(followed: Path, users: bool = True, **options: object) -> AsyncIterator[WebView]:
    """`wa-tui web` of `followed` on a free port, in this loop; every session ended after."""
    config = WebConfig(users={USER: HASH} if users else {})
    view = WebView(followed, GuardedSite(config), **options)  # type: ignore[arg-type]
    ready = asyncio.Event()
    task = asyncio.create_task(view.serve("127.0.0.1", 0, ready))
    async with asyncio.timeout(10):
        await ready.wait()
    try:
        yield view
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def origin(view: WebView) -> str:
    return f"http://127.0.0.1:{view.site.port}"


class Tab:
    """A browser tab's session, read as the page would draw it."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self.websocket = websocket
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.ByteStream(self.screen)
        self.texts: list[object] = []  # the JSON messages: pong, deliver_file_start
        self.closed = asyncio.Event()
        self._reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.websocket:
            if message.type is aiohttp.WSMsgType.BINARY:
                self.stream.feed(message.data)
            elif message.type is aiohttp.WSMsgType.TEXT:
                self.texts.append(json.loads(message.data))
        self.closed.set()

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def shows(self, wanted: str, timeout: float = 30) -> None:
        try:
            async with asyncio.timeout(timeout):
                while wanted not in self.text:
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"never showed {wanted!r}:\n{self.text}") from None

    async def press(self, keys: str) -> None:
        await self.websocket.send_str(json.dumps(["stdin", keys]))

    async def delivered(self, timeout: float = 30) -> str:
        """The key of the next file the session offers for download."""
        async with asyncio.timeout(timeout):
            while not any(t[0] == "deliver_file_start" for t in self.texts):  # type: ignore[index]
                await asyncio.sleep(0.05)
        offer = next(t for t in self.texts if t[0] == "deliver_file_start")  # type: ignore[index]
        self.texts.remove(offer)
        return str(offer[1])  # type: ignore[index]


@asynccontextmanager
async def tab(view: WebView, http: aiohttp.ClientSession) -> AsyncIterator[Tab]:
    url = f"{origin(view)}/ws?width={SIZE[0]}&height={SIZE[1]}"
    async with http.ws_connect(url, headers=AUTH, origin=origin(view)) as websocket:
        opened = Tab(websocket)
        try:
            yield opened
        finally:
            opened._reading.cancel()


def gone(pid: int) -> bool:
    """No process is left in the group `pid` led."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def until(condition: object, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_every_route_asks_for_credentials_this_origin_and_this_host(
    tmp_path: Path,
) -> None:
    """Without credentials: 401 on the page, its assets and the WebSocket; with them, a
    WebSocket from another origin is refused (403), a name that is not this host's too
    (421: DNS rebinding), and every answer carries the page's policy."""
    followed = tmp_path / "none.db"  # no session is opened here: nothing is read
    async with serving(followed) as view, aiohttp.ClientSession() as http:
        here = origin(view)
        for path in ("/", "/static/terminal/js/textual.js", "/download/x"):
            async with http.get(here + path) as answer:
                assert answer.status == 401
                assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(here + "/ws", origin=here)
        assert refused.value.status == 401
        for other in ("http://evil.example", "https://127.0.0.1:1", "null"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(here + "/ws", headers=AUTH, origin=other)
            assert refused.value.status == 403
        async with http.get(here + "/", headers={**AUTH, "Host": "evil.example"}) as answer:
            assert answer.status == 421
        async with http.get(here + "/", headers=AUTH) as answer:
            page = await answer.text()
            policy = answer.headers["Content-Security-Policy"]
        assert answer.status == 200 and "default-src 'none'" in policy
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy
        assert "googleapis" not in page and "https://" not in page  # nothing from elsewhere
        async with http.get(here + "/static/terminal/js/textual.js", headers=AUTH) as answer:
            assert answer.status == 200 and len(await answer.read()) > 100_000
        assert view.sessions == {}
    behind = "https://wa.example.com/incident/"  # a reverse proxy's: its origin alone
    async with serving(followed, public_url=behind) as view, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(origin(view) + "/ws", headers=AUTH, origin=origin(view))
        assert refused.value.status == 403 and view.sessions == {}


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_tab_draws_the_recorders_dashboard_and_runs_nothing_on_the_server(
    recording: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The session draws the recorder's dashboard, says it is a web view; `l` runs no
    command (a logs_command that would create a file creates nothing), `x` shows no
    secret; `b` and `w` arrive as downloads (the bundle's phone numbers masked), and
    nothing is written on the server but in the session's private folder, gone with it."""
    marker = tmp_path / "logs-ran"
    config = tmp_path / "config.toml"
    config.write_text(
        "[keys]\n'dashboard.refresh' = 'R'\n"
        f"[deployments.demo]\nurl = 'http://127.0.0.1:9'\nusername = 'a'\n"
        f"logs_command = ['touch', '{marker}']\n"
    )
    keys = keys_config(start_of("--config", str(config)).keymap)
    assert "logs_command" not in keys and "dashboard.refresh" in keys  # keys alone go over
    home = Path(os.environ["XDG_DATA_HOME"])
    before = sorted(recording.parent.iterdir()), sorted(home.rglob("*")) if home.exists() else []
    async with serving(recording, config=keys) as view, aiohttp.ClientSession() as http:
        async with tab(view, http) as opened:
            await opened.shows("WEB VIEW")
            await opened.shows("Nodes (12)")
            (session,) = view.sessions.values()
            folder, pid = session.folder, session.pid
            await opened.press("l")
            await opened.shows("not in the web view")
            await opened.press("x")
            await opened.shows("secret values are never")  # a toast wraps its lines
            await opened.press("b")
            bundle = await download(http, view, await opened.delivered())
            await opened.press("w")
            screenshot = await download(http, view, await opened.delivered())
            await opened.press("?")
            await opened.shows("List every key")
            assert "Reveal secrets" not in opened.text and "logs_command" not in opened.text
        await until(lambda: not view.sessions)
    assert gone(pid) and not folder.exists()
    assert not marker.exists()
    journal = capfd.readouterr().err
    assert f"web session 1: opened by {USER} from 127.0.0.1" in journal
    assert "web session 1: ended after" in journal and "(the tab closed; exit 0)" in journal
    with tarfile.open(fileobj=io.BytesIO(bundle)) as archive:
        (name,) = [n for n in archive.getnames() if n.endswith("MANIFEST")]
        manifest = archive.extractfile(name)
        assert manifest is not None and b"phone numbers too" in manifest.read()
    assert screenshot.startswith(b"<svg") and b"WEB&#160;VIEW" in screenshot
    after = sorted(recording.parent.iterdir()), sorted(home.rglob("*")) if home.exists() else []
    assert after == before  # nothing written: not the recordings, not the user's data


async def download(http: aiohttp.ClientSession, view: WebView, key: str) -> bytes:
    async with http.get(f"{origin(view)}/download/{key}", headers=AUTH) as answer:
        assert answer.status == 200 and "attachment" in answer.headers["Content-Disposition"]
        body = await answer.read()
    async with http.get(f"{origin(view)}/download/{key}", headers=AUTH) as again:
        assert again.status == 404  # once
    return body


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_sessions_are_capped_and_a_tab_closed_at_once_leaves_no_process(
    recording: Path,
) -> None:
    """At the cap, the next tab is told so (503: page and WebSocket); tabs closed 0.1 to
    0.4 s after opening, while their process starts, leave none behind."""
    async with serving(recording, max_sessions=1) as view, aiohttp.ClientSession() as http:
        async with tab(view, http) as first:
            await first.shows("Nodes (12)")
            async with http.get(origin(view) + "/", headers=AUTH) as answer:
                assert answer.status == 503 and "1 browser sessions are open" in await answer.text()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(origin(view) + "/ws", headers=AUTH, origin=origin(view))
            assert refused.value.status == 503
        await until(lambda: not view.sessions)
        pids = []
        for _ in range(4):
            async with tab(view, http):
                await until(lambda: view.sessions)
                await asyncio.sleep(random.uniform(0.1, 0.4))
                (session,) = view.sessions.values()
                with suppress(AssertionError):
                    pids.append(session.pid)
            await until(lambda: not view.sessions)
    assert pids and all(gone(pid) for pid in pids)


@pytest.mark.slow
async def test_the_server_stopping_ends_the_sessions_it_serves(recording: Path) -> None:
    """Stopped (SIGTERM, as systemd stops it) with tabs open: no session's process is
    left, nor its private folder."""
    view = WebView(recording, GuardedSite(WebConfig(users={USER: HASH})))
    ready = asyncio.Event()
    server = asyncio.create_task(view.serve("127.0.0.1", 0, ready))
    await asyncio.wait_for(ready.wait(), 10)
    async with aiohttp.ClientSession() as http, tab(view, http) as opened:
        await opened.shows("Nodes (12)")
        (session,) = view.sessions.values()
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
        await asyncio.wait_for(opened.closed.wait(), 15)
    assert gone(session.pid) and not session.folder.exists()


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_garbage_ends_its_session_and_sizes_are_clamped(recording: Path) -> None:
    """A binary frame, a message past the limit, or text that is not the protocol ends
    that session alone; a size of 0x0 or 100000x100000 is clamped."""
    async with (
        serving(recording) as view,
        aiohttp.ClientSession() as http,
        tab(view, http) as steady,
    ):
        await steady.shows("Nodes (12)")
        for garbage in (b"\x00\xff" * 10, "x" * 70_000, "not json", json.dumps(["resize"])):
            async with tab(view, http) as rude:
                await until(lambda: len(view.sessions) == 2)
                if isinstance(garbage, bytes):
                    await rude.websocket.send_bytes(garbage)
                else:
                    await rude.websocket.send_str(garbage)
                await asyncio.wait_for(rude.closed.wait(), 15)
            await until(lambda: len(view.sessions) == 1)
        (session,) = view.sessions.values()
        for size, clamped in (((0, 0), MIN_SIZE), ((100_000, 100_000), MAX_SIZE)):
            message = ["resize", {"width": size[0], "height": size[1]}]
            await steady.websocket.send_str(json.dumps(message))
            await until(lambda clamped=clamped: session.size == clamped)
        await steady.websocket.send_str(json.dumps(["resize", {"width": 120, "height": 32}]))
        await steady.press("?")
        await steady.shows("List every key")  # still answering


@pytest.mark.slow
async def test_a_tab_without_a_key_for_a_while_ends_and_says_why(
    recording: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    async with serving(recording, idle_seconds=3) as view, aiohttp.ClientSession() as http:
        async with tab(view, http) as opened:
            await opened.shows("Nodes (12)")
            await asyncio.wait_for(opened.closed.wait(), 30)
        await until(lambda: not view.sessions)
    assert "(no key for 0.05 min;" in capfd.readouterr().err


@pytest.mark.slow
async def test_over_tls_a_client_certificate_is_who_opened_the_session(
    recording: Path, pki: Pki, capfd: pytest.CaptureFixture[str]
) -> None:
    """TLS with client certificates required: the session opens over wss://, and the
    journal names the certificate's subject."""
    required = "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
    config = read_web_config(pki.web_config(required, users=False))
    context = ssl.create_default_context(cafile=pki.folder / "ca.pem")
    context.load_cert_chain(pki.folder / "client.pem")
    view = WebView(recording, GuardedSite(config))
    ready = asyncio.Event()
    task = asyncio.create_task(view.serve("127.0.0.1", 0, ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        here = f"https://127.0.0.1:{view.site.port}"
        connector = aiohttp.TCPConnector(ssl=context)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.get(here + "/") as answer:
                assert answer.status == 200
            async with http.ws_connect(here + "/ws?width=120&height=32", origin=here) as ws:
                opened = Tab(ws)
                await opened.shows("Nodes (12)")
                opened._reading.cancel()
        without = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=pki.folder / "ca.pem"))
        async with aiohttp.ClientSession(connector=without) as http:
            with pytest.raises(aiohttp.ClientError):
                await http.get(here + "/")
        await until(lambda: not view.sessions)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    journal = capfd.readouterr().err
    assert "web session 1: opened by O=trustme" in journal and ",OU=Testing cert #" in journal


def test_a_delivered_chunk_is_read_as_the_web_driver_packs_it() -> None:
    """("deliver_chunk", key, bytes), packed: `t`, `s<n>:` strings, `<n>:` bytes, `e`."""
    chunk = b"\x00\x01e:9"
    packed = b"t" + b"s13:deliver_chunk" + b"s3:key" + b"5:" + chunk + b"e"
    assert unpacked(packed) == ("deliver_chunk", "key", chunk)
    for bad in (b"", b"l1:ae", b"ts5:abce", b"t9x:e"):
        with pytest.raises(ValueError):
            unpacked(bad)


@pytest.mark.slow
def test_bad_input_is_one_line_and_nothing_listens(tmp_path: Path, recording: Path) -> None:
    """A PATH that is no recording, a web config that does not load, a port in use: one
    line, exit 2, nothing left listening."""
    bad_config = tmp_path / "web.yml"
    bad_config.write_text("basic_auth_users:\n  someone: not-a-hash\n")
    port = free_port()
    with socket_bound(port):
        for arguments, said in (
            ([str(tmp_path / "nothing.db")], "no such recording"),
            ([str(tmp_path)], "no recording (*.db) in this folder"),
            ([str(recording), "--web-config", str(bad_config)], "not a bcrypt hash"),
            ([str(recording), "--listen", f"127.0.0.1:{port}"], "cannot listen on"),
            ([str(recording), "--max-sessions", "0"], "from 1 to 64"),
        ):
            done = subprocess.run(
                [*WA_TUI, "web", *arguments], capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 2, (arguments, done.stderr)
            last = done.stderr.strip().splitlines()[-1]  # argparse's usage may come before
            assert said in last and "Traceback" not in done.stderr, done.stderr


class socket_bound:
    """`port` held by another listener while the block runs."""

    def __init__(self, port: int) -> None:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", port))
        self.socket.listen()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


@pytest.mark.slow
def test_sighup_reloads_the_lock_and_beyond_loopback_without_tls_is_warned(
    recording: Path, tmp_path: Path
) -> None:
    web_config = tmp_path / "web.yml"
    web_config.write_text(f"basic_auth_users:\n  {USER}: {HASH.decode()}\n")
    port = free_port()
    command = [*WA_TUI, "web", str(recording), "--listen", f"0.0.0.0:{port}"]
    server = subprocess.Popen(
        [*command, "--web-config", str(web_config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        assert "warning: listening on 0.0.0.0 without TLS" in server.stderr.readline()
        assert server.stdout.readline().startswith("serving the dashboard of ")
        server.send_signal(signal.SIGHUP)
        assert "web configuration reloaded" in server.stderr.readline()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """deploy/systemd/wa-tui-web.service, pointed at this install's wa-tui: systemd finds
    no fault; it reloads on SIGHUP and may not write the recordings."""
    analyze = require_binary("systemd-analyze", "systemd")
    name = "wa-tui-web.service"
    unit = (DEPLOY / name).read_text()
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit and "ReadOnlyPaths=/var/lib/wa-tui" in unit
    here = Path(sys.executable).parent / "wa-tui"
    local = tmp_path / name
    local.write_text(unit.replace("/usr/local/bin/wa-tui", str(here)))
    done = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True)
    assert done.returncode == 0 and name not in done.stderr, done.stderr
