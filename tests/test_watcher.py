"""The headless watcher against a simulator over real TCP: no Textual anywhere."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import StartSimulator
from tests.helpers import target_for
from wa_tui.simulator import SimulatorServer
from wa_tui.watch.state import Phase, Update
from wa_tui.watch.watcher import Watcher


def test_watcher_polls_without_textual(simulator: SimulatorServer) -> None:
    program = textwrap.dedent(
        """
        import asyncio, os, sys
        from wa_tui.watch.targets import Overrides, demo
        from wa_tui.watch.state import Phase
        from wa_tui.watch.watcher import Watcher

        async def main():
            target = demo(os.environ["URL"], "admin", os.environ["PASSWORD"],
                          Overrides(interval=0.05))
            polled = []
            async with Watcher(target) as watcher:
                watcher.subscribe(lambda u: u.phase is Phase.POLLED and polled.append(u))
                task = asyncio.create_task(watcher.run())
                async with asyncio.timeout(20):
                    while len(polled) < 3:
                        await asyncio.sleep(0.02)
                task.cancel()
                print(len(watcher.snapshot.nodes), watcher.status.error)
            print("textual" in sys.modules, "wa_tui.ui" in sys.modules)

        asyncio.run(main())
        """
    )
    env = dict(os.environ, URL=simulator.url, PASSWORD=simulator.password)
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["12 None", "False False"]


async def test_a_slow_or_failing_consumer_stalls_neither_the_loop_nor_the_others(
    simulator: SimulatorServer,
) -> None:
    never = asyncio.Event()
    seen: list[Update] = []

    def failing(update: Update) -> None:
        raise RuntimeError("a consumer's bug")

    async def stuck(update: Update) -> None:
        await never.wait()

    async with Watcher(target_for(simulator, interval=0.05)) as watcher:
        watcher.subscribe(failing)
        slow = watcher.subscribe(stuck)
        watcher.subscribe(seen.append)
        task = asyncio.create_task(watcher.run())
        try:
            async with asyncio.timeout(20):
                while sum(u.phase is Phase.POLLED for u in seen) < 5:
                    await asyncio.sleep(0.02)
            # The stuck one has not been handed what came since, and is not waited for.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await slow.finished()
        finally:
            task.cancel()
    phases = [u.phase for u in seen]
    assert phases[:3] == [Phase.POLLING, Phase.POLLED, Phase.WAITING]
    assert all(u.result is not None and u.result.error is None for u in seen if u.result)
    assert watcher.poller.polls >= 5 and watcher.snapshot is not None


async def test_paused_watcher_polls_only_when_asked(simulator: SimulatorServer) -> None:
    async with Watcher(target_for(simulator, interval=0.05)) as watcher:
        task = asyncio.create_task(watcher.run())
        try:
            async with asyncio.timeout(10):
                while watcher.poller.polls < 2:
                    await asyncio.sleep(0.02)
            watcher.pause(True)
            async with asyncio.timeout(10):  # a poll in flight ends
                while watcher.status.polling:
                    await asyncio.sleep(0.02)
            paused_at = watcher.poller.polls
            await asyncio.sleep(0.3)  # six intervals in which nothing may happen
            assert watcher.poller.polls == paused_at
            assert watcher.status.next_poll_at is None
            watcher.poll_now()
            async with asyncio.timeout(10):
                while watcher.poller.polls == paused_at:
                    await asyncio.sleep(0.02)
            watcher.pause(False)
            async with asyncio.timeout(10):
                while watcher.poller.polls < paused_at + 3:
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()


async def test_failure_marks_stale_and_keeps_the_last_good_snapshot(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator()
    async with Watcher(target_for(server, interval=0.05, timeout=1)) as watcher:
        good = await watcher.poll()
        assert good.snapshot is not None and watcher.status.stale_since is None
        server.stop()
        failed = await watcher.poll()
        assert failed.snapshot is None and "cannot reach" in str(failed.error)
        assert watcher.snapshot is good.snapshot  # the last good data stays
        assert watcher.status.stale_since is not None
        assert watcher.status.error == str(failed.error)
