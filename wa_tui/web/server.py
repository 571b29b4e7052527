"""The page, the WebSocket each tab's session speaks over, and the files it delivers,
served behind the web configuration (TLS, client certificates, basic auth: every route).

What a browser is allowed:
- the page and its assets, from the package (textual-serve's terminal, its fonts), under
  a Content-Security-Policy of this origin alone, framed by no one;
- a WebSocket from this origin only (`--public-url` behind a reverse proxy): another
  site's page, or a name that is not this host's (DNS rebinding), is refused;
- at most `max_sessions` sessions; the next is told so (503), and a session with no key
  for `idle_seconds` ends, so forgotten tabs cannot lock out the incident commander;
- a delivered file (`w`, `b`) once, by its key.

A line per session on stderr (the journal): who (the basic-auth user or the client
certificate's subject), from where, and when and why it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import itertools
import json
import socket
import sys
import time
from collections.abc import Callable, Mapping
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler

from wa_tui.outputs.serving import WHO, GuardedSite
from wa_tui.web.session import Delivery, Session

DEFAULT_MAX_SESSIONS = 8
DEFAULT_IDLE_SECONDS = 30 * 60.0
MAX_MESSAGE = 64 * 1024  # a browser's message: keys, a size; anything bigger ends it
CHUNK = 256 * 1024  # a delivered file is asked for so much at a time
DOWNLOAD_WAIT = 30.0  # for a chunk the session does not send: the download ends
POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # The terminal styles its own elements as it lays them out.
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
TERMINAL_ASSETS = files("textual_serve").joinpath("static")
OWN_ASSETS = files("wa_tui.web").joinpath("static")


def say(line: str) -> None:
    print(f"wa-tui: {line}", file=sys.stderr, flush=True)


class WebView:
    """The dashboard of `followed` (a recording, or a folder of them) for browsers:
    `site` guards it; `config` is each session's config file (keys alone)."""

    def __init__(
        self,
        followed: Path,
        site: GuardedSite,
        config: str = "",
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        public_url: str | None = None,
        watch: Callable[[Session, bytes], None] | None = None,
    ) -> None:
        self.followed = followed.resolve()  # the sessions run in folders of their own
        self.site = site
        self.config = config
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.public_origin = _origin(public_url) if public_url else None
        # Shown every byte a session sends its browser (a test's or a benchmark's terminal
        # emulator reads the screens; a canvas cannot be read).
        self.watch = watch
        self.sessions: dict[int, Session] = {}
        self._numbers = itertools.count(1)
        self._deliveries: dict[str, tuple[Session, Delivery]] = {}
        self._names = _own_names()

    def serving_line(self, address: str) -> str:
        return (
            f"serving the dashboard of {self.followed} on {address}/ "
            f"({self.max_sessions} tabs at most); Ctrl+C stops"
        )

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._headers, self._this_host, self.site.authorised])
        app.router.add_get("/", self._page)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/download/{key}", self._download)
        app.router.add_get("/favicon.ico", _no_icon)
        app.router.add_static("/static/terminal", Path(str(TERMINAL_ASSETS)))
        app.router.add_static("/static/wa-tui", Path(str(OWN_ASSETS)))
        return app

    async def serve(self, host: str, port: int, ready: asyncio.Event | None = None) -> None:
        """Serve until cancelled; then every session ended, its process group with it."""
        await self.site.start(self.application(), host, port)
        if ready is not None:
            ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.gather(*(s.stop() for s in list(self.sessions.values())))
            await self.site.close()

    # -- what every answer carries, and who may ask ---------------------------------------

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The page's policy on every answer, a refusal's too."""
        try:
            response = await handler(request)
        except web.HTTPException as refused:
            _with_policy(refused)
            raise
        return _with_policy(response)

    @web.middleware
    async def _this_host(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A page asked for by a name that is not this host's is refused: a site whose
        name was made to point here (DNS rebinding) reads nothing."""
        if self.public_origin is None and not self._is_own_name(request.host):
            return web.Response(status=421, text="wa-tui: not this host's name\n")
        return await handler(request)

    def _is_own_name(self, host: str) -> bool:
        name = urlsplit(f"//{host}").hostname or ""
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name.lower() in self._names
        return True

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return False
        expected = self.public_origin or f"{request.scheme}://{request.host}".lower()
        return origin.lower() == expected

    # -- the page -----------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        if len(self.sessions) >= self.max_sessions:
            return self._full()
        return web.Response(text=page(self.followed.name), content_type="text/html")

    def _full(self) -> web.Response:
        text = (
            f"{self.max_sessions} browser sessions are open, the most this wa-tui web "
            "serves at once: close a tab you no longer need, or wait for an idle one to end."
        )
        return web.Response(status=503, text=refusal_page(text), content_type="text/html")

    # -- a session --------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            return web.Response(status=403, text="wa-tui: a page of another origin\n")
        if len(self.sessions) >= self.max_sessions:
            return self._full()
        size = (_number(request.query.get("width"), 80), _number(request.query.get("height"), 24))
        number = next(self._numbers)
        session = self.sessions[number] = Session(self.followed, self.config, size)
        started = time.monotonic()
        who, where = request[WHO], request.remote or "?"
        say(f"web session {number}: opened by {who} from {where}")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        why = "the tab closed"
        try:
            await websocket.prepare(request)
            await session.start()
            why = await self._converse(websocket, session)
        except OSError as exc:
            why = f"could not start: {exc}"
        finally:
            status = await asyncio.shield(session.stop())
            minutes = (time.monotonic() - started) / 60
            ended = f"exit {status}" + (f": {session.last_words}" if status else "")
            say(f"web session {number}: ended after {minutes:.1f} min ({why}; {ended})")
            self._forget(number, session)
            await websocket.close()
        return websocket

    def _forget(self, number: int, session: Session) -> None:
        del self.sessions[number]
        for key in session.deliveries:
            self._deliveries.pop(key, None)

    async def _converse(self, websocket: web.WebSocketResponse, session: Session) -> str:
        """Bytes each way until one side ends, or no key came for `idle_seconds`: why."""
        last_key = [time.monotonic()]
        sides = [
            asyncio.ensure_future(self._to_browser(websocket, session)),
            asyncio.ensure_future(self._from_browser(websocket, session, last_key)),
            asyncio.ensure_future(self._idle(last_key)),
        ]
        try:
            done, _ = await asyncio.wait(sides, return_when=asyncio.FIRST_COMPLETED)
            return next(iter(done)).result()
        finally:
            for side in sides:
                side.cancel()
            await asyncio.gather(*sides, return_exceptions=True)

    async def _to_browser(self, websocket: web.WebSocketResponse, session: Session) -> str:
        async for kind, value in session.output():
            if kind == "data":
                await websocket.send_bytes(value)  # type: ignore[arg-type]
                if self.watch is not None:
                    self.watch(session, value)  # type: ignore[arg-type]
            elif kind == "started":  # an app of the session began: it is told the size
                await session.resize(*session.size)
            elif kind == "meta" and isinstance(value, dict):
                await self._meta(websocket, session, value)
        return "the dashboard quit"

    async def _meta(
        self, websocket: web.WebSocketResponse, session: Session, meta: dict[str, object]
    ) -> None:
        """A file to deliver is offered to the browser; an URL to open is not (server
        data never opens a page)."""
        if meta.get("type") != "deliver_file_start":
            return
        key = str(meta.get("key", ""))
        name = Path(str(meta.get("path", "wa-tui"))).name
        delivery = Delivery(key, name, str(meta.get("mime_type") or "application/octet-stream"))
        session.deliveries[key] = delivery
        self._deliveries[key] = (session, delivery)
        await websocket.send_str(json.dumps(["deliver_file_start", key]))

    async def _from_browser(
        self, websocket: web.WebSocketResponse, session: Session, last_key: list[float]
    ) -> str:
        async for message in websocket:
            if message.type is not WSMsgType.TEXT:
                return "the browser sent what is not the protocol"
            try:
                kind, *rest = json.loads(message.data)
                if kind == "stdin":
                    last_key[0] = time.monotonic()
                    await session.send_input(str(rest[0]))
                elif kind == "resize":
                    await session.resize(int(rest[0]["width"]), int(rest[0]["height"]))
                elif kind == "ping":
                    await websocket.send_json(["pong", str(rest[0])])
                elif kind in ("focus", "blur"):
                    await session.send_meta({"type": kind})
            except (ValueError, TypeError, KeyError, IndexError):
                return "the browser sent what is not the protocol"
        return "the tab closed"

    async def _idle(self, last_key: list[float]) -> str:
        while (left := last_key[0] + self.idle_seconds - time.monotonic()) > 0:
            await asyncio.sleep(left)
        return f"no key for {self.idle_seconds / 60:g} min"

    # -- what a session delivers ------------------------------------------------------

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A delivered file, once, chunk by chunk as the session hands it over."""
        found = self._deliveries.pop(request.match_info["key"], None)
        if found is None:
            raise web.HTTPNotFound(text="wa-tui: no such file, or it was delivered already\n")
        session, delivery = found
        response = web.StreamResponse(
            headers={
                "Content-Type": delivery.mime_type,
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(delivery.file_name)}",
            }
        )
        await response.prepare(request)
        with contextlib.suppress(TimeoutError, OSError, RuntimeError, AssertionError):
            while True:
                ask = {"type": "deliver_chunk_request", "key": delivery.key, "size": CHUNK}
                await session.send_meta(ask)
                chunk = await asyncio.wait_for(delivery.chunks.get(), DOWNLOAD_WAIT)
                if not chunk:
                    break
                await response.write(chunk)
        session.deliveries.pop(delivery.key, None)
        await response.write_eof()
        return response


def _with_policy(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def page(followed: str) -> str:
    """The page: the terminal, and what it says when its session ends. Its script builds
    the WebSocket's address from the page's own (wa_tui/web/static/page.js)."""
    name = html.escape(followed)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wa-tui · {name} · web view</title>
<link rel="stylesheet" href="static/terminal/css/xterm.css">
<link rel="stylesheet" href="static/wa-tui/page.css">
<script src="static/terminal/js/textual.js"></script>
</head>
<body>
<div class="dialog intro"><p>wa-tui · {name}<br>read-only web view of the recorder</p></div>
<div class="dialog ended"><p>The session ended: its dashboard quit, the server
stopped, or no key came for a long while.<br><a href="">Start a new one</a></p></div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="" data-font-size="16">
</div>
<script src="static/wa-tui/page.js"></script>
</body>
</html>
"""


def refusal_page(text: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>wa-tui · web view</title>
<link rel="stylesheet" href="static/wa-tui/page.css"></head>
<body><div class="dialog refused"><p>{html.escape(text)}</p></div></body></html>
"""


async def _no_icon(_request: web.Request) -> web.Response:
    return web.Response(status=204)  # a browser asks; nothing to show, nothing to log


def _number(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_names() -> frozenset[str]:
    names = {"localhost", socket.gethostname(), socket.getfqdn()}
    return frozenset(name.lower() for name in names if name)


def keys_config(keymap: Mapping[str, str]) -> str:
    """A session's config file: the server's `[keys]` alone (no deployment, no secret)."""
    import tomli_w

    return tomli_w.dumps({"keys": dict(keymap)}) if keymap else ""
