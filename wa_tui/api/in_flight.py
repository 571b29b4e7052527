"""At most `max_in_flight` requests to one deployment at a time, across the whole process.

The API limits concurrency (past its capacity it answers 503: docs/wa-api.md, "What real
deployments do"); a monitor must never be the load that trips it. Every request to a
deployment (the login, a poll's answers, the early poll begun in a thread of its own
before the UI, `W`'s reads) takes a slot of that deployment's limit, the first asked
served first: a poll asks support and health before the stats. The early poll runs on an
event loop of its own, so a slot is handed between loops (thread-safe), never by an
asyncio primitive bound to one loop. Plain Python.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wa_tui.core.thresholds import DEFAULT_MAX_IN_FLIGHT


class InFlightLimit:
    """A deployment's slots: `most` requests in flight, the rest wait their turn. Each
    slot is held by an event loop; one whose loop has ended (a thread's, gone without
    giving it back) is taken back, so an ended loop never starves the living."""

    def __init__(self, most: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        self.most = most
        self.peak = 0  # the most ever in flight at once (tests and benchmarks)
        self._holders: list[asyncio.AbstractEventLoop] = []  # a loop per slot held
        self._lock = threading.Lock()
        self._waiting: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    async def _acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            self._forget_ended()
            if len(self._holders) < self.most and not self._waiting:
                self._take(loop)
                return
            turn: asyncio.Future[None] = loop.create_future()
            self._waiting.append((loop, turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a slot as we were cancelled: pass it on
            raise

    def _forget_ended(self) -> None:
        self._holders = [loop for loop in self._holders if not loop.is_closed()]
        while self._waiting and self._waiting[0][0].is_closed():
            self._waiting.popleft()

    def _take(self, loop: asyncio.AbstractEventLoop) -> None:
        self._holders.append(loop)
        self.peak = max(self.peak, len(self._holders))

    def _release(self) -> None:
        """The slot goes to the first still waiting, or is freed. One waiting on this
        loop is handed it at once; one on another loop (the early poll's) through that
        loop, thread-safe (which costs a wake-up of its selector)."""
        running = asyncio.get_running_loop()
        with self._lock:
            if running in self._holders:
                self._holders.remove(running)
            while self._waiting and len(self._holders) < self.most:  # `most` may be lower
                loop, turn = self._waiting.popleft()
                if turn.done() or loop.is_closed():
                    continue  # given up (cancelled, or its loop ended)
                self._take(loop)
                if loop is running:
                    turn.set_result(None)
                else:
                    loop.call_soon_threadsafe(self._hand, turn)
                return

    def _hand(self, turn: asyncio.Future[None]) -> None:
        if turn.done():  # cancelled after it was chosen: the next one has it
            self._release()
        else:
            turn.set_result(None)


_limits: dict[str, InFlightLimit] = {}
_limits_lock = threading.Lock()


def limit_for(base_url: str, most: int = DEFAULT_MAX_IN_FLIGHT) -> InFlightLimit:
    """The process's one limit for the deployment at `base_url` (its `most` as last
    configured: a config read again takes effect for the next request)."""
    with _limits_lock:
        limit = _limits.get(base_url)
        if limit is None:
            limit = _limits[base_url] = InFlightLimit(most)
        limit.most = most
        return limit
