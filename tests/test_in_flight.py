"""The in-flight limit a deployment's requests share across the process: across event
loops (the early poll's thread), in turn, and never starved by a loop that ended."""

from __future__ import annotations

import asyncio
import threading

from wa_tui.api.in_flight import InFlightLimit


def test_a_slot_held_by_a_loop_that_ended_is_taken_back() -> None:
    limit = InFlightLimit(1)
    ended = asyncio.new_event_loop()
    ended.run_until_complete(limit.slot().__aenter__())  # held, never given back
    ended.close()

    async def request() -> str:
        async with asyncio.timeout(10), limit.slot():
            return "sent"

    assert asyncio.run(request()) == "sent"


def test_a_slot_passes_between_loops_in_the_order_asked() -> None:
    limit, order = InFlightLimit(1), []
    held, release = threading.Event(), threading.Event()

    def early_poll() -> None:
        async def hold() -> None:
            async with limit.slot():
                held.set()
                await asyncio.to_thread(release.wait, 10)
                order.append("early")

        asyncio.run(hold())

    thread = threading.Thread(target=early_poll)
    thread.start()
    assert held.wait(10)

    async def two_more() -> None:
        async def one(name: str) -> None:
            async with limit.slot():
                order.append(name)

        tasks = [asyncio.create_task(one(name)) for name in ("support", "health")]
        await asyncio.sleep(0.05)  # both wait for the early poll's slot
        release.set()
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)

    asyncio.run(two_more())
    thread.join(10)
    assert order == ["early", "support", "health"] and limit.peak == 1
