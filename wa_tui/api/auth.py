"""How wa-tui authenticates: credentials, where a password comes from, the token cache.

A password is never stored by wa-tui: a `PasswordSource` is asked for it at each login
(an environment variable read then, a command run then, or what the user typed at the
login screen). Asking is async: a password command runs as a subprocess the event loop
waits on, never in it, so every other deployment on the loop is polled meanwhile.
Tokens are cached per deployment URL and user in a 0600 file, so a restart
does not log in again (each login makes a token that lives 7 days on the server).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import signal
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from wa_tui.core import clock
from wa_tui.core.errors import AuthenticationError
from wa_tui.core.processes import signal_group

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PasswordSource:
    """Where a login's password comes from: `what` it is (said on the status line while
    it is awaited), and `read`, which gives it."""

    what: str
    read: Callable[[], Awaitable[str]]


# A token this close to its end is not reused: it could expire mid-poll.
EXPIRY_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Credentials:
    """A bearer token, and/or a username and a way to get the password to log in with."""

    username: str | None = None
    password: PasswordSource | None = None
    token: str | None = None
    # The webapp's API key: health, stats and metrics are asked with it when it is set.
    api_key: str | None = None

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Credentials(username={self.username!r}, password=***, token=***, api_key=***)"

    @classmethod
    def with_password(cls, username: str, password: str) -> Credentials:
        async def given() -> str:
            return password

        return cls(username=username, password=PasswordSource("the password given", given))

    @property
    def can_log_in(self) -> bool:
        return bool(self.username) and self.password is not None


def password_from_env(variable: str) -> PasswordSource:
    async def read() -> str:
        value = os.environ.get(variable)
        if not value:
            raise AuthenticationError(
                f"password_env {variable} is not set", f"export {variable} before starting wa-tui"
            )
        return value

    return PasswordSource(f"password_env {variable}", read)


def password_from_command(command: str, timeout: float = 30.0) -> PasswordSource:
    """Runs `command` (no shell) at each login, in its own process group, killed whole
    when it outlives `timeout` or the login is cancelled (quitting); its stdout, less the
    final newline, is the password. Nothing it prints is logged."""

    async def run() -> str:
        try:
            process = await asyncio.create_subprocess_exec(
                *shlex.split(command),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            raise _could_not_run(type(exc).__name__) from None
        try:
            async with asyncio.timeout(timeout):
                output, _ = await process.communicate()
        except TimeoutError:
            raise _could_not_run(f"no answer in {timeout:g} s") from None
        finally:
            if process.returncode is None:
                signal_group(process.pid, signal.SIGKILL)
        password = output.decode("utf-8", "replace").rstrip("\r\n")
        if process.returncode != 0 or not password:
            raise AuthenticationError(
                f"password_command gave no password (exit {process.returncode})",
                "run it by hand to see why",
            )
        return password

    return PasswordSource("password_command", run)


def _could_not_run(why: str) -> AuthenticationError:
    return AuthenticationError(
        f"password_command could not run ({why})", "check the command in the config file"
    )


def default_token_cache_path() -> Path:
    from platformdirs import user_state_path

    return user_state_path("wa-tui") / "tokens.json"


class TokenCache:
    """`{"user@url": {"token": ..., "expires_after": ISO}}` in a file only its owner reads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_token_cache_path()

    @staticmethod
    def _key(url: str, username: str) -> str:
        return f"{username}@{url.rstrip('/')}"

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written to a 0600 temporary file then renamed: never readable by others, even
        # for an instant, and never left half-written.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entries, out)
            os.replace(temporary, self.path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            log.warning("could not write the token cache %s", self.path)

    def get(self, url: str, username: str) -> str | None:
        entry = self._read().get(self._key(url, username))
        if not isinstance(entry, dict):
            return None
        try:
            expires = datetime.fromisoformat(entry["expires_after"])
        except (KeyError, TypeError, ValueError):
            return None
        if expires - EXPIRY_MARGIN <= clock.now():
            return None
        return entry.get("token")

    def put(self, url: str, username: str, token: str, expires_after: datetime) -> None:
        entries = self._read()
        entries[self._key(url, username)] = {
            "token": token,
            "expires_after": expires_after.isoformat(),
        }
        self._write(entries)
