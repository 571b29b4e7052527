"""Re-create the README's screenshots: `python screenshots/make_screenshots.py`.

Each SVG is the demo deployment at one moment of its story, driven step by step (not by
timers) so the pictures show the same moments on every run.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from textual.pilot import Pilot

from wa_tui.cli import main as cli
from wa_tui.core import clock
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
from wa_tui.simulator.faults import FaultPlan
from wa_tui.simulator.incident import IncidentTruth, incident_story
from wa_tui.simulator.node_logs import NodeLogs
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.fleet_screen import FleetScreen
from wa_tui.ui.replay_app import ReplayApp
from wa_tui.watch import targets

HERE = Path(__file__).parent
SIZE = (160, 50)
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the incident's simulated morning

Scene = Callable[[SimulatorServer, Pilot], Awaitable[None]]


async def _refreshed(app: WaTuiApp, pilot: Pilot) -> None:
    """Poll now and wait until that poll has reached the screen."""
    polls = app.watcher.poller.polls
    app.action_refresh()
    while app.watcher.poller.polls == polls or app.watcher.status.polling:
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def _story_until(server: SimulatorServer, words: str) -> None:
    while words not in server.advance():
        pass


async def shoot(name: str, scene: Scene, size: tuple[int, int] = SIZE) -> None:
    deployment = SimDeployment.multiconnect(8, spares=2)
    with SimulatorServer(deployment, story=demo_story(deployment), step_seconds=3600) as server:
        target = targets.demo(
            server.url, server.username, server.password, targets.Overrides(interval=3600)
        )
        app = WaTuiApp([target])
        async with app.run_test(size=size) as pilot:
            await _refreshed(app, pilot)
            await scene(server, pilot)
            if name == "webhook-outage":  # a queue that climbs poll after poll
                await _queue_climbing(app, server, pilot)
            await _refreshed(app, pilot)
            app.save_screenshot(str(HERE / f"{name}.svg"))
    print(f"wrote screenshots/{name}.svg")


async def healthy(server: SimulatorServer, pilot: Pilot) -> None:
    await pilot.press("j", "j")


async def socket_down(server: SimulatorServer, pilot: Pilot) -> None:
    await _story_until(server, "socket to WhatsApp went down")


async def failover(server: SimulatorServer, pilot: Pilot) -> None:
    await _story_until(server, "took the lease")


async def shard_orphaned(server: SimulatorServer, pilot: Pilot) -> None:
    await _story_until(server, "has no owner")


async def webhook_outage(server: SimulatorServer, pilot: Pilot) -> None:
    await _story_until(server, "webhook answering 503")


async def _queue_climbing(app: WaTuiApp, server: SimulatorServer, pilot: Pilot) -> None:
    """Minutes of an outage in a few polls: each coreapp's queue grows between them."""
    traffic = server.deployment.traffic
    for _ in range(12):
        with server.deployment.lock:
            for node in server.deployment.serving_coreapps():
                traffic.node(node.id).callback_queue += 120 + 10 * len(traffic.nodes)
        await pilot.pause(0.25)
        await _refreshed(app, pilot)


async def help_screen(server: SimulatorServer, pilot: Pilot) -> None:
    await pilot.press("question_mark")


FLEET = {
    "eu-retail": "healthy-multiconnect",
    "us-support": "socket-down",
    "br-payments": "callback-failing",
    "in-notify": "build-expiring",
    "mx-marketing": "healthy-ha",
}


async def shoot_fleet() -> None:
    """The fleet screen: five deployments, each in its own state, worst first."""
    servers = {name: SimulatorServer(SCENARIOS[scenario]()) for name, scenario in FLEET.items()}
    for server in servers.values():
        server.start()
    try:
        app = WaTuiApp(
            [
                replace(targets.demo(s.url, s.username, s.password, targets.Overrides()), name=name)
                for name, s in servers.items()
            ]
        )
        async with app.run_test(size=SIZE) as pilot:
            while not (
                isinstance(app.screen, FleetScreen)
                and all(w.snapshot is not None and w.vitals.latest for w in app.watchers.values())
            ):
                await pilot.pause(0.1)
            app.screen.refresh_rows()
            await pilot.pause(0.3)
            app.save_screenshot(str(HERE / "fleet.svg"))
    finally:
        for server in servers.values():
            server.stop()
    print("wrote screenshots/fleet.svg")


async def _until(pilot: Pilot, condition: Callable[[], object]) -> None:
    while not condition():
        await pilot.pause(0.05)


async def shoot_why() -> None:
    """README "When callbacks fail": the webhook screen during the outage after a test
    POST, and then a coreapp's log (the demo's container logs, tailed)."""
    deployment = SimDeployment.multiconnect(8, spares=2)
    with tempfile.TemporaryDirectory(prefix="wa-tui-demo-logs-") as folder:
        logs = NodeLogs(deployment, Path(folder))
        story = demo_story(deployment)
        with SimulatorServer(deployment, story=story, step_seconds=3600, node_logs=logs) as server:
            await _story_until(server, "webhook answering 503")
            tail = ["tail", "-n", "500", "-F", logs.template]
            overrides = targets.Overrides(interval=3600)
            target = targets.demo(server.url, server.username, server.password, overrides, tail)
            app = WaTuiApp([target])
            async with app.run_test(size=SIZE) as pilot:
                await _refreshed(app, pilot)
                await pilot.pause(1.0)  # a minute's callbacks in a second: rates to read
                await _refreshed(app, pilot)
                await pilot.press("W")
                await pilot.press("t", "y")
                await _until(pilot, lambda: "WEBHOOK_REJECTS" in str(app.watcher.findings))
                await pilot.pause(0.3)
                app.save_screenshot(str(HERE / "webhook.svg"))
                await pilot.press("escape", "j", "j", "j", "l")
                await _until(
                    pilot, lambda: len(getattr(app.screen.query_one("#log"), "lines", ())) > 60
                )
                await pilot.pause(0.3)
                app.save_screenshot(str(HERE / "node-log.svg"))
    print("wrote screenshots/webhook.svg and screenshots/node-log.svg")


async def shoot_incident() -> None:
    """README "The incident, accounted": the incident scenario recorded over 16 minutes
    of simulated time (tests/test_incident.py records it so), replayed, `i` pressed;
    and `wa-tui report --output` on it, its charts in screenshots/incident-report/."""
    from tests.test_incident import record_incident

    deployment = SimDeployment.multiconnect(8, spares=2)
    truth = IncidentTruth()
    moved = [0.0]

    def move(seconds: float) -> None:
        moved[0] += seconds

    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.object(clock, "monotonic", lambda: 1000.0 + moved[0]),
        mock.patch.object(clock, "now", lambda: START + timedelta(seconds=moved[0])),
        SimulatorServer(
            deployment,
            story=incident_story(deployment, truth),
            step_seconds=3600,
            faults=FaultPlan(),
        ) as server,
    ):
        path = Path(folder) / "incident.db"
        await record_incident(
            server, path, lambda seconds: moved.__setitem__(0, moved[0] + seconds)
        )
        report = HERE / "incident-report"
        shutil.rmtree(report, ignore_errors=True)
        cli.main(["report", str(path), "--output", str(report)])
        app = ReplayApp(ReplayWatcher.open(path))
        async with app.run_test(size=SIZE) as pilot:
            await _until(pilot, lambda: app.replay.position >= 0)
            await pilot.press("i")
            await _until(pilot, lambda: type(app.screen).__name__ == "AccountScreen")
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "incident.svg"))
    print("wrote screenshots/incident.svg and screenshots/incident-report/")


async def main() -> None:
    await shoot_incident()
    await shoot_why()
    await shoot_fleet()
    await shoot("dashboard-80x24", healthy, (80, 24))
    for name, scene in (
        ("dashboard", healthy),
        ("socket-down", socket_down),
        ("failover", failover),
        ("shard-unassigned", shard_orphaned),
        ("webhook-outage", webhook_outage),
        ("help", help_screen),
    ):
        await shoot(name, scene)


if __name__ == "__main__":
    asyncio.run(main())
