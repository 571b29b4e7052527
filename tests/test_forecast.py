"""Findings that see trouble coming: a disk filling and a callback queue climbing,
forecast from the simulator's scenarios over simulated time (the clock both share is
moved a minute a poll), against the pace the scenario is known to have."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.conftest import SIMULATED_START, StartSimulator
from tests.helpers import target_for
from wa_tui.analysis.forecast import ForecastTracker, fit
from wa_tui.model.judgement import Severity
from wa_tui.simulator.scenarios import QUEUE_GROWTH_PER_SECOND, SCENARIOS
from wa_tui.watch.reader import PollResult
from wa_tui.watch.watcher import Watcher

START = SIMULATED_START


@pytest.fixture
def minutes(seconds: Callable[[float], None]) -> Callable[[float], None]:
    """Simulated time, a minute at a time."""
    return lambda count: seconds(60 * count)


async def polled(watcher: Watcher, polls: int, minutes: Callable[[float], None]) -> PollResult:
    result = await watcher.poll()
    for _ in range(polls - 1):
        minutes(1)
        result = await watcher.poll()
    assert result.error is None
    return result


def codes(result: PollResult) -> dict[str, tuple[Severity, str]]:
    return {f.code: (f.severity, f.message) for f in result.findings}


async def test_a_filling_disk_is_forecast_within_a_fifth_of_the_truth(
    start_simulator: StartSimulator, minutes: Callable[[float], None]
) -> None:
    deployment = SCENARIOS["disk-filling"]()
    ((node_id, filling),) = deployment.disk_filling.items()
    async with Watcher(target_for(start_simulator(deployment))) as watcher:
        result = await polled(watcher, 25, minutes)  # the burst of logs among them
        assert result.snapshot is not None
        free = result.snapshot.free_space(result.snapshot.by_id[node_id])["logs"]
        assert free is not None
        truth = filling.seconds_left(free)
        (forecast,) = [f for f in watcher.poller.reader.forecasts if f.what == "disk_logs"]
    assert forecast.node == node_id
    assert abs(forecast.seconds_left - truth) / truth < 0.2
    severity, message = codes(result)["DISK_FULL_SOON"]
    assert severity is Severity.WARNING and "logs directory is full in about 2" in message


async def test_a_climbing_queue_is_forecast_and_raised_after_two_polls_agree(
    start_simulator: StartSimulator, minutes: Callable[[float], None]
) -> None:
    server = start_simulator(SCENARIOS["queue-climbing"]())
    async with Watcher(target_for(server)) as watcher:
        third = await polled(watcher, 3, minutes)  # the first forecast: not yet a finding
        assert "CALLBACK_QUEUE_RISING" not in codes(third)
        minutes(1)
        fourth = await watcher.poll()
        queue = watcher.vitals.latest.callback_queue if watcher.vitals.latest else None
        (forecast,) = [f for f in watcher.poller.reader.forecasts if f.what == "callback_queue"]
    assert queue is not None
    truth = (50_000 - queue) / QUEUE_GROWTH_PER_SECOND
    assert abs(forecast.seconds_left - truth) / truth < 0.2
    severity, message = codes(fourth)["CALLBACK_QUEUE_RISING"]
    assert severity is Severity.WARNING and "reaches 50,000 (error 1016 near) in about" in message


def _series(tracker: ForecastTracker, values: list[float], snapshot_of) -> list[str]:
    raised = []
    for minute, value in enumerate(values):
        tracker.update(snapshot_of(minute, value), None)
        raised.append(",".join(f.code for f in tracker.findings()))
    return raised


def test_no_forecast_from_too_few_polls_a_poor_fit_or_a_flat_series() -> None:
    assert fit([(0, 1.0)]) is None
    slope, _, explained = fit([(0, 10.0), (60, 8.0), (120, 6.0)]) or (0, 0, 0)
    assert slope == pytest.approx(-2 / 60) and explained == pytest.approx(1.0)
    _, _, noisy = fit([(0, 10.0), (60, 2.0), (120, 9.0), (180, 1.0), (240, 8.0)]) or (0, 0, 0)
    assert noisy < 0.6


def test_a_noisy_series_near_its_threshold_does_not_flap(monkeypatch) -> None:
    """Raised after two polls agree, cleared only well past the threshold."""
    from wa_tui.api.models import build_snapshot
    from wa_tui.simulator import SimDeployment

    deployment = SimDeployment.single()
    node = deployment.nodes["single"]
    gib = 2**30

    def snapshot_of(minute: int, free: float):
        node.free_space_logs = int(free)
        at = START + timedelta(minutes=minute)
        return build_snapshot(deployment.support_payload(), None, fetched_at=at)

    tracker = ForecastTracker()
    # 1 GiB an hour from 20 GiB: about 20 h left, under the 24 h warning, noisy.
    noise = [0, 0.02, -0.02, 0.03, -0.01, 0.02, -0.03, 0.01]
    values = [(20 - m / 60 + noise[m % 8]) * gib for m in range(40)]
    raised = _series(tracker, values, snapshot_of)
    first = raised.index("DISK_FULL_SOON")
    assert first >= 3 and all(r == "DISK_FULL_SOON" for r in raised[first:])
    # Then it stops falling: cleared, once, and not raised again.
    flat = [values[-1] + (gib * 0.01 if m % 2 else 0) for m in range(40)]
    after = _series(tracker, flat, lambda minute, v: snapshot_of(minute + 40, v))
    cleared = after.index("")
    assert all(r == "" for r in after[cleared:])


@pytest.mark.usefixtures("no_slow_callbacks")
async def test_the_exporter_exports_the_forecast(
    start_simulator: StartSimulator, minutes: Callable[[float], None]
) -> None:
    from wa_tui.outputs.exporter import WatchersCollector

    server = start_simulator(SCENARIOS["queue-climbing"]())
    async with Watcher(target_for(server, name="prod")) as watcher:
        await polled(watcher, 4, minutes)
        families = {f.name: f for f in WatchersCollector([watcher]).collect()}
    (sample,) = families["wa_forecast_seconds"].samples
    assert sample.labels == {"deployment": "prod", "node": "", "what": "callback_queue"}
    assert 0 < sample.value < 30 * 60
    findings = {s.labels["code"] for s in families["wa_finding"].samples}
    assert "CALLBACK_QUEUE_RISING" in findings
