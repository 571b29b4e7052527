"""The wall clock, in one place, so tests (snapshot tests above all) can freeze it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def now_precise() -> datetime:
    """The current time, aware, in UTC, to the microsecond: for ages measured in
    fractions of an interval (a recorder's heartbeat)."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds on a clock that never goes back, for 'next refresh in N s'."""
    return time.monotonic()
