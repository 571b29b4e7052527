"""What a watcher says of itself and hands its subscribers, and the pool that runs
watchers: the phases of a poll, the status a status line draws, what a source can do,
the subscriptions. Plain asyncio, light: the UI imports it before anything polls (a
follower's first frame is drawn before the watcher, the parser and the analysis load)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, NamedTuple

from wa_tui.core import memory
from wa_tui.core.freshness import Freshness, freshness

if TYPE_CHECKING:
    from wa_tui.watch.poller import EarlyPoll
    from wa_tui.watch.reader import PollResult
    from wa_tui.watch.watcher import Watcher

log = logging.getLogger(__name__)

# Updates a subscriber may fall behind by before the oldest are dropped (and counted).
SUBSCRIBER_BACKLOG = 100
FINISH_SECONDS = 10.0  # what a closing watcher waits for a subscriber that must finish


class Phase(StrEnum):
    """What a watcher tells its subscribers."""

    POLLING = "polling"  # a poll began
    POLLED = "polled"  # a poll ended: the update carries its result
    WAITING = "waiting"  # the wait for the next poll began (or pause changed it)


@dataclass(frozen=True)
class Update:
    watcher: Watcher
    phase: Phase
    result: PollResult | None = None


Consumer = Callable[[Update], Awaitable[object] | object]


@dataclass
class Following:
    """What a viewer attached to a recorder says of it (wa_tui/recording/follow.py)."""

    interval: float  # the recorder's
    last_poll_at: datetime | None = None  # of the newest recorded poll
    live: bool = True  # the newest poll on screen, and each next one as it comes
    held: bool = False  # `p`: the view stays; the recorder goes on
    stopped: str | None = None  # why the recorder is taken to have stopped

    def freshness(self) -> Freshness | None:
        """How old the newest recorded poll is (None: there is none yet)."""
        if self.last_poll_at is None:
            return None
        return freshness(self.last_poll_at, self.interval)

    @property
    def late(self) -> bool:
        """The newest poll is late (core/freshness.py): its age is counted out loud."""
        fresh = self.freshness()
        return fresh is not None and fresh.late


@dataclass
class WatchStatus:
    """Where polling stands, in the watcher's words; a status line only draws it."""

    polling_since: float | None = None  # clock.monotonic() when the poll in flight began
    next_poll_at: float | None = None  # clock.monotonic(); None while paused or polling
    error: str | None = None  # why the last poll failed; None after a good one
    stale_since: float | None = None  # clock.monotonic() of the first failure in a row
    paused: bool = False
    # Whose judgement is shown, when it is not the one the polls were judged with where
    # they were read first ("re-judged with this config"); None: that one.
    judged: str | None = None

    @property
    def polling(self) -> bool:
        return self.polling_since is not None

    @property
    def ticking(self) -> bool:
        """What is said of polling changes with time alone: "refreshing…" on a slow poll,
        the retry countdown, the age of the data while paused."""
        return self.paused or self.polling or self.error is not None


class Capabilities(NamedTuple):
    """What a source of polls can do: the dashboard asks these, never what kind of
    source it is (polled here, a recording replayed, a recorder followed)."""

    polls: bool = True  # it polls the deployment itself: `r` asks now, `p` pauses polling
    sends: bool = True  # it may send the deployment requests (logs, the webhook's probe)
    seeks: bool = False  # it moves in time (`[ ] { } t`): the poll shown may not be now
    follows: bool = False  # a recorder's polls, shown as they come (`space` back to them)
    writes: bool = True  # it can record what it polls (`--record`): the polls are its own
    # It can be acted on; False: shown while it loads (a recorder's stored poll, drawn
    # before its follower has read the poll's history): only quitting and help work.
    ready: bool = True


LIVE = Capabilities()


# How a part of what a source says of itself reads: the status line's colours for it.
Tone = Literal["replay", "recorder", "late", "held"]


class Said(NamedTuple):
    """What the status line says of the source: its badge (None: polled here, nothing to
    flag) and, instead of the polling's, what it does next, in parts of a tone each."""

    badge: str | None = None
    tone: Tone = "replay"  # the badge's
    doing: tuple[tuple[str, Tone], ...] = ()  # empty: the poller's own (every 5s, …)
    error_first: bool = False  # why the data is stale before what it does next


class Subscription:
    """One consumer's queue and the task that hands it each update in turn. `finish`: its
    consumer is handed what was published before the watcher closes (a recorder's last
    write), within FINISH_SECONDS."""

    def __init__(self, consumer: Consumer, name: str, finish: bool = False) -> None:
        self.consumer = consumer
        self.name = name
        self.finish = finish
        self._updates: deque[Update] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()  # nothing queued, nothing being handed over
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def put(self, update: Update) -> None:
        if len(self._updates) >= SUBSCRIBER_BACKLOG:
            lost = self._updates.popleft()
            log.warning("%s fell behind: %s of %s dropped", self.name, lost.phase, lost.watcher)
        self._updates.append(update)
        self._ready.set()
        self._idle.clear()
        if self._task is None:
            self._task = asyncio.create_task(self._deliver(), name=f"deliver to {self.name}")

    async def _deliver(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._updates:
                update = self._updates.popleft()
                try:
                    outcome = self.consumer(update)
                    if inspect.isawaitable(outcome):
                        await outcome
                except Exception:  # one consumer's bug is not the others' problem
                    log.exception("%s failed on %s of %s", self.name, update.phase, update.watcher)
            self._idle.set()

    async def finished(self) -> None:
        """Once every update published so far has been handed over."""
        await self._idle.wait()

    def cancel(self) -> None:
        """Nothing more handed over: what is queued is dropped."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._updates.clear()
        self._idle.set()


def settle_after_first_polls(
    watchers: Iterable[Watcher], settle: Callable[[], object] = memory.settle
) -> None:
    """`settle` memory (wa_tui.core.memory) once every watcher's first poll has ended: what
    exists then mostly lives as long as the process. A first poll without data lets
    collection resume meanwhile (nothing to settle from it)."""
    waiting = {watcher.name for watcher in watchers}

    def polled(update: Update) -> None:
        if update.phase is not Phase.POLLED or update.watcher.name not in waiting:
            return
        waiting.discard(update.watcher.name)
        if update.result is None or update.result.snapshot is None:
            memory.resume()
        if not waiting:
            settle()

    for watcher in watchers:
        watcher.subscribe(polled, "settling memory")


class WatcherPool:
    """Watchers started, stopped and awaited in one place (the app's, the exporter's and
    the recorder's): a watcher stopped has stopped polling, and its subscribers that must
    finish (a recorder's write) have, before `stop` returns; no sleep to guess."""

    def __init__(self) -> None:
        self._running: dict[Watcher, asyncio.Task[None]] = {}

    def start(
        self, watcher: Watcher, after: float = 0.0, early: Future[EarlyPoll] | None = None
    ) -> None:
        """`watcher` polls from `after` seconds on (many deployments' polls spread), its
        first poll `early`'s when one was begun before the UI loaded."""
        self._running[watcher] = asyncio.create_task(
            self._run(watcher, after, early), name=f"polling {watcher.name}"
        )

    @staticmethod
    async def _run(watcher: Watcher, after: float, early: Future[EarlyPoll] | None) -> None:
        await asyncio.sleep(after)
        await watcher.run(early)

    async def stop(self, watcher: Watcher) -> None:
        """Its polling ended (a poll in flight cancelled), its subscribers finished, its
        connection closed."""
        task = self._running.pop(watcher, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await watcher.aclose()

    async def stop_all(self, watchers: Iterable[Watcher]) -> None:
        """Every one at once: a pool of hundreds stops in a moment."""
        await asyncio.gather(*(self.stop(watcher) for watcher in watchers))
