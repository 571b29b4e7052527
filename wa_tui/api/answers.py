"""One poll's answers as they came, and how they are read: JSON decoded, the snapshot
built, the stats parsed. No HTTP here (httpx is the client's): the recorder, replay and
the bundle read answers from files through this module alone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pydantic_core

from wa_tui.api.endpoints import HEALTH, STATS, SUPPORT
from wa_tui.api.metrics import MetricsAnswer, parse_metrics
from wa_tui.api.models import PayloadError, build_snapshot
from wa_tui.core import clock, memory
from wa_tui.core.errors import ApiStatusError, UnreadableAnswer, WAError
from wa_tui.model.snapshot import Snapshot


def decode_answer(body: bytes, path: str) -> object:
    """An answer's JSON. pydantic-core's parser is the faster (benchmarks/README.md);
    the standard library reads what it refuses and is stricter
    than JSON needs (lone surrogates, nesting past 200), so nothing readable is lost."""
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        pass
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise UnreadableAnswer(
            f"{path} gave JSON nested too deep to read", "no real deployment answers that"
        ) from exc
    except ValueError as exc:
        what = "an empty answer" if not body.strip() else "an answer that is not JSON"
        raise UnreadableAnswer(
            f"{path} gave {what} ({len(body)} bytes)",
            "the API or a proxy in front of it is misbehaving; retrying",
        ) from exc


# What an endpoint that this deployment does not serve answers (an older build, a proxy).
NOT_SERVED = (403, 404, 501)


def not_served(error: WAError) -> bool:
    return isinstance(error, ApiStatusError) and error.status in NOT_SERVED


@dataclass(frozen=True)
class Unread:
    """Why an answer is not there to read: `failed` when asking or reading it failed (an
    error, shown as one), else the deployment does not serve it (a fact, shown dim)."""

    why: str
    failed: bool

    def __str__(self) -> str:
        return f"✖ {self.why}" if self.failed else self.why


@dataclass(frozen=True)
class Answers:
    """One poll's answers, not yet read (reading them is for a thread: see read)."""

    support: bytes
    health: bytes | WAError  # or why there is no health answer
    fetched_at: datetime
    expected_shards: int | None = None
    # The answers beside support and health asked this poll, by path (the stats, the
    # metrics, the settings, the webhook CA) and a webhook probe made since the last
    # poll (WEBHOOK_PROBE): the answer, or why there is none.
    stats: Mapping[str, bytes | WAError] = field(default_factory=dict)
    # clock.monotonic() when they came: rates need better than fetched_at's second.
    # Looked up at each call, not bound once: a clock moved by a test (simulated time)
    # is the one every reader of these answers, live or replayed, sees.
    received: float = field(default_factory=lambda: clock.monotonic())

    @memory.paused()  # thousands of samples a poll: see wa_tui.core.memory
    def read_stats(
        self, wanted: frozenset[str] | None = None
    ) -> dict[str, MetricsAnswer | WAError]:
        """Each stats answer's families (those `wanted`, if given), or why it could not
        be read."""
        read: dict[str, MetricsAnswer | WAError] = {}
        for path, body in self.stats.items():
            if path not in STATS:
                continue  # the settings and the webhook's, read by the poller's reader
            if isinstance(body, WAError):
                read[path] = body
                continue
            try:
                read[path] = parse_metrics(decode_answer(body, path), path, wanted)
            except WAError as error:
                read[path] = error
            except ValueError as exc:
                read[path] = UnreadableAnswer(str(exc), "is a proxy answering for the API?")
        return read

    @memory.paused()  # no collection while the answer is read (see wa_tui.core.memory)
    def read(self, previous: Snapshot | None) -> Snapshot:
        """The snapshot in them; nodes unchanged since `previous` are taken from it."""
        health_answer, health_error = None, None
        if isinstance(self.health, WAError):
            health_error = str(self.health)
        else:
            try:
                health_answer = decode_answer(self.health, HEALTH)
            except WAError as error:
                health_error = str(error)
        try:
            return build_snapshot(
                decode_answer(self.support, SUPPORT),
                health_answer,
                previous=previous,
                fetched_at=self.fetched_at,
                expected_shards=self.expected_shards,
                health_error=health_error,
            )
        except PayloadError as exc:
            raise UnreadableAnswer(
                f"{SUPPORT}: {exc}", "is this a WhatsApp Business API URL?"
            ) from exc
