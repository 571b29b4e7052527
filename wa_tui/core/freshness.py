"""How old a poll is, and what that makes its source: the one rule every view uses.

Data is *fresh* while it is younger than LATE_AFTER_INTERVALS of its source's interval,
*late* after (its age is then counted out loud: before that, the poll's time says
enough), and its source *stopped* once it is older than `max_age` (`--max-age`; by
default STOPPED_AFTER_INTERVALS intervals). The status line, the fleet, the exporter's
age, `check --max-age`, a follower's recorder, the account's missed polls and the
recorder's heartbeat all read it here, from one clock (`core/clock.py`). Plain Python.
"""

from __future__ import annotations

from datetime import datetime

from wa_tui.core import clock
from wa_tui.core.text import exact_duration

LATE_AFTER_INTERVALS = 2
STOPPED_AFTER_INTERVALS = 3
# A recorder writes a heartbeat when it has written nothing for this share of its
# interval: well inside the STOPPED_AFTER_INTERVALS its readers allow it.
HEARTBEAT_AFTER_INTERVALS = 0.9
DEFAULT_INTERVAL = 5.0  # of a source that does not say its own (older recordings)


# What a view calls data of an age.
FRESH, LATE, STOPPED = "fresh", "late", "stopped"


class Freshness:
    """The age of a poll (or of a source's last sign of life), against its interval. A
    plain class: made for every row of a fleet every second, and imported by `check`."""

    __slots__ = ("age", "interval", "max_age", "word")

    def __init__(self, age: float | None, interval: float, max_age: float | None = None) -> None:
        self.age = age  # seconds; None: there never was one
        self.interval = interval
        self.max_age = max_age  # the user's limit for "stopped" (`--max-age`)
        if age is None or age > self.limit:
            self.word = STOPPED
        elif age > LATE_AFTER_INTERVALS * interval:
            self.word = LATE
        else:
            self.word = FRESH

    @property
    def limit(self) -> float:
        """The age past which the source is taken to have stopped."""
        return self.max_age or STOPPED_AFTER_INTERVALS * self.interval

    @property
    def late(self) -> bool:
        """Late or stopped: its age is worth saying."""
        return self.word != FRESH

    @property
    def stopped(self) -> bool:
        return self.word == STOPPED

    @property
    def age_text(self) -> str:
        """Its age to the second: '42s', '3m05s' ("—": never)."""
        return "—" if self.age is None else exact_duration(self.age)

    def said(self) -> str:
        """How a view says it: "fresh", "late · 42s", "stopped · 3m05s"."""
        if self.age is None:
            return "never read"
        return self.word if self.word == FRESH else f"{self.word} · {self.age_text}"

    def why_stopped(self, what: str = "last sign of life") -> str:
        """Why the source is taken to have stopped, naming the limit and where it is set."""
        if self.age is None:
            return f"no {what} at all"
        how = (
            "--max-age"
            if self.max_age
            else f"--max-age, by default {STOPPED_AFTER_INTERVALS} intervals"
        )
        return f"the {what} is {self.age_text} old, past {exact_duration(self.limit)} ({how})"


def freshness(at: datetime | None, interval: float, max_age: float | None = None) -> Freshness:
    """How old `at` is now, for a source polled every `interval` seconds. A time kept to
    the second (a poll's) is aged against the clock to the second, a precise one (a
    heartbeat) against the precise clock: cutting one and not the other would make data
    up to a second older than it is (late, at a sub-second interval, every other poll)."""
    if at is None:
        return Freshness(None, interval, max_age)
    now = clock.now_precise() if at.microsecond else clock.now()
    return Freshness(max((now - at).total_seconds(), 0.0), interval, max_age)


def missed_polls(gap: float, interval: float) -> bool:
    """A gap between two polls long enough that the source had stopped in between."""
    return gap > STOPPED_AFTER_INTERVALS * interval
