"""What `GET /v1/settings/application` answers: the settings every node shares (they live
in the database), read for the *why* behind the callback findings: where callbacks go,
how many may be in flight, how failures are retried. Plain Python.

The answer is kept as received (the snapshot JSON and the bundle show it whole, secrets
masked); the fields wa-tui reasons about are read from it tolerantly: a field of the wrong
type reads as absent, never as an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wa_tui.api.answers import decode_answer
from wa_tui.api.endpoints import SETTINGS
from wa_tui.core.errors import UnreadableAnswer
from wa_tui.core.secrets import mask_tree, mask_url
from wa_tui.core.text import exact_duration, visible

# Meta's documented default for webhooks.max_concurrent_requests.
DEFAULT_MAX_CONCURRENT_REQUESTS = 6


@dataclass(frozen=True)
class ApplicationSettings:
    """The `application` object of the settings answer, and what wa-tui reads of it."""

    application: Mapping[str, Any]

    def _get(self, *path: str, kind: type | tuple[type, ...] = object) -> Any:
        value: Any = self.application
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            return None  # JSON's true is not a number
        return value if isinstance(value, kind) else None

    @property
    def webhook_url(self) -> str | None:
        """The URL callbacks go to; None when unset (an empty string is unset too)."""
        url = self._get("webhooks", "url", kind=str) or ""
        return url.strip() or None

    @property
    def webhook_scheme(self) -> str:
        return urlsplit(self.webhook_url or "").scheme.lower()

    @property
    def max_concurrent_requests(self) -> int | None:
        return self._get("webhooks", "max_concurrent_requests", kind=int)

    def rows(self) -> list[tuple[str, str]]:
        """Label and value for each setting the detail pane shows, secrets masked."""
        url = self.webhook_url
        concurrent = self.max_concurrent_requests
        rows = [
            ("webhook", visible(mask_url(url), limit=120) if url else "not set"),
            (
                "concurrency",
                f"{concurrent} callbacks in flight per coreapp"
                if concurrent is not None
                else f"not stated (default {DEFAULT_MAX_CONCURRENT_REQUESTS})",
            ),
            ("persist", _flag(self._get("callback_persist", kind=bool))),
            (
                "back-off",
                f"{_ms(self._get('callback_backoff_delay_ms', kind=(int, float)))} "
                f"up to {_ms(self._get('max_callback_backoff_delay_ms', kind=(int, float)))}",
            ),
            ("heartbeat", _duration(self._get("heartbeat_interval", kind=(int, float)))),
            ("unhealthy", _duration(self._get("unhealthy_interval", kind=(int, float)))),
            ("log level", self._log_level()),
        ]
        return rows

    def _log_level(self) -> str:
        level = self._get("log_level", kind=str)
        verbose = self._get("verbose_logging", kind=bool)
        shown = visible(level, limit=20) if level else "—"
        return f"{shown}, verbose" if verbose else shown

    def shown(self) -> dict[str, Any]:
        """The application object as received, secrets masked: what the snapshot JSON
        carries (phone numbers are masked there with the rest of it)."""
        masked = mask_tree(dict(self.application))
        assert isinstance(masked, dict)
        return masked


def _flag(value: bool | None) -> str:
    return "—" if value is None else ("on" if value else "off")


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:g}s" if value < 60_000 else f"{value / 60_000:g}min"


def read_settings(body: bytes) -> ApplicationSettings:
    """The settings in an answer of SETTINGS; UnreadableAnswer if it holds none."""
    decoded = decode_answer(body, SETTINGS)
    application = None
    if isinstance(decoded, Mapping) and isinstance(decoded.get("settings"), Mapping):
        application = decoded["settings"].get("application")
    if not isinstance(application, Mapping):
        raise UnreadableAnswer(
            f"{SETTINGS} answered without settings.application",
            "is a proxy answering for the API?",
        )
    return ApplicationSettings(application)


def _duration(value: float | None) -> str:
    return "—" if value is None else exact_duration(value)
