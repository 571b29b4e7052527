"""What one poll asks and when: the client's requests (support, health, the stats a build
serves, the settings now and then, the webhook probe in the background), the backoff
after a failure, and the first poll begun before the UI loads (`poll_early`). What the
answers mean is the reader's (wa_tui/watch/reader.py).

The poller does not schedule itself: its watcher (wa_tui/watch/watcher.py) awaits `poll()`
and asks `next_delay()` when the poll has ended, so polls never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wa_tui.analysis.webhook import (
    PROBE_AT_ONCE,
)
from wa_tui.api.endpoints import (
    APP_STATS,
    DB_STATS,
    METRICS,
    SETTINGS,
    WEBHOOK_CA,
    WEBHOOK_PROBE,
)
from wa_tui.api.webhook_probe import PROBE_EVERY_SECONDS, WebhookProbe, probe, send_test_post
from wa_tui.core import clock
from wa_tui.core.errors import SlowAnswer, WAError
from wa_tui.core.text import exact_duration
from wa_tui.model.judgement import Finding

if TYPE_CHECKING:
    from wa_tui.api.client import WAClient
    from wa_tui.watch.targets import Target
from wa_tui.watch.reader import PollResult, Reader, is_limited

MAX_BACKOFF_SECONDS = 60.0


# An endpoint this deployment does not serve is asked again this much later, not every poll.
NOT_SERVED_RETRY_SECONDS = 600.0


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
        # The database's stats can take long: a watcher asks them aside, support and
        # health going on every interval meanwhile, and hands them in with the poll after
        # they came. A one-shot command (snapshot, check) waits for them in its poll.
        self.db_stats_aside = True
        self._db_task: asyncio.Task[None] | None = None
        self._db_asked_at = 0.0  # clock.monotonic()

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
        aside = self.db_stats_aside and DB_STATS in asked
        if aside:
            asked = tuple(path for path in asked if path != DB_STATS)
        try:
            answers = await self.client.fetch_answers(asked)
            carried = {**self._carried, **self._db_stats_out()}
            if carried:
                answers = replace(answers, stats={**answers.stats, **carried})
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
            self._say_how_long_limited(error)
            return PollResult(None, error)
        self.failures = 0
        self.last_error = None
        self._schedule(asked, answers.stats)
        if aside:  # after the poll's own: support and health are asked first
            self._ask_db_stats_aside()
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

    def _say_how_long_limited(self, error: WAError) -> None:
        """A poll refused as too many: since when the API has limited us, said with it."""
        self.reader.note_failure(error, clock.now())
        since = self.reader.limited_since
        if is_limited(error) and since is not None:
            lasted = (clock.now() - since).total_seconds()
            error.what += f" (limited for {exact_duration(lasted)}, since {since:%H:%M:%S})"

    def _ask_db_stats_aside(self) -> None:
        """`/v1/stats/db` asked in the background (never two at once); what it answers
        is handed in with the poll after it came."""
        self._stats_due[DB_STATS] = self._next_due(DB_STATS, None)
        if self.client is None or (self._db_task is not None and not self._db_task.done()):
            return
        client = self.client

        async def ask() -> None:
            try:
                self._carried[DB_STATS] = await client.get_body(DB_STATS, api_key_accepted=True)
            except WAError as error:
                self._carried[DB_STATS] = error

        self._db_asked_at = clock.monotonic()
        self._db_task = asyncio.create_task(ask(), name="database stats")

    def _db_stats_out(self) -> dict[str, WAError]:
        """While the database's stats are out past an interval, the poll says so."""
        out = clock.monotonic() - self._db_asked_at
        if self._db_task is None or self._db_task.done() or out < self.interval:
            return {}
        assert self.client is not None
        timeout = self.client.db_stats_timeout
        said = f"slow: asked {exact_duration(out)} ago, no answer yet (waits {timeout:g}s)"
        return {DB_STATS: SlowAnswer(said)}

    def _schedule(self, asked: tuple[str, ...], answered: Mapping[str, object]) -> None:
        for path in asked:
            if (due := self._next_due(path, answered.get(path))) is not None:
                self._stats_due[path] = due

    def _next_due(self, path: str, answer: object) -> float | None:
        """When `path` is asked next, after this `answer` (None: as soon as due again)."""
        now = clock.monotonic()
        if is_limited(answer):  # asked again later: never more requests
            return now + min(self.interval * 4, MAX_BACKOFF_SECONDS)
        if path in self.reader.not_served:
            return now + NOT_SERVED_RETRY_SECONDS
        if path == DB_STATS:
            return now + self.db_stats_interval
        if path in (SETTINGS, WEBHOOK_CA):
            return now + self.settings_interval
        return None

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
        for task in (self._probe_task, self._db_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
