"""The simulator's HTTP(S) server: the admin API of a deployment, on 127.0.0.1.

aiohttp serves it (see README, design notes): it runs on asyncio like the client, gives
real sockets, TLS from an `ssl.SSLContext`, and streamed bodies for fault injection.
The server runs its own event loop in a thread, so the app or a test drives it over real
TCP exactly as it would a deployment.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import secrets
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from wa_tui.api.endpoints import SETTINGS, WEBHOOK_CA
from wa_tui.core import clock
from wa_tui.simulator.deployment import SimDeployment, error_body, meta
from wa_tui.simulator.faults import Fault, FaultPlan
from wa_tui.simulator.node_logs import NodeLogs

log = logging.getLogger(__name__)

TOKEN_LIFETIME = timedelta(days=7)
HUGE_BYTES = 40 * 1024 * 1024

_ERROR_ANSWERS = {
    Fault.HTTP_500: (500, 1014, "Internal error"),
    Fault.HTTP_503: (503, 1011, "Service not ready"),
}
_HTML_PAGES = {
    Fault.HTML_502: (502, "Bad Gateway"),
    Fault.HTML_503: (503, "Service Temporarily Unavailable"),
    Fault.HTML_504: (504, "Gateway Time-out"),
}


def _html_page(status: int, reason: str) -> str:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


async def _write_faulty_body(fault: Fault, response: web.StreamResponse, body: bytes) -> None:
    if fault is Fault.TRUNCATED:
        await response.write(body[: len(body) // 2])
    elif fault is Fault.HUGE:
        await response.write(b'{"support": {"padding": "')
        chunk = b"A" * 65536
        for _ in range(HUGE_BYTES // len(chunk)):
            await response.write(chunk)
        await response.write(b'"}}')
    else:  # DRIP: one byte at a time, far slower than any client will wait for
        for byte in body:
            await response.write(bytes([byte]))
            await asyncio.sleep(0.05)


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), as a crashed peer would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _json_error(status: int, code: int, title: str, details: str | None = None) -> web.Response:
    return web.json_response(error_body(code, title, details), status=status)


class SimulatorServer:
    """A simulated deployment served over HTTP(S) on 127.0.0.1, in a thread of its own."""

    def __init__(
        self,
        deployment: SimDeployment,
        *,
        username: str = "admin",
        password: str | None = None,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        story: Iterator[str] | None = None,
        step_seconds: float = 4.0,
        password_change_required: bool = False,
        faults: FaultPlan | None = None,
        node_logs: NodeLogs | None = None,
        balance: str = "request",
        concurrency_limit: int | None = None,
        request_seconds: float = 0.0,
        limited_logins: int = 0,
        limited_paths: frozenset[str] = frozenset(),
        db_stats_seconds: float = 0.0,
    ) -> None:
        self.deployment = deployment
        # Which webapp answers `/metrics` when there are several (Traffic.webapps): the
        # next one for each request (round robin), or the one a connection was given.
        self.balance = balance
        self._balanced = 0
        self._webapp_of_connection: dict[int, int] = {}
        self.metrics_answered_by: list[int] = []  # which webapp answered each /metrics
        # The API's limits: past `concurrency_limit` requests in flight it answers 503;
        # each answer takes `request_seconds` (so requests overlap as on a busy one);
        # the next `limited_logins` logins are answered 429 with Retry-After: 1.
        self.concurrency_limit = concurrency_limit
        self.request_seconds = request_seconds
        self.limited_logins = limited_logins
        self.limited_paths = limited_paths  # always answered 429 (a limited endpoint)
        self.db_stats_seconds = db_stats_seconds  # a large database: its stats come late
        self.in_flight = 0
        self.most_in_flight = 0
        self.limited_answers = 0  # 503 and 429 answered for the limits above
        self.node_logs = node_logs  # the demo's container logs, written while it serves
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        # The webapp's WA_API_KEY: health, stats and metrics also take `Apikey KEY`.
        self.api_key = secrets.token_urlsafe(24)
        self.api_key_requests = 0
        self.port = port
        self.ssl_context = ssl_context
        self.story = story
        self.step_seconds = step_seconds
        # A fresh install: login answers error 1024 until a new password is set.
        self.password_change_required = password_change_required
        self.tokens: dict[str, datetime] = {}
        self.logins = 0
        self.requests: dict[str, int] = {}
        self.faults = faults or FaultPlan()
        self.story_lines: list[str] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self._run, name="wa-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failure is not None:
            raise RuntimeError(f"simulator failed to start: {self._failure}")
        return self

    def stop(self) -> None:
        """Stop serving; calling it again does nothing."""
        if self._thread is None:
            return
        if self._loop and self._stop and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._failure = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=self.ssl_context)
        await site.start()
        self.port = runner.addresses[0][1]
        await self.deployment.webhook.start()
        tasks = [asyncio.create_task(self._tell_story())] if self.story else []
        if self.node_logs is not None:
            tasks.append(asyncio.create_task(self.node_logs.run()))
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await runner.cleanup()
            await self.deployment.webhook.stop()

    async def _tell_story(self) -> None:
        assert self.story is not None
        while True:
            await asyncio.sleep(self.step_seconds)
            self.advance()

    def advance(self) -> str:
        """Apply the story's next step now (the timeline calls it; tests may too)."""
        assert self.story is not None
        line = next(self.story)
        self.story_lines.append(line)
        log.info("story: %s", line)
        return line

    # -- tokens -----------------------------------------------------------------------

    def issue_token(self) -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        expires = clock.now() + TOKEN_LIFETIME
        self.tokens[token] = expires
        return token, expires

    def revoke_all_tokens(self) -> None:
        self.tokens.clear()

    def _token_valid(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
        return expires is not None and expires > clock.now()

    def _basic_credentials_ok(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(
            password, self.password
        )

    # -- routes -----------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._count_and_map_errors])
        app.router.add_post("/v1/users/login", self._login)
        app.router.add_post("/v1/users/logout", self._logout)
        app.router.add_get("/v1/support", self._support)
        app.router.add_get("/v1/health", self._health)
        app.router.add_get("/v1/stats/app", self._app_stats)
        app.router.add_get("/v1/stats/db", self._db_stats)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get(SETTINGS, self._settings)
        app.router.add_get(WEBHOOK_CA, self._webhook_ca)
        return app

    @web.middleware
    async def _count_and_map_errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests[request.path] = self.requests.get(request.path, 0) + 1
        self._balanced += 1  # a balancer's round robin counts every request
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.concurrency_limit is not None and self.in_flight > self.concurrency_limit:
                self.limited_answers += 1
                return _json_error(503, 1015, "Too many requests", "Concurrency limit reached.")
            if request.path in self.limited_paths:
                self.limited_answers += 1
                answer = _json_error(429, 1015, "Too many requests", "Rate limit hit.")
                answer.headers["Retry-After"] = "1"
                return answer
            if self.request_seconds:
                await asyncio.sleep(self.request_seconds)
            return await handler(request)
        except web.HTTPNotFound:
            return _json_error(404, 1006, "Resource not found", f"no route {request.path}")
        except web.HTTPMethodNotAllowed:
            return _json_error(405, 1006, "Resource not found", f"{request.method} not allowed")
        finally:
            self.in_flight -= 1

    async def _login(self, request: web.Request) -> web.Response:
        if self.limited_logins > 0:
            self.limited_logins -= 1
            self.limited_answers += 1
            answer = _json_error(429, 1015, "Too many requests", "Too many logins.")
            answer.headers["Retry-After"] = "1"
            return answer
        if not self._basic_credentials_ok(request):
            return _json_error(401, 1005, "Access denied", "Invalid credentials.")
        if self.password_change_required:
            return _json_error(400, 1024, "Password Change Required", "Set new_password.")
        self.logins += 1
        token, expires = self.issue_token()
        users = [{"token": token, "expires_after": expires.strftime("%Y-%m-%d %H:%M:%S+00:00")}]
        return web.json_response({"users": users, "meta": meta()})

    async def _logout(self, request: web.Request) -> web.Response:
        if not self._token_valid(request):
            return _json_error(401, 1005, "Access denied", "Invalid or expired token.")
        self.tokens.pop(request.headers["Authorization"].partition(" ")[2], None)
        return web.json_response({"meta": meta()})

    async def _support(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, self.deployment.support_payload)

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, self.deployment.health_payload, api_key=True)

    async def _app_stats(self, request: web.Request) -> web.StreamResponse:
        return await self._stats(request, self.deployment.app_stats_payload)

    async def _db_stats(self, request: web.Request) -> web.StreamResponse:
        if self.db_stats_seconds:
            await asyncio.sleep(self.db_stats_seconds)
        return await self._stats(request, self.deployment.db_stats_payload)

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        webapp = self._webapp_for(request) % len(self.deployment.traffic.webapps)
        self.metrics_answered_by.append(webapp)
        return await self._stats(request, lambda: self.deployment.metrics_payload(webapp))

    def _webapp_for(self, request: web.Request) -> int:
        """The webapp behind the balancer that answers `request`."""
        if self.balance == "request":
            return self._balanced
        connection = id(request.transport)
        if connection not in self._webapp_of_connection:
            if len(self._webapp_of_connection) > 10_000:  # connections long closed
                self._webapp_of_connection.clear()
            self._webapp_of_connection[connection] = len(self._webapp_of_connection)
        return self._webapp_of_connection[connection]

    async def _stats(self, request: web.Request, payload: Callable[[], Any]) -> web.StreamResponse:
        if not self.deployment.serves_stats:  # a build older than v2.21.3
            return _json_error(404, 1006, "Resource not found", f"no route {request.path}")
        return await self._answer(request, payload, api_key=True)

    # The settings and the CA take no faults: the fault plan is the support answer's.
    async def _settings(self, request: web.Request) -> web.StreamResponse:
        if not self._token_valid(request):
            return _json_error(401, 1005, "Access denied", "Invalid or expired token.")
        if not self.deployment.serves_settings:
            return _json_error(403, 1005, "Access denied", "Insufficient privileges.")
        return web.json_response(self.deployment.settings_payload())

    async def _webhook_ca(self, request: web.Request) -> web.StreamResponse:
        if not self._token_valid(request):
            return _json_error(401, 1005, "Access denied", "Invalid or expired token.")
        if not self.deployment.serves_settings:
            return _json_error(404, 1006, "Resource not found", "No webhook CA uploaded.")
        return web.Response(body=self.deployment.webhook.ca_pem, content_type="text/plain")

    def _api_key_valid(self, request: web.Request) -> bool:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "apikey" and secrets.compare_digest(key, self.api_key)

    async def _answer(
        self, request: web.Request, payload: Callable[[], Any], api_key: bool = False
    ) -> web.StreamResponse:
        fault = self.faults.take()
        if fault is Fault.REVOKED:
            self.revoke_all_tokens()
        by_key = api_key and self._api_key_valid(request)
        self.api_key_requests += by_key
        if not (by_key or self._token_valid(request)):
            return _json_error(401, 1005, "Access denied", "Invalid or expired token.")
        if fault is None or fault is Fault.REVOKED:
            return web.json_response(payload())
        return await self._inject(fault, request, payload)

    async def _inject(
        self, fault: Fault, request: web.Request, payload: Callable[[], Any]
    ) -> web.StreamResponse:
        """Answer `request` with `fault`, as a broken deployment or proxy would."""
        assert self._stop is not None
        if fault is Fault.LATENCY:
            await asyncio.sleep(self.faults.latency)
            return web.json_response(payload())
        if fault is Fault.HANG:
            with contextlib.suppress(TimeoutError):  # until the server stops, at most 5 min
                await asyncio.wait_for(self._stop.wait(), timeout=300)
            return web.Response(status=504)
        if fault is Fault.RESET:
            _reset(request)
            return web.Response()
        if fault in _ERROR_ANSWERS:
            status, code, title = _ERROR_ANSWERS[fault]
            return _json_error(status, code, title)
        if fault in _HTML_PAGES:
            status, reason = _HTML_PAGES[fault]
            return web.Response(
                status=status, text=_html_page(status, reason), content_type="text/html"
            )
        if fault is Fault.PROXY_500:
            said = {"httpCode": 500, "developerMessage": "Upstream WhatsApp API timed out"}
            return web.json_response({"meta": said}, status=500)
        if fault is Fault.ERRORS_200:
            details = "Wacore is not instantiated. Please check wacore log for details."
            return web.json_response(error_body(1011, "Service not ready", details))
        if fault is Fault.RATE_LIMITED:
            answer = _json_error(429, 1015, "Too many requests", "Rate limit hit.")
            answer.headers["Retry-After"] = str(self.faults.retry_after)
            return answer
        if fault is Fault.MALFORMED:
            return web.Response(
                body=b'{"support": {"wa-master-a:7c1e', content_type="application/json"
            )
        if fault is Fault.EMPTY:
            return web.Response(body=b"", content_type="application/json")
        if fault is Fault.WRONG_SHAPE:
            return web.json_response(
                {"data": ["not", "the", "documented", "shape"], "meta": meta()}
            )
        return await self._stream(fault, request, payload)

    async def _stream(
        self, fault: Fault, request: web.Request, payload: Callable[[], Any]
    ) -> web.StreamResponse:
        """Faults in the body itself: truncated, huge, dripped."""
        body = json.dumps(payload()).encode()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if fault is Fault.TRUNCATED:
            response.content_length = len(body)
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):  # the client gave up: as intended
            await _write_faulty_body(fault, response, body)
        if fault is Fault.TRUNCATED:
            _reset(request)
        return response
