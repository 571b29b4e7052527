"""Why a deployment could not be read. Every error's `str()` is one line saying what
happened and what to do: the UI and the CLI show it as it is, never a traceback."""

from __future__ import annotations

from wa_tui.core.text import visible

# Bad input said in one line (a usage, config or recording error): the exit status.
EXIT_USAGE = 2


class ConfigError(Exception):
    """A config file that cannot be used; `str()` is one line. Here, not beside the
    config's models, so what only catches it loads no pydantic."""


class WAError(Exception):
    """Anything that kept us from reading the deployment."""

    def __init__(self, what: str, hint: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint

    def __str__(self) -> str:
        return visible(f"{self.what} — {self.hint}" if self.hint else self.what, limit=300)


class AuthenticationError(WAError):
    pass


class ApiStatusError(WAError):
    def __init__(
        self,
        what: str,
        hint: str,
        status: int,
        code: int | None = None,
        retry_after: float | None = None,
        limited: bool = False,
    ) -> None:
        super().__init__(what, hint)
        self.status = status
        self.code = code
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)
        # The API limiting us (429, or a 503 it sent itself): not a node or the
        # deployment down; the poller backs off.
        self.limited = limited


class ConnectionFailed(WAError):
    pass


class CertificateRefused(ConnectionFailed):
    """The webapp presented a certificate no pin names: refused on the handshake,
    nothing sent (wa_tui/api/pinning.py)."""


class RequestTimeout(WAError):
    pass


class UnreadableAnswer(WAError):
    pass


class SlowAnswer(WAError):
    """An answer asked for aside (the database's stats) and not in yet: a fact to say,
    not a failure; what it said last stays."""


class RecordingError(Exception):
    """A recording that cannot be written or read; `str()` is one line."""
