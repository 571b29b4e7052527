"""One deployment's polling state: the last good snapshot, the last failure, when to poll next.

The poller does not schedule itself: its watcher (wa_tui/watcher.py) awaits `poll()` and
asks `next_delay()` when the poll has ended, so polls never overlap.
"""

from __future__ import annotations

import asyncio
import random
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wa_tui import clock
from wa_tui.analysis import Change, Finding, Thresholds, analyse, diff
from wa_tui.analysis.changes import restarts
from wa_tui.analysis.summary import Summary
from wa_tui.analysis.vitals import KNOWN_FAMILIES, Vitals, VitalsThresholds, VitalsTracker
from wa_tui.answers import Answers, not_served
from wa_tui.endpoints import APP_STATS, DB_STATS, METRICS
from wa_tui.errors import WAError
from wa_tui.metrics import MetricsAnswer
from wa_tui.models import Snapshot

if TYPE_CHECKING:
    from wa_tui.client import WAClient
    from wa_tui.targets import Target

MAX_BACKOFF_SECONDS = 60.0
# An endpoint this deployment does not serve is asked again this much later, not every poll.
NOT_SERVED_RETRY_SECONDS = 600.0


@dataclass(frozen=True)
class PollResult:
    """What one poll produced: a fresh snapshot with its findings and what changed since
    the last good one, or the error that kept it from a snapshot."""

    snapshot: Snapshot | None
    error: WAError | None
    findings: tuple[Finding, ...] = ()
    changes: tuple[Change, ...] = ()
    vitals: Vitals | None = None
    answers: Answers | None = None  # as sent (for a recorder)
    summary: Summary | None = None  # the numbers every view shows


class Reader:
    """Answers become a result: the snapshot (nodes unchanged since the last reused), what
    changed, the vitals and the findings of both, and their summary. Keeps what that
    needs between polls (the last good snapshot, the counters behind the rates); fetches
    nothing, so a replay reads recorded answers exactly as the poller reads live ones."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        vitals_thresholds: VitalsThresholds | None = None,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.vitals = VitalsTracker(vitals_thresholds)
        self.last_good: Snapshot | None = None
        self.findings: tuple[Finding, ...] = ()
        self.summary: Summary | None = None  # of the last good snapshot
        self.not_served: dict[str, str] = {}  # path -> what the vitals say of it

    def read(self, answers: Answers) -> PollResult:
        """The result of one poll's answers, worst findings first."""
        snapshot = answers.read(self.last_good)
        changes = list(diff(self.last_good, snapshot)) if self.last_good else []
        vitals = None
        if answers.stats or self.not_served:
            vitals = self.vitals.update(self._stats(answers), snapshot.fetched_at, answers.received)
            changes += restarts(vitals.restarted, snapshot.fetched_at)
        findings = analyse(snapshot, self.thresholds, now=snapshot.fetched_at)
        findings += self.vitals.findings(snapshot.fetched_at)
        findings.sort(key=lambda f: -f.severity)
        self.last_good, self.findings = snapshot, tuple(findings)
        self.summary = Summary.of(snapshot, self.findings, self.vitals.latest)
        return PollResult(
            snapshot, None, self.findings, tuple(changes), vitals, answers, self.summary
        )

    def _stats(self, answers: Answers) -> dict[str, MetricsAnswer | str]:
        """Each stats answer, or what the vitals say instead."""
        read: dict[str, MetricsAnswer | str] = dict(self.not_served)
        for path, answer in answers.read_stats(KNOWN_FAMILIES).items():
            self.not_served.pop(path, None)
            if isinstance(answer, WAError) and not_served(answer):
                status = getattr(answer, "status", "?")
                self.not_served[path] = f"not available from this deployment (HTTP {status})"
                read[path] = self.not_served[path]
            else:
                read[path] = answer if isinstance(answer, MetricsAnswer) else f"✖ {answer}"
        return read


class Poller:
    """One deployment's fetching: what to ask and when, failures and backoff; its
    `reader` turns the answers into results."""

    def __init__(
        self,
        client: WAClient | None,  # None: nothing to fetch (a replay reads a recording)
        interval: float,
        reader: Reader | None = None,
        rng: random.Random | None = None,
        db_stats_interval: float = 60.0,
    ) -> None:
        self.client = client
        self.interval = interval
        self.reader = reader or Reader()
        self.db_stats_interval = db_stats_interval
        # When each stats path is next asked (clock.monotonic()); absent: at the next poll.
        self._stats_due: dict[str, float] = {}
        self.ask_stats = True  # False: support and health alone (the early poll)
        # Reading in a thread keeps a UI answering keys meanwhile; with no UI to keep
        # answering (the exporter), reading on the loop saves the threads' contention
        # for the GIL (benchmarks/README.md).
        self.read_in_thread = True
        self.last_error: WAError | None = None
        self.failures = 0
        self.polls = 0
        self._rng = rng or random.Random()

    @classmethod
    def for_target(cls, target: Target) -> Poller:
        settings = target.settings
        return cls(
            target.client(),
            settings.interval,
            Reader(settings.thresholds, settings.vitals_thresholds),
            db_stats_interval=settings.db_stats_interval,
        )

    async def poll(self) -> PollResult:
        self.polls += 1
        asked = self._stats_to_ask()
        if self.client is None:
            raise RuntimeError("this poller has no client: its answers come from elsewhere")
        try:
            answers = await self.client.fetch_answers(asked)
            # Reading and analysing 1,000 nodes takes tens of ms: in a thread, the event
            # loop (the UI's) keeps answering keys meanwhile.
            if self.read_in_thread:
                result = await asyncio.to_thread(self.reader.read, answers)
            else:
                result = self.reader.read(answers)
        except WAError as error:
            self.failures += 1
            self.last_error = error
            return PollResult(None, error)
        self.failures = 0
        self.last_error = None
        self._schedule(asked)
        return result

    def _stats_to_ask(self) -> tuple[str, ...]:
        """The stats paths due this poll: app stats and metrics every poll, db stats on
        their own slower interval (slow on large databases), one not served rarely."""
        if not self.ask_stats:
            return ()
        now = clock.monotonic()
        return tuple(p for p in (APP_STATS, METRICS, DB_STATS) if self._stats_due.get(p, 0) <= now)

    def _schedule(self, asked: tuple[str, ...]) -> None:
        now = clock.monotonic()
        for path in asked:
            if path in self.reader.not_served:
                self._stats_due[path] = now + NOT_SERVED_RETRY_SECONDS
            elif path == DB_STATS:
                self._stats_due[path] = now + self.db_stats_interval

    def adopt(self, early: EarlyPoll) -> PollResult:
        """Take a poll made in the background before the UI started, as if it were ours:
        its reader (what it read) and its token, so the next poll does not log in again."""
        self.polls += 1
        result = early.result
        if result.snapshot is None:
            self.failures += 1
            self.last_error = result.error
        else:
            self.reader = early.reader
        # The token that just worked (a cached one may have been stale).
        if early.token and self.client is not None:
            self.client.token = early.token
        return result

    def next_delay(self) -> float:
        """The interval; after failures, exponential backoff with jitter, capped, and
        never sooner than a Retry-After the server sent."""
        if not self.failures:
            return self.interval
        backoff = min(self.interval * 2 ** (self.failures - 1), MAX_BACKOFF_SECONDS)
        delay = max(self.interval, backoff * self._rng.uniform(0.8, 1.2))
        asked = getattr(self.last_error, "retry_after", None)
        return max(delay, asked) if asked is not None else delay


@dataclass(frozen=True)
class EarlyPoll:
    """What a first poll begun before the UI left: its result, and the token it used."""

    result: PollResult
    token: str | None
    reader: Reader


def poll_early(target: Target) -> Future[EarlyPoll]:
    """The first poll, in a thread of its own, begun before the UI is even imported: the
    login and the two answers travel while Textual loads, so the first frame can already
    show data (benchmarks/README.md). Support and health only: the stats (one of them
    slow on large databases) come with the next poll, at once (Watcher.run). Its own
    client and event loop: an httpx client's connections belong to the loop that
    opened them."""
    future: Future[EarlyPoll] = Future()

    async def once() -> EarlyPoll:
        poller = Poller.for_target(target)
        poller.ask_stats = False
        assert poller.client is not None
        async with poller.client:
            result = await poller.poll()
            return EarlyPoll(result, poller.client.token, poller.reader)

    def run() -> None:
        try:
            future.set_result(asyncio.run(once()))
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name=f"early poll of {target.name}", daemon=True).start()
    return future
