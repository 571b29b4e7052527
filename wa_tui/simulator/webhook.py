"""The simulated deployment's webhook: an HTTPS server on 127.0.0.1 that callbacks would go
to, in whichever state the story (or `simulate --webhook`) puts it.

Its certificate is signed by a CA of its own, which the deployment holds as its uploaded
webhook CA (`/v1/certificates/webhooks/ca`), so a healthy webhook verifies only for a
client that trusts that CA, as on a real deployment with a self-signed webhook. The
states that break it: a certificate expired, from a CA nobody trusts, or for another
name; answers slow or 503; nothing listening; no URL set; a plain http URL. It counts the
requests it receives: the automatic probe must send none.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from datetime import timedelta
from enum import StrEnum

import trustme
from aiohttp import web

from wa_tui.core import clock

PATH = "/webhook"
HOST = "localhost"  # a name, so the handshake carries SNI and names can mismatch
SLOW_ANSWER_SECONDS = 1.5
EXPIRING_IN = timedelta(days=5)
VALID_FOR = timedelta(days=90)


class WebhookState(StrEnum):
    OK = "ok"
    EXPIRED = "expired"
    EXPIRING = "expiring"  # in EXPIRING_IN
    UNTRUSTED = "untrusted"
    WRONGHOST = "wronghost"
    SLOW = "slow"
    HTTP_503 = "503"
    DOWN = "down"
    UNSET = "unset"
    HTTP = "http"


def _context(leaf: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


class SimWebhook:
    """The webhook, served from the simulator's event loop (see SimulatorServer)."""

    def __init__(self, state: WebhookState = WebhookState.OK) -> None:
        self._state = state
        self.pinned = False  # `simulate --webhook STATE`: the story leaves it be
        self.requests = 0  # every HTTP request received, of any method
        self.authority = trustme.CA(organization_name="wa-tui simulated webhook CA")
        stranger = trustme.CA(organization_name="a CA nobody uploaded")
        now = clock.now()
        self._contexts = {
            WebhookState.EXPIRED: _context(
                self.authority.issue_cert(
                    HOST, not_before=now - timedelta(days=400), not_after=now - timedelta(days=3)
                )
            ),
            WebhookState.EXPIRING: _context(
                self.authority.issue_cert(HOST, not_after=now + EXPIRING_IN)
            ),
            WebhookState.UNTRUSTED: _context(stranger.issue_cert(HOST)),
            WebhookState.WRONGHOST: _context(self.authority.issue_cert("hooks.elsewhere.example")),
        }
        self._tls_port = self._http_port = self._closed_port = 0
        self._runner: web.AppRunner | None = None

    @property
    def state(self) -> WebhookState:
        return self._state

    @state.setter
    def state(self, state: WebhookState) -> None:
        if not self.pinned:
            self._state = state

    def pin(self, state: WebhookState) -> None:
        self._state, self.pinned = state, True

    @property
    def ca_pem(self) -> bytes:
        return self.authority.cert_pem.bytes()

    def url(self) -> str:
        """What the settings name as the webhook, in the current state."""
        if self.state is WebhookState.UNSET:
            return ""
        if self.state is WebhookState.HTTP:
            return f"http://{HOST}:{self._http_port}{PATH}"
        port = self._closed_port if self.state is WebhookState.DOWN else self._tls_port
        return f"https://{HOST}:{port}{PATH}"

    def _choose_certificate(self, ssl_object: ssl.SSLObject, *_: object) -> None:
        """The certificate of the current state (the good one is the site's own)."""
        broken = self._contexts.get(self.state)
        if broken is not None:
            ssl_object.context = broken

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", PATH, self._answer)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        # A certificate of a usual lifetime (90 days), not trustme's thousand years.
        tls = _context(
            self.authority.issue_cert(HOST, "127.0.0.1", not_after=clock.now() + VALID_FOR)
        )
        tls.sni_callback = self._choose_certificate
        secure = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        plain = web.TCPSite(self._runner, "127.0.0.1", 0)
        await secure.start()
        await plain.start()
        (_, self._tls_port), (_, self._http_port) = self._runner.addresses[:2]
        self._closed_port = _a_closed_port()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        self.requests += 1
        await request.read()
        if self.state is WebhookState.HTTP_503:
            page = "<html><head><title>503 Service Unavailable</title></head></html>"
            return web.Response(status=503, text=page, content_type="text/html")
        if self.state is WebhookState.SLOW:
            await asyncio.sleep(SLOW_ANSWER_SECONDS)
        return web.json_response({"ok": True})


def _a_closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
