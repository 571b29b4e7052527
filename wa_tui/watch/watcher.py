"""One deployment watched, from first poll to last: the headless heart of wa-tui.

A `Watcher` owns everything about one deployment's polling: its target, client and
poller, the poll loop (poll, then wait for the interval, a backoff or "poll now"; polls
never overlap), pause, the last good snapshot, its findings, the change log, and the
status of polling (polling since, next poll at, last error, stale since).

Consumers subscribe to what it publishes: the dashboard (which only draws), the
recorder, the exporter. Each subscriber has a queue and a task of its own, so one that
is slow or raises never stalls the loop or the others. Plain asyncio, no Textual: the
one-shot commands (`snapshot`, `check`) read through the same object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

from wa_tui.analysis.accounting import Account, Accountant
from wa_tui.analysis.forecast import Forecast
from wa_tui.analysis.vitals import VitalsTracker
from wa_tui.analysis.webhook import WebhookView
from wa_tui.api.answers import Answers
from wa_tui.core import clock
from wa_tui.core.errors import WAError
from wa_tui.model.judgement import Change, Finding, Severity, Summary
from wa_tui.model.snapshot import Snapshot
from wa_tui.watch.poller import EarlyPoll, Poller
from wa_tui.watch.reader import PollResult
from wa_tui.watch.state import (
    FINISH_SECONDS,
    LIVE,
    Capabilities,
    Consumer,
    Phase,
    Said,
    Subscription,
    Update,
    WatchStatus,
)
from wa_tui.watch.targets import Target

log = logging.getLogger(__name__)

CHANGES_KEPT = 500
STATS_AFTER_EARLY_POLL = 1.0  # seconds
# The charts of a live account are drawn in a terminal (a few hundred columns at most):
# past this many points the oldest half of the detail goes, so a week-long watch of many
# deployments keeps a bounded few hundred kB each.
LIVE_CHART_POINTS = 4_000
# From this many deployments polls go over aiohttp's pool (wa_tui/api/transport.py): polling
# that many then costs less CPU and holds a UI's keys up less; below it, httpx's
# transport, which imports faster, so the first data comes sooner (benchmarks/README.md).
AIOHTTP_FROM_DEPLOYMENTS = 20


class Watcher:
    """One deployment, polled for as long as `run()` runs. See the module's docstring."""

    def __init__(
        self,
        target: Target,
        poll_slots: asyncio.Semaphore | None = None,
        poller: Poller | None = None,  # default: the target's (a replay brings its own)
    ) -> None:
        self.target = target
        self.poller = poller or Poller.for_target(target)
        self.status = WatchStatus()
        self.changes: deque[Change] = deque(maxlen=CHANGES_KEPT)
        self.changes_seen = 0  # grows with every change added: tells a log what is new
        self.changes_rewritten = 0  # grows when the log is replaced whole (rewrite_changes)
        self.last_answers: Answers | None = None  # of the last good poll, as sent
        # The recording its polls go to (--record) or come from: what a bundle carries.
        self.recorded_in: Path | None = None
        # What this session has seen, accounted, once a consumer asks (keep_account).
        self.accountant: Accountant | None = None
        # Shared by the watchers of one process: at most so many polls at once.
        self._poll_slots = poll_slots
        self._wake = asyncio.Event()  # set: poll now
        self._waiting = False  # between polls (a poll_now() then starts one)
        self._subscriptions: list[Subscription] = []

    def __repr__(self) -> str:
        return f"<Watcher {self.name}>"

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Its subscribers that must finish (a recorder's) handed what was published, then
        every subscription ended and the connection closed."""
        finishing = [s.finished() for s in self._subscriptions if s.finish]
        if finishing:
            try:
                async with asyncio.timeout(FINISH_SECONDS):
                    await asyncio.gather(*finishing)
            except TimeoutError:
                log.warning("%s: a subscriber did not finish in %ss", self.name, FINISH_SECONDS)
        for subscription in self._subscriptions:
            subscription.cancel()
        await self.poller.aclose()

    # -- what it knows ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def snapshot(self) -> Snapshot | None:
        """The last good snapshot (it stays when a poll fails: see status.error)."""
        return self.poller.reader.last_good

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.poller.reader.findings

    @property
    def summary(self) -> Summary | None:
        """The last good poll's numbers, as every view shows them."""
        return self.poller.reader.summary

    @property
    def forecasts(self) -> tuple[Forecast, ...]:
        """When a disk fills or the callback queue reaches its critical level, at the
        pace of the last 30 minutes (those there is a forecast for)."""
        return self.poller.reader.forecasts

    @property
    def vitals(self) -> VitalsTracker:
        """The vitals' rates and history (`.latest`: the last poll's)."""
        return self.poller.reader.vitals

    can: Capabilities = LIVE

    @property
    def shows_now(self) -> bool:
        """Whether the poll on screen is the deployment as it is now (a replay's is not):
        what is read of the nodes now (their logs) goes with it."""
        return True

    def said(self) -> Said:
        """What the status line says of this source: polled here, nothing to flag."""
        return Said()

    @property
    def ticking(self) -> bool:
        """What the status line says of it changes with time alone."""
        return self.status.ticking

    @property
    def interval(self) -> float:
        """Between its polls (a replay's, a follower's: its recorder's)."""
        return self.poller.interval

    @property
    def tls_unverified(self) -> bool:
        """Its certificate is not checked (--insecure): the status line says so."""
        return self.target.tls_unverified

    @property
    def severity(self) -> Severity | None:
        """Worst finding; an unreadable deployment counts as critical."""
        if self.status.error is not None:
            return Severity.CRITICAL
        return self.summary.severity if self.summary else None

    # -- subscribers ------------------------------------------------------------------

    def subscribe(
        self, consumer: Consumer, name: str | None = None, finish: bool = False
    ) -> Subscription:
        """Hand `consumer` every update from now on (it may be sync or async); `finish`:
        what was published before `aclose` is handed over first (Subscription)."""
        named = name or getattr(consumer, "__qualname__", "?")
        subscription = Subscription(consumer, named, finish)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Hand `subscription`'s consumer nothing more (a screen closed)."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        subscription.cancel()

    def _publish(self, phase: Phase, result: PollResult | None = None) -> None:
        update = Update(self, phase, result)
        for subscription in self._subscriptions:
            subscription.put(update)

    # -- polling ----------------------------------------------------------------------

    async def run(self, early: Future[EarlyPoll] | None = None) -> None:
        """Poll for as long as this runs (cancel the task to stop): a poll (the first may
        be `early`, begun before the UI loaded), its result published, the wait."""
        while True:
            result = await self.poll(early)
            adopted, early = early is not None, None
            if adopted and result.error is None:
                # The early poll left the stats out: the next poll reads them soon, once
                # the first frame is painted.
                await self._woken(STATS_AFTER_EARLY_POLL)
                continue
            await self._until_next_poll()

    async def poll(self, early: Future[EarlyPoll] | None = None) -> PollResult:
        """One poll now (or the adoption of `early`): the status brought to it, the change
        log extended, subscribers told. Never raises: a failure is in the result."""
        self.status.polling_since = clock.monotonic()
        self.status.next_poll_at = None
        self._publish(Phase.POLLING)
        result = await self._read(early)
        self._record(result)
        self._publish(Phase.POLLED, result)
        return result

    async def _read(self, early: Future[EarlyPoll] | None) -> PollResult:
        try:
            if early is not None:
                return self.poller.adopt(await asyncio.wrap_future(early))
            async with self._poll_slots or contextlib.nullcontext():
                return await self.poller.poll()
        except Exception as exc:  # a bug must not end the watch mid-incident
            log.exception("poll of %s failed unexpectedly", self.name)
            return PollResult(None, WAError(f"internal error: {type(exc).__name__}", "see the log"))

    def _record(self, result: PollResult) -> None:
        status = self.status
        status.polling_since = None
        if result.error is None:
            status.error, status.stale_since = None, None
            self.last_answers = result.answers
            self.changes.extendleft(reversed(result.changes))  # newest batch on top
            self.changes_seen += len(result.changes)
            if self.accountant is not None:
                self.accountant.good(result.facts)
        else:
            status.error = str(result.error)
            if self.accountant is not None:
                self.accountant.failed(clock.now(), status.error)
            if status.stale_since is None:
                status.stale_since = clock.monotonic()

    def keep_account(self) -> None:
        """Account every poll from now on: spans and peaks, and a chart point a poll
        (thinned past LIVE_CHART_POINTS). The dashboard's `i` asks; the exporter and the
        one-shot commands do not, and pay nothing for it."""
        if self.accountant is None:
            self.accountant = Accountant(self.target.settings.interval, LIVE_CHART_POINTS)

    def account(self) -> Account:
        """What this session has seen, accounted (a replay: its recording's); empty
        unless `keep_account` was asked first."""
        return self.accountant.account if self.accountant is not None else Account()

    def rewrite_changes(self, changes: Iterable[Change]) -> None:
        """Replace the change log whole (newest first), as a replay moving in time does;
        a log drawing it then draws it again rather than adding to what it shows."""
        self.changes.clear()
        self.changes.extend(changes)
        self.changes_rewritten += 1

    async def _until_next_poll(self) -> None:
        """The interval (or a backoff) passes, or `poll_now()`; while paused, only
        `poll_now()` or resuming ends the wait."""
        delay = self.poller.next_delay()
        self._waiting = True
        try:
            while True:
                paused = self.status.paused
                self.status.next_poll_at = None if paused else clock.monotonic() + delay
                self._publish(Phase.WAITING)
                if await self._woken(None if paused else delay) or not self.status.paused:
                    return
        finally:
            self._waiting = False

    async def _woken(self, delay: float | None) -> bool:
        """Wait `delay` seconds (None: for ever) or until poll_now(); True if the latter."""
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            return False
        self._wake.clear()
        return True

    def refresh(self) -> None:
        """`r`: poll now, asking everything (the settings too), however recently asked."""
        self.poller.ask_everything()
        self.poll_now()

    @property
    def webhook(self) -> WebhookView:
        """The settings and the last webhook probe, as of the last good poll."""
        return self.poller.reader.webhook

    def poll_now(self) -> None:
        """End the wait for the next poll (or, mid-poll, the next wait at once)."""
        self._wake.set()

    def pause(self, paused: bool) -> None:
        """Stop polling, or resume with a poll at once."""
        if paused == self.status.paused:
            return
        self.status.paused = paused
        if paused:
            self.status.next_poll_at = None
            self._publish(Phase.WAITING)
        elif self._waiting:
            self.poll_now()

    def use_password(self, password: str) -> None:
        """The password the user typed at start (never stored)."""
        self.target = self.target.with_password(password)
        if self.poller.client is not None:
            self.poller.client.credentials = self.target.credentials


async def read_once(
    target: Target, sample: float | None = None, webhook: str | None = None
) -> PollResult:
    """`snapshot` and `check`: one poll of `target`, as a watcher makes it; with
    `sample`, a second one that many seconds later, so counters give rates; with
    `webhook` ("probe", or "post" for a test POST too), the webhook probed first. Without
    it the webhook is never probed: no background probe, with or without `sample`."""
    async with Watcher(target) as watcher:
        watcher.poller.webhook_probe = False
        watcher.poller.db_stats_aside = False  # one poll: it waits for them
        if webhook is not None:
            # A failure here is the poll's too, which says it.
            with contextlib.suppress(WAError):
                await watcher.poller.read_webhook_first(post=webhook == "post")
        result = await watcher.poll()
        if sample is None or result.error is not None:
            return result
        await asyncio.sleep(sample)
        return await watcher.poll()


def watchers_for(
    targets: list[Target],
    max_concurrent_polls: int = 10,
    *,
    headless: bool = False,
    slots: asyncio.Semaphore | None = None,
) -> dict[str, Watcher]:
    """A watcher per target, by name, sharing a bound on concurrent polls (httpx slows
    down sharply past ~10 concurrent requests; `slots`: a bound shared with watchers
    made before, as the recorder adds deployments). `headless`: no UI to keep answering
    (the exporter), so answers are read on the loop, not in threads that contend for the
    GIL. The transport is chosen here, once (wa_tui/api/transport.py says why)."""
    if headless or len(targets) >= AIOHTTP_FROM_DEPLOYMENTS:
        targets = [replace(target, aiohttp_transport=True) for target in targets]
    slots = slots or asyncio.Semaphore(max_concurrent_polls)
    watchers = {target.name: Watcher(target, slots) for target in targets}
    for watcher in watchers.values():
        watcher.poller.read_in_thread = not headless
    return watchers
