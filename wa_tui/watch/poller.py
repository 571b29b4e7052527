"""One deployment's polling state: the last good snapshot, the last failure, when to poll next.

The poller does not schedule itself: its watcher (wa_tui/watch/watcher.py) awaits `poll()` and
asks `next_delay()` when the poll has ended, so polls never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from wa_tui.analysis import Change, Finding, Thresholds, analyse, diff
from wa_tui.analysis.accounting import PollFacts, Shape
from wa_tui.analysis.changes import restarts
from wa_tui.analysis.forecast import ForecastThresholds, ForecastTracker
from wa_tui.analysis.summary import Summary
from wa_tui.analysis.vitals import (
    KNOWN_FAMILIES,
    Vitals,
    VitalsThresholds,
    VitalsTracker,
    history_point,
)
from wa_tui.analysis.webhook import (
    PROBE_AT_ONCE,
    WebhookView,
    webhook_findings,
    with_webhook_advice,
)
from wa_tui.api.answers import Answers, not_served
from wa_tui.api.endpoints import (
    APP_STATS,
    DB_STATS,
    METRICS,
    SETTINGS,
    STATS,
    WEBHOOK_CA,
    WEBHOOK_PROBE,
)
from wa_tui.api.metrics import MetricsAnswer
from wa_tui.api.models import Snapshot
from wa_tui.api.settings import read_settings
from wa_tui.api.webhook_probe import PROBE_EVERY_SECONDS, WebhookProbe, probe, send_test_post
from wa_tui.core import clock
from wa_tui.core.errors import ApiStatusError, WAError

if TYPE_CHECKING:
    from wa_tui.api.client import WAClient
    from wa_tui.watch.targets import Target

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
    # The settings and the last webhook probe.
    webhook: WebhookView = field(default_factory=WebhookView)

    @cached_property
    def shape(self) -> Shape | None:
        """The primary master and the shards in trouble, for an account (made only when
        one is kept or recorded)."""
        if self.snapshot is None or self.summary is None:
            return None
        return Shape.of(self.snapshot, self.summary)

    @cached_property
    def facts(self) -> PollFacts:
        """What an account reads of a good poll (and the recorder writes of it): made
        once, however many consumers read it."""
        assert self.snapshot is not None
        point = history_point(self.vitals) if self.vitals else None
        return PollFacts(self.snapshot.fetched_at, self.shape, self.findings, point)


class Reader:
    """Answers become a result: the snapshot (nodes unchanged since the last reused), what
    changed, the vitals and the findings of both, and their summary. Keeps what that
    needs between polls (the last good snapshot, the counters behind the rates); fetches
    nothing, so a replay reads recorded answers exactly as the poller reads live ones."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        vitals_thresholds: VitalsThresholds | None = None,
        forecast_thresholds: ForecastThresholds | None = None,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.vitals = VitalsTracker(vitals_thresholds)
        self.forecasts = ForecastTracker(forecast_thresholds)
        self.last_good: Snapshot | None = None
        self.findings: tuple[Finding, ...] = ()
        self.summary: Summary | None = None  # of the last good snapshot
        self.not_served: dict[str, str] = {}  # path -> what the vitals say of it
        self.webhook = WebhookView()
        self.webhook_ca: bytes | None = None  # the PEM the deployment holds, if any

    def read(self, answers: Answers, remember: bool = True) -> PollResult:
        """The result of one poll's answers, worst findings first (`remember` False: not
        kept in the vitals' history, as a replay does with the poll it warms up on)."""
        snapshot = answers.read(self.last_good)
        changes = list(diff(self.last_good, snapshot)) if self.last_good else []
        vitals = None
        if any(path in STATS for path in answers.stats) or self.not_served:
            vitals = self.vitals.update(
                self._stats(answers), snapshot.fetched_at, answers.received, remember
            )
            changes += restarts(vitals.restarted, snapshot.fetched_at)
        self.read_webhook(answers.stats)
        findings = analyse(snapshot, self.thresholds, now=snapshot.fetched_at)
        findings += self.vitals.findings(snapshot.fetched_at)
        latest = self.vitals.latest
        self.forecasts.update(snapshot, latest.callback_queue if latest else None)
        findings += self.forecasts.findings()
        webhook = self.webhook
        findings += webhook_findings(webhook.settings, webhook.probe, findings, self.thresholds)
        findings = with_webhook_advice(findings, webhook.settings, webhook.probe)
        findings.sort(key=lambda f: -f.severity)
        self.last_good, self.findings = snapshot, tuple(findings)
        self.summary = Summary.of(snapshot, self.findings, self.vitals.latest)
        return PollResult(
            snapshot, None, self.findings, tuple(changes), vitals, answers, self.summary, webhook
        )

    def read_webhook(self, side: Mapping[str, bytes | WAError]) -> None:
        """The settings, the webhook CA and a probe, when answers beside support and
        health (`side`, by path) carry them."""
        view = self.webhook
        settings = side.get(SETTINGS)
        if isinstance(settings, bytes):
            try:
                view = replace(view, settings=read_settings(settings), note=None)
            except WAError as error:
                view = replace(view, note=f"✖ {error}")
        elif isinstance(settings, WAError):
            unavailable = f"not available (HTTP {getattr(settings, 'status', '?')})"
            view = replace(
                view, settings=None, note=unavailable if not_served(settings) else f"✖ {settings}"
            )
        ca = side.get(WEBHOOK_CA)
        if isinstance(ca, bytes):
            self.webhook_ca, view = ca, replace(view, ca_uploaded=True)
        elif isinstance(ca, ApiStatusError) and ca.status == 404:
            self.webhook_ca, view = None, replace(view, ca_uploaded=False)
        probe = side.get(WEBHOOK_PROBE)
        if isinstance(probe, bytes):
            view = replace(view, probe=WebhookProbe.from_document(json.loads(probe)))
        self.webhook = view

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
        settings_interval: float = 300.0,
        webhook_probe: bool = True,
    ) -> None:
        self.client = client
        self.interval = interval
        self.reader = reader or Reader()
        self.db_stats_interval = db_stats_interval
        self.settings_interval = settings_interval
        self.webhook_probe = webhook_probe  # False: `webhook_probe = "off"`
        # When each side path is next asked (clock.monotonic()); absent: at the next poll.
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
        # Answers gotten between polls (a webhook probe), handed in with the next poll's.
        self._carried: dict[str, bytes | WAError] = {}
        self._probe_task: asyncio.Task[WebhookProbe] | None = None
        self._probe_due = 0.0  # clock.monotonic()
        self._raised: frozenset[str] = frozenset()

    @classmethod
    def for_target(cls, target: Target) -> Poller:
        settings = target.settings
        return cls(
            target.client(),
            settings.interval,
            Reader(settings.thresholds, settings.vitals_thresholds, settings.forecast_thresholds),
            db_stats_interval=settings.db_stats_interval,
            settings_interval=settings.settings_interval,
            webhook_probe=settings.webhook_probe == "tls",
        )

    async def poll(self) -> PollResult:
        self.polls += 1
        asked = self._stats_to_ask()
        if self.client is None:
            raise RuntimeError("this poller has no client: its answers come from elsewhere")
        try:
            answers = await self.client.fetch_answers(asked)
            if self._carried:
                answers = replace(answers, stats={**answers.stats, **self._carried})
                self._carried = {}
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
        self._probe_if_due(result.findings)
        return result

    def _stats_to_ask(self) -> tuple[str, ...]:
        """The side paths due this poll: app stats and metrics every poll, db stats on
        their own slower interval (slow on large databases), the settings and the
        webhook CA on theirs, one not served rarely."""
        if not self.ask_stats:
            return ()
        now = clock.monotonic()
        paths = (APP_STATS, METRICS, DB_STATS, SETTINGS, WEBHOOK_CA)
        return tuple(p for p in paths if self._stats_due.get(p, 0) <= now)

    def _schedule(self, asked: tuple[str, ...]) -> None:
        now = clock.monotonic()
        for path in asked:
            if path in self.reader.not_served:
                self._stats_due[path] = now + NOT_SERVED_RETRY_SECONDS
            elif path == DB_STATS:
                self._stats_due[path] = now + self.db_stats_interval
            elif path in (SETTINGS, WEBHOOK_CA):
                self._stats_due[path] = now + self.settings_interval

    def ask_everything(self) -> None:
        """The next poll asks every side path, however recently asked (`r`)."""
        self._stats_due.clear()
        self._probe_due = 0.0

    # -- the webhook probe --------------------------------------------------------------

    def _probe_if_due(self, findings: tuple[Finding, ...]) -> None:
        """Probe the webhook in the background every PROBE_EVERY_SECONDS, and at once when
        a callback finding is raised; the result comes with the next poll."""
        raised = frozenset(f.code for f in findings if f.code in PROBE_AT_ONCE)
        newly, self._raised = raised - self._raised, raised
        url = self.reader.webhook.webhook_url
        running = self._probe_task is not None and not self._probe_task.done()
        if not self.webhook_probe or url is None or running:
            return
        if newly or clock.monotonic() >= self._probe_due:
            self._probe_task = asyncio.create_task(self.probe_now(), name="webhook probe")

    async def probe_now(self, post: bool = False) -> WebhookProbe:
        """Probe the webhook the settings name now (with `post`, one test POST too); the
        result comes with the next poll. Raises LookupError when no webhook is set."""
        url = self.reader.webhook.webhook_url
        if url is None:
            raise LookupError("no webhook URL in the application settings")
        ca = self.reader.webhook_ca
        result = await probe(url, ca, self.reader.webhook.ca_uploaded)
        if post and result.failed_step is None:
            result = replace(result, post=await send_test_post(url, ca))
        self._probe_due = clock.monotonic() + PROBE_EVERY_SECONDS
        self._carried[WEBHOOK_PROBE] = result.encoded()
        return result

    async def read_webhook_first(self, post: bool = False) -> None:
        """`--webhook` of the one-shot commands: the settings, the CA and a probe made
        before the poll, which carries them."""
        if self.client is None:
            return
        bodies = await self.client.fetch_paths((SETTINGS, WEBHOOK_CA))
        self._carried.update(bodies)
        self.reader.read_webhook(bodies)
        for path in bodies:
            self._stats_due[path] = clock.monotonic() + self.settings_interval
        if self.reader.webhook.webhook_url is not None:
            await self.probe_now(post)

    async def aclose(self) -> None:
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
        if self.client is not None:
            await self.client.aclose()

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
