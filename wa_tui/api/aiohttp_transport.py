"""An httpx transport that carries requests over aiohttp's connection pool (chosen in
wa_tui/api/transport.py, which says when).

httpx stays the client (the same requests, responses, errors and messages); only the
connection handling underneath changes. aiohttp parses HTTP in C and needs no task group
per request: a request costs less than half the CPU it costs through httpx's own
transport (benchmarks/README.md). aiohttp's errors become httpx's, so the client reports
them in the same words.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx

from wa_tui.api.pinning import PREFIX, Pins, fingerprint_of
from wa_tui.api.tls_refusal import PinMismatch


class PinnedCertificate(aiohttp.Fingerprint):
    """aiohttp's fingerprint check (on the handshake, before the request is written),
    for any of several pins."""

    def __init__(self, pins: Pins) -> None:
        self.pins = pins
        digests = {bytes.fromhex(pin.removeprefix(PREFIX)) for pin in pins}
        super().__init__(next(iter(digests)))
        self._digests = digests

    def check(self, transport: asyncio.Transport) -> None:
        tls = transport.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if der is None or hashlib.sha256(der).digest() not in self._digests:
            presented = fingerprint_of(der) if der else "none"
            host, port, *_ = transport.get_extra_info("peername") or ("?", 0)
            raise _Refused(presented, self.pins, host, port)


class _Refused(aiohttp.ServerFingerprintMismatch):
    def __init__(self, presented: str, pins: Pins, host: str, port: int) -> None:
        super().__init__(b"", b"", host, port)
        self.presented, self.pins = presented, pins


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """aiohttp's exceptions as the httpx ones the client already tells apart."""
    try:
        yield
    except _Refused as exc:
        raise PinMismatch(exc.presented, exc.pins) from exc
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timeout") from exc
    except (aiohttp.SocketTimeoutError, TimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timeout") from exc
    except aiohttp.ClientConnectorError as exc:  # refused, unresolvable, TLS refused
        raise httpx.ConnectError(str(exc)) from exc
    except aiohttp.ClientResponseError as exc:  # not HTTP: a bad status line or header
        raise httpx.RemoteProtocolError(exc.message or type(exc).__name__) from exc
    except aiohttp.ClientError as exc:  # dropped, reset or cut short mid-answer
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # A body read to its end gives the connection back to the pool; one left
        # unread (an answer refused as too large) closes it.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx requests over one aiohttp session, made at the first request (it belongs to
    the event loop running then). At most `connections` at once to the deployment; the
    rest wait their turn, so hundreds of deployments keep hundreds of sockets, not
    thousands."""

    def __init__(
        self,
        verify: ssl.SSLContext | bool | PinnedCertificate,
        keepalive_seconds: float,
        connections: int = 1,
    ) -> None:
        self._ssl = verify
        self._keepalive_seconds = keepalive_seconds
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                ssl=self._ssl, limit=self._connections, keepalive_timeout=self._keepalive_seconds
            )
            # httpx keeps the cookies; aiohttp's own jar would only cost time.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        with _httpx_errors():
            response = await self._session_now().request(
                request.method,
                str(request.url),
                headers=request.headers,
                data=request.content or None,
                allow_redirects=False,
                # The connect timeout alone: the client's deadline covers the whole
                # exchange, and a read timeout would be moved with every chunk read.
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=timeout.get("connect"), connect=timeout.get("pool")
                ),
            )
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            extensions={"reason_phrase": (response.reason or "").encode()},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
