"""The admin API client: login, `/v1/support`, `/v1/health` and the stats, over one httpx
transport (connection pool) per deployment.

Every failure becomes a `WAError` whose `str()` is one line saying what happened and what
to do: the UI and the CLI show it as it is, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime

import httpx

from wa_tui import __version__
from wa_tui.api.answers import Answers
from wa_tui.api.auth import Credentials, TokenCache
from wa_tui.api.endpoints import ADMIN_ONLY, DB_STATS, HEALTH, LOGIN, SUPPORT
from wa_tui.api.in_flight import limit_for
from wa_tui.api.pinning import Pins
from wa_tui.api.tls_refusal import PinMismatch
from wa_tui.api.transport import make_transport
from wa_tui.core import clock
from wa_tui.core.errors import (
    ApiStatusError,
    AuthenticationError,
    CertificateRefused,
    ConnectionFailed,
    RequestTimeout,
    UnreadableAnswer,
    WAError,
)
from wa_tui.core.text import html_title
from wa_tui.core.thresholds import DEFAULT_MAX_IN_FLIGHT

# Far above any real answer (1,000 nodes is ~2 MB) and far below what would hurt us.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
PASSWORD_CHANGE_REQUIRED = 1024
# The API's errors that mean "too many" (1015) and "overloaded" (1016): a limit.
LIMITED_CODES = (1015, 1016)
# A limited login waits as the API asks, up to this long, this many times in all.
MAX_LOGIN_WAIT = 60.0
LOGIN_ATTEMPTS = 3


def _error_from_response(response: httpx.Response) -> ApiStatusError:
    """The API's error code and title (or a provider's proxy's message), or the status
    line of a proxy's HTML page. A 429, and a 503 the API sent as a limit (too many, or
    overloaded; or any with a Retry-After), say the API is limiting us: a 503 without
    them is a node not ready, or a balancer with no webapp behind it."""
    status = response.status_code
    code, title = None, response.reason_phrase or "error"
    said = _api_error(response.content)
    if said is not None:
        code, title = said
    else:
        page_title = html_title(response.text[:4096])
        if page_title:
            title = f"{page_title} (HTML page, likely from a proxy)"
    label = f"HTTP {status}" + (f", error {code}" if code is not None else "")
    hint = "the deployment is unhealthy or busy; retrying" if status >= 500 else "check the URL"
    retry_after = _retry_after(response)
    limited = status == 429 or (
        status == 503 and (code in LIMITED_CODES or retry_after is not None)
    )
    if limited:
        wait = f" in {retry_after:g}s as asked" if retry_after is not None else ", backing off"
        hint = f"the API is limiting us (too many requests or too many at once); retrying{wait}"
    return ApiStatusError(
        f"{label}: {str(title)[:200]}",
        hint,
        status=status,
        code=code if isinstance(code, int) else None,
        retry_after=retry_after,
        limited=limited,
    )


def _api_error(body: bytes) -> tuple[object, str] | None:
    """The error an answer's body says, if it says one: the API's `errors` array (code,
    title: details), or a provider's proxy's `{"meta": {"httpCode", "developerMessage"}}`."""
    if b'"errors"' not in body[:4096] and b"developerMessage" not in body[:4096]:
        return None  # not an error body: spared parsing a large answer
    try:
        document = json.loads(body)
        errors, meta = document.get("errors"), document.get("meta")
    except (ValueError, AttributeError):
        return None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        error = errors[0]
        title = str(error.get("title") or "error")
        details = error.get("details")
        return error.get("code"), f"{title}: {details}" if details else title
    if isinstance(meta, dict) and meta.get("developerMessage"):
        return meta.get("code"), str(meta["developerMessage"])
    return None


def _body(response: httpx.Response, refused: str, hint: str) -> bytes:
    """A 200's body; a 401 says `refused` and `hint`; any other status, what it was. A
    200 that carries only the API's `errors` is that error (a node not ready)."""
    if response.status_code == 401:
        raise AuthenticationError(refused, hint)
    if response.status_code != 200:
        raise _error_from_response(response)
    if _only_errors(response.content):
        raise _error_from_response(response)
    return response.content


def _only_errors(body: bytes) -> bool:
    """An answer that is only an error: its top level the API's `errors` (and `meta`),
    or a proxy's `meta` with an `httpCode` of 400 or more. Small, or it is an answer."""
    if len(body) > 65_536 or not body[:64].lstrip().startswith(b"{"):
        return False
    if b'"errors"' not in body and b"httpCode" not in body:
        return False
    try:
        document = json.loads(body)
    except ValueError:
        return False
    if not isinstance(document, dict) or not set(document) <= {"errors", "meta"}:
        return False
    meta = document.get("meta")
    failed = isinstance(meta, dict) and isinstance(meta.get("httpCode"), int)
    return bool(document.get("errors")) or (failed and meta["httpCode"] >= 400)  # type: ignore[index]


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (an HTTP date is rare from this API; read as absent)."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), 3600.0)


def _connect_hint(said: str) -> str:
    """What to do when no connection could be made: a certificate not trusted
    (self-signed is the webapp's default) says `wa-tui trust`."""
    if "CERTIFICATE_VERIFY_FAILED" in said or "certificate verify failed" in said:
        return (
            "the webapp's certificate is not trusted here (self-signed is its default): "
            "check it and keep it with `wa-tui trust`"
        )
    return "check the URL, the network and the TLS settings"


def _httpx_timeouts(seconds: float) -> dict[str, float | None]:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0)).as_dict()


class WAClient:
    """One deployment's admin API. Use as `async with WAClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 10.0,
        verify: bool | str | Pins = True,  # a CA bundle's path, or the pinned certificates
        expected_shards: int | None = None,
        token_cache: TokenCache | None = None,
        aiohttp_transport: bool = False,  # see wa_tui/api/transport.py
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        db_stats_timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        # `/v1/stats/db` "can take a long time" on a large database: its own deadline.
        self.db_stats_timeout = db_stats_timeout
        self.in_flight = limit_for(self.base_url, max_in_flight)
        self.expected_shards = expected_shards
        self.token_cache = token_cache
        self.token = credentials.token or self._cached_token()
        self._login_lock = asyncio.Lock()
        # What a request in flight waits for besides the deployment (a password command).
        self.waiting_for: str | None = None
        self._transport = make_transport(self.base_url, verify, aiohttp_transport)
        self._timeouts = _httpx_timeouts(timeout)
        self._db_stats_timeouts = _httpx_timeouts(db_stats_timeout)
        self._urls: dict[str, httpx.URL] = {}  # by path: parsed once, not every poll
        self._headers = {
            "User-Agent": f"wa-tui/{__version__}",
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",  # answers are read through httpx's decoders
        }

    async def __aenter__(self) -> WAClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- requests ---------------------------------------------------------------------

    async def _send(
        self, method: str, path: str, headers: dict[str, str], json_body: object = None
    ) -> httpx.Response:
        """One request, in a slot of the deployment's in-flight limit (waiting for one
        is not the deployment's slowness: the deadline starts once it is sent)."""
        async with self.in_flight.slot():
            return await self._exchange(method, path, headers, json_body)

    async def _exchange(
        self, method: str, path: str, headers: dict[str, str], json_body: object
    ) -> httpx.Response:
        """One request with a deadline on the whole exchange and a cap on the body size.
        Returns the response fully read. Straight to the transport: an httpx.AsyncClient
        would add cookies, auth flows and redirects this API never uses, and their CPU
        (benchmarks/README.md)."""
        url = self._urls.get(path) or self._urls.setdefault(path, httpx.URL(self.base_url + path))
        slow = path == DB_STATS
        timeout = self.db_stats_timeout if slow else self.timeout
        request = httpx.Request(
            method,
            url,
            headers={**self._headers, **headers},
            json=json_body,
            extensions={"timeout": self._db_stats_timeouts if slow else self._timeouts},
        )
        try:
            async with asyncio.timeout(timeout):
                streamed = await self._transport.handle_async_request(request)
                streamed.request = request
                try:
                    body = await self._read_capped(streamed)
                finally:
                    await streamed.aclose()
                return httpx.Response(
                    streamed.status_code,
                    headers=streamed.headers,
                    content=body,
                    request=request,
                    extensions={"reason_phrase": streamed.reason_phrase.encode()},
                )
        except TimeoutError as exc:
            if slow:
                raise RequestTimeout(
                    f"no answer from {self.base_url}{path} within {timeout:g}s",
                    "raise db_stats_timeout for a large database",
                ) from exc
            raise RequestTimeout(
                f"no answer from {self.base_url} within {timeout:g}s",
                "the deployment is slow or unreachable; retrying",
            ) from exc
        except httpx.TimeoutException as exc:
            raise RequestTimeout(
                f"timed out talking to {self.base_url} ({type(exc).__name__})",
                "the deployment is slow or unreachable; retrying",
            ) from exc
        except PinMismatch as exc:
            raise CertificateRefused(
                f"{self.base_url} presented a certificate not trusted: {exc.presented} "
                f"(trusted: {exc.pins.said()})",
                "nothing was sent; if it was rotated, check it and run `wa-tui trust` again",
            ) from exc
        except httpx.ConnectError as exc:
            raise ConnectionFailed(
                f"cannot reach {self.base_url}: {str(exc) or type(exc).__name__}",
                _connect_hint(str(exc)),
            ) from exc
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"connection to {self.base_url} broke mid-answer: {str(exc) or type(exc).__name__}",
                "the deployment or a proxy dropped it; retrying",
            ) from exc

    @staticmethod
    async def _read_capped(response: httpx.Response) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise UnreadableAnswer(
                    f"answer larger than {MAX_ANSWER_BYTES // 2**20} MiB, refused",
                    "no real deployment answers that much; check the URL",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _cached_token(self) -> str | None:
        if self.token_cache is None or not self.credentials.username:
            return None
        return self.token_cache.get(self.base_url, self.credentials.username)

    async def login(self) -> str:
        username, password = self.credentials.username, self.credentials.password
        if not username or password is None:
            raise AuthenticationError(
                "no credentials to log in with",
                "set WA_TUI_USERNAME and WA_TUI_PASSWORD, or WA_TUI_TOKEN",
            )
        # Asked for now and dropped after the request: wa-tui keeps no password.
        self.waiting_for = f"logging in: waiting for {password.what}"
        try:
            secret = await password.read()
        finally:
            self.waiting_for = None
        basic = base64.b64encode(f"{username}:{secret}".encode()).decode()
        response = await self._send_login(basic)
        try:
            user = json.loads(response.content)["users"][0]
            self.token = str(user["token"])
            expires = datetime.fromisoformat(str(user["expires_after"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise UnreadableAnswer(
                "login answered without a token", "is this a WhatsApp Business API URL?"
            ) from exc
        if self.token_cache is not None:
            # A file written: off the loop, which other deployments share.
            await asyncio.to_thread(
                self.token_cache.put, self.base_url, username, self.token, expires
            )
        return self.token

    async def _send_login(self, basic: str) -> httpx.Response:
        """The login; limited (429, or the API's 503) with a Retry-After it waits as asked
        and tries again, LOGIN_ATTEMPTS times in all: never a burst of retries."""
        attempts = 1
        while True:
            response = await self._send("POST", LOGIN, {"Authorization": f"Basic {basic}"}, {})
            if response.status_code == 200:
                return response
            error = self._login_error(response)
            limited = isinstance(error, ApiStatusError) and error.limited
            wait = error.retry_after if limited else None  # type: ignore[union-attr]
            if wait is None or wait > MAX_LOGIN_WAIT or attempts >= LOGIN_ATTEMPTS:
                raise error
            attempts += 1
            self.waiting_for = f"logging in: the API asked to wait {wait:g}s"
            try:
                await asyncio.sleep(wait)
            finally:
                self.waiting_for = None

    @staticmethod
    def _login_error(response: httpx.Response) -> WAError:
        error = _error_from_response(response)
        if error.code == PASSWORD_CHANGE_REQUIRED:
            return AuthenticationError(
                "login refused: the password must be changed first (error 1024)",
                "log in once with the web UI or curl and set a new password",
            )
        if response.status_code in (401, 403):
            return AuthenticationError(
                f"login refused ({error.what})", "check the username and password"
            )
        return error

    async def get_body(self, path: str, api_key_accepted: bool = False) -> bytes:
        """GET `path` with the bearer token; logs in first, and once again after a 401.
        With `api_key_accepted` and an API key configured, with the key instead."""
        if api_key_accepted and self.credentials.api_key:
            return await self._get_with_api_key(path)
        if self.token is None:
            await self._login_once(stale_token=None)
        sent_with = self.token
        response = await self._send("GET", path, self._bearer())
        if response.status_code == 401 and self.credentials.can_log_in:
            await self._login_once(stale_token=sent_with)
            response = await self._send("GET", path, self._bearer())
        hint = "set a fresh WA_TUI_TOKEN, or WA_TUI_USERNAME and WA_TUI_PASSWORD"
        return _body(response, f"token refused for {path} (HTTP 401)", hint)

    async def _get_with_api_key(self, path: str) -> bytes:
        headers = {"Authorization": f"Apikey {self.credentials.api_key}"}
        response = await self._send("GET", path, headers)
        hint = "check the key in api_key_env / WA_TUI_API_KEY (the webapp's WA_API_KEY)"
        return _body(response, f"API key refused for {path} (HTTP 401)", hint)

    async def _login_once(self, stale_token: str | None) -> None:
        """Log in unless a concurrent request already replaced `stale_token`."""
        async with self._login_lock:
            if self.token == stale_token:
                await self.login()

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def fetch_answers(self, stats: tuple[str, ...] = ()) -> Answers:
        """Support, health and the `stats` paths together, as sent; only support
        failing fails the poll."""
        paths = (SUPPORT, HEALTH, *stats)
        bodies = await asyncio.gather(
            *(self.get_body(path, api_key_accepted=path not in ADMIN_ONLY) for path in paths),
            return_exceptions=True,
        )
        for body in bodies:
            if isinstance(body, BaseException) and not isinstance(body, WAError):
                raise body
        support, health, *rest = bodies
        if isinstance(support, BaseException):
            raise support
        answered = dict(zip(stats, rest, strict=True))
        return Answers(support, health, clock.now(), self.expected_shards, answered)  # type: ignore[arg-type]

    async def fetch_paths(self, paths: tuple[str, ...]) -> dict[str, bytes | WAError]:
        """Each of `paths` with the admin's token: its answer, or why there is none."""
        bodies = await asyncio.gather(*(self.get_body(p) for p in paths), return_exceptions=True)
        for body in bodies:
            if isinstance(body, BaseException) and not isinstance(body, WAError):
                raise body
        return dict(zip(paths, bodies, strict=True))  # type: ignore[arg-type]
