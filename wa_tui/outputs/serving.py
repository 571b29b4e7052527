"""Serving over HTTP(S) behind the web configuration until a signal says stop: the
exporter's and the recorder's metrics (`--listen`), and the dashboard in a browser
(`wa-tui web`). One `GuardedSite` puts every route behind TLS, client certificates and
basic auth, and reloads them on SIGHUP. Loaded when one of them runs, not when the
command line is parsed."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler

from wa_tui.outputs.web_config import (
    WebConfig,
    WebConfigError,
    apply_tls,
    read_web_config,
    server_context,
)
from wa_tui.outputs.web_guard import BasicAuth

WHO = web.RequestKey("who", str)  # set on each request let in: who it is, for the logs
# A certificate subject's attributes as `openssl x509 -subject` names them.
SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


class GuardedSite:
    """An aiohttp application served behind a web configuration (wa_tui/outputs/
    web_config.py): TLS (with client certificates, if it asks), and the users who may
    ask, on every route; `reload()` reads the file again."""

    def __init__(self, config: WebConfig | None = None) -> None:
        self.web = config or WebConfig()
        self._guard = BasicAuth(self.web.users)
        self._tls: ssl.SSLContext | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0  # once started

    @web.middleware
    async def authorised(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every path behind the web configuration's users, when it names any; who was
        let in (the user, or the client certificate's subject) kept on the request."""
        user = None
        if self._guard.required:
            authorization = request.headers.get("Authorization")
            user = await self._guard.user(authorization, request.remote or "")
            if user is None:
                return web.Response(
                    status=401, headers={"WWW-Authenticate": 'Basic realm="wa-tui"'}
                )
        request[WHO] = user or _certificate_subject(request) or "anyone"
        return await handler(request)

    async def start(self, app: web.Application, host: str, port: int) -> None:
        """Listening on `host`:`port` (0: any free port, then `self.port`)."""
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        if self.web.tls is not None:
            self._tls = server_context(self.web.tls, self.web.source)
        site = web.TCPSite(self._runner, host, port, ssl_context=self._tls)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._guard.close()

    async def reload(self) -> str:
        """The web configuration read again (SIGHUP), off the loop: a renewed certificate,
        new users. A file that does not load leaves the last good one in force. One line
        says which."""
        path = self.web.source
        try:
            config = await asyncio.to_thread(read_web_config, path)
            if (config.tls is None) != (self.web.tls is None):
                turned = "on" if config.tls else "off"
                raise WebConfigError(f"{path}: TLS turned {turned} needs a restart")
            if config.tls is not None and self._tls is not None:
                await asyncio.to_thread(apply_tls, self._tls, config.tls, path)  # next handshake
        except WebConfigError as exc:
            return f"{exc}: the last good web configuration stays in force"
        self._guard.use(config.users)
        self.web = config
        return f"{path}: web configuration reloaded"


def _certificate_subject(request: web.Request) -> str | None:
    """The verified client certificate's subject, as `CN=…,O=…` (None: no certificate)."""
    transport = request.transport
    certificate = transport.get_extra_info("peercert") if transport is not None else None
    if not certificate:
        return None
    parts = (
        f"{SHORT_NAMES.get(key, key)}={value}"
        for rdn in certificate.get("subject", ())
        for key, value in rdn
    )
    return ",".join(parts) or None


def stop_on_signals(
    site: GuardedSite | None, reload_web: bool, also: Callable[[], None] | None = None
) -> asyncio.Event:
    """An event SIGINT and SIGTERM set. SIGHUP reads the web configuration again (when
    there is one), off the loop, saying how it went in one line; and calls `also`."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    reloading: set[asyncio.Task[None]] = set()  # held until done (the loop holds weakly)

    async def reload(site: GuardedSite) -> None:
        print(f"wa-tui: {await site.reload()}", file=sys.stderr, flush=True)

    def on_sighup() -> None:
        if site is not None and reload_web:
            task = asyncio.create_task(reload(site))
            reloading.add(task)
            task.add_done_callback(reloading.discard)
        if also is not None:
            also()

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    return stop


class Served(Protocol):
    """What `start_serving` serves: the exporter, the web view."""

    site: GuardedSite

    async def serve(self, host: str, port: int, ready: asyncio.Event | None = None) -> None: ...

    def serving_line(self, address: str) -> str:
        """What it says once it listens at `address` (SCHEME://HOST:PORT)."""
        ...


async def start_serving(served: Served, host: str, port: int) -> asyncio.Task[None]:
    """`served` serving: the task, once it listens (and the line that says where), or
    the reason it could not."""
    ready = asyncio.Event()
    serving = asyncio.create_task(served.serve(host, port, ready))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
    if serving.done():
        waiting.cancel()
        serving.result()  # it failed to start: say why
    shown = f"[{host}]" if ":" in host else host
    print(served.serving_line(f"{served.site.web.scheme}://{shown}:{served.site.port}"), flush=True)
    return serving
