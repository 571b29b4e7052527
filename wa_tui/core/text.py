"""Turning server strings into safe, visible text.

Rich's `Text` strips only a few control characters: ESC, CSI and OSC would reach the
terminal as they are. Every string that came from a server
goes through `visible()` before it is drawn or printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

# C0 controls (tab and newline included: a cell is one line), DEL, and the C1 range.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

ELLIPSIS = "…"
GIB = 1024**3


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(value: object, limit: int | None = None) -> str:
    """`value` as one printable line: control characters shown as `\\xNN`, cut at `limit`."""
    text = _CONTROL.sub(_escape, value if isinstance(value, str) else str(value))
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)] + ELLIPSIS
    return text


_TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)


_NOT_IN_A_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def file_name_of(name: str) -> str:
    """`name` as part of a file's name: any character outside `A-Za-z0-9._-` made `_`
    (a deployment's recording, a kept certificate)."""
    return _NOT_IN_A_FILE_NAME.sub("_", name)


def html_title(text: str) -> str | None:
    """The title of an HTML page (a proxy's error page), on one line; None if none."""
    match = _TITLE.search(text)
    return visible(" ".join(match.group(1).split()), limit=120) if match else None


@dataclass(frozen=True)
class StatusLine:
    """A line of a report that says how something went: `ok` True (✔, green), False
    (✖, red) or None (neither), so a screen colours it without reading its text."""

    text: str
    ok: bool | None = None

    def __str__(self) -> str:
        return self.text


def human_bytes(count: int | None) -> str:
    """Bytes in binary units; the API's ~2**63 sentinel reads as 'unlimited'."""
    if count is None:
        return "—"
    if count >= 2**62:
        return "unlimited"
    if abs(count) < 1024:
        return f"{count} B"
    size = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if abs(size) < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} TiB"


def iso_time(moment: datetime | None) -> str | None:
    """A time as every output writes it: ISO 8601 in UTC to the second, with a `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def exact_duration(seconds: float) -> str:
    """A duration to the second: '4s', '3m12s' or '2h05m'."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def interval_text(seconds: float) -> str:
    """A polling interval as configured: '0.5s', '5s', or past a minute '2m00s'."""
    return f"{seconds:g}s" if seconds < 60 else exact_duration(seconds)


def approximate_duration(seconds: float) -> str:
    """A duration as a forecast can say it: 'about 20 min', 'about 3 h', 'about 2 days'."""
    if seconds < 90:
        return "less than 2 min"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.0f} h"
    return f"about {seconds / 86400:.0f} days"
