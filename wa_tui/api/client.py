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
from wa_tui.api.endpoints import ADMIN_ONLY, HEALTH, LOGIN, SUPPORT
from wa_tui.api.transport import make_transport
from wa_tui.core import clock
from wa_tui.core.errors import (
    ApiStatusError,
    AuthenticationError,
    ConnectionFailed,
    RequestTimeout,
    UnreadableAnswer,
    WAError,
)
from wa_tui.core.text import html_title

# Far above any real answer (1,000 nodes is ~2 MB) and far below what would hurt us.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
PASSWORD_CHANGE_REQUIRED = 1024


def _error_from_response(response: httpx.Response) -> ApiStatusError:
    """The API's error code and title, or the status line of a proxy's HTML page."""
    status = response.status_code
    code, title = None, response.reason_phrase or "error"
    try:
        error = response.json()["errors"][0]
        code, title = error.get("code"), error.get("title") or title
        if error.get("details"):
            title = f"{title}: {error['details']}"
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        page_title = html_title(response.text[:4096])
        if page_title:
            title = f"{page_title} (HTML page, likely from a proxy)"
    label = f"HTTP {status}" + (f", error {code}" if code is not None else "")
    hint = "the deployment is unhealthy or busy; retrying" if status >= 500 else "check the URL"
    retry_after = _retry_after(response)
    if status == 429 or retry_after is not None:
        wait = f" in {retry_after:g}s as asked" if retry_after is not None else " later"
        hint = f"the API is rate-limiting us; retrying{wait}"
    return ApiStatusError(
        f"{label}: {str(title)[:200]}",
        hint,
        status=status,
        code=code if isinstance(code, int) else None,
        retry_after=retry_after,
    )


def _body(response: httpx.Response, refused: str, hint: str) -> bytes:
    """A 200's body; a 401 says `refused` and `hint`; any other status, what it was."""
    if response.status_code == 401:
        raise AuthenticationError(refused, hint)
    if response.status_code != 200:
        raise _error_from_response(response)
    return response.content


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (an HTTP date is rare from this API; read as absent)."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), 3600.0)


class WAClient:
    """One deployment's admin API. Use as `async with WAClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 10.0,
        verify: bool | str = True,  # a str is a CA bundle to verify against
        expected_shards: int | None = None,
        token_cache: TokenCache | None = None,
        aiohttp_transport: bool = False,  # see wa_tui/api/transport.py
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.expected_shards = expected_shards
        self.token_cache = token_cache
        self.token = credentials.token or self._cached_token()
        self._login_lock = asyncio.Lock()
        # What a request in flight waits for besides the deployment (a password command).
        self.waiting_for: str | None = None
        self._transport = make_transport(self.base_url, verify, aiohttp_transport)
        self._timeouts = httpx.Timeout(timeout, connect=min(timeout, 5.0)).as_dict()
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
        """One request with a deadline on the whole exchange and a cap on the body size.
        Returns the response fully read. Straight to the transport: an httpx.AsyncClient
        would add cookies, auth flows and redirects this API never uses, and their CPU
        (benchmarks/README.md)."""
        url = self._urls.get(path) or self._urls.setdefault(path, httpx.URL(self.base_url + path))
        request = httpx.Request(
            method,
            url,
            headers={**self._headers, **headers},
            json=json_body,
            extensions={"timeout": self._timeouts},
        )
        try:
            async with asyncio.timeout(self.timeout):
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
            raise RequestTimeout(
                f"no answer from {self.base_url} within {self.timeout:g}s",
                "the deployment is slow or unreachable; retrying",
            ) from exc
        except httpx.TimeoutException as exc:
            raise RequestTimeout(
                f"timed out talking to {self.base_url} ({type(exc).__name__})",
                "the deployment is slow or unreachable; retrying",
            ) from exc
        except httpx.ConnectError as exc:
            raise ConnectionFailed(
                f"cannot reach {self.base_url}: {str(exc) or type(exc).__name__}",
                "check the URL, the network and the TLS settings",
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
        response = await self._send(
            "POST", LOGIN, {"Authorization": f"Basic {basic}"}, json_body={}
        )
        if response.status_code != 200:
            raise self._login_error(response)
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
