"""Vitals: the metric-family parser, rates across a reset, the bounded history, and the
simulator's stats and metrics over real TCP with a token and with an API key."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import StartSimulator
from tests.helpers import target_for
from wa_tui.analysis.vitals import HISTORY_POINTS, VitalsTracker
from wa_tui.api.metrics import parse_metrics
from wa_tui.simulator import SimDeployment
from wa_tui.watch.watcher import Watcher

# Meta's documented example of /v1/stats/app (single instance).
DOCUMENTED_APP = {
    "stats": {
        "app": {
            "callback_queue_size": {
                "data": [{"value": 450}],
                "help": "Current callback queue size",
                "type": "gauge",
            },
            "callback_requests_duration_ms_count": {
                "data": [
                    {"labels": {"result": "success", "type": "inbound_message"}, "value": 2},
                    {"labels": {"result": "1", "type": "status_change"}, "value": 28},
                ],
                "type": "counter",
            },
            "brand_new_family": {"data": [{"labels": {"shiny": "yes"}, "value": 1}]},
            "broken_family": {"data": "not a list"},
        }
    }
}
DOCUMENTED_DB = {
    "stats": {
        "db": {
            "host1:cid1": {},
            "master:cid2": {
                "db_pending_messages": {"type": "gauge", "data": [{"value": 17}]},
            },
        }
    }
}


def test_documented_shapes_are_read_and_unknown_families_kept() -> None:
    app = parse_metrics(DOCUMENTED_APP, "/v1/stats/app")
    families = app.nodes["single"]
    assert families["callback_queue_size"].total() == 450
    callbacks = families["callback_requests_duration_ms_count"].samples
    assert ((("result", "1"), ("type", "status_change")), 28.0) in callbacks
    assert families["brand_new_family"].samples == (((("shiny", "yes"),), 1.0),)
    assert "broken_family" not in families
    assert app.problems == ("broken_family: not a family: expected an object with a 'data' list",)
    db = parse_metrics(DOCUMENTED_DB, "/v1/stats/db")
    assert db.nodes["host1:cid1"] == {}
    assert db.nodes["master:cid2"]["db_pending_messages"].total() == 17


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@pytest.mark.slow
@given(section=json_values, path=st.sampled_from(["/v1/stats/app", "/v1/stats/db", "/metrics"]))
def test_any_json_is_read_or_refused_with_a_value_error(section: Any, path: str) -> None:
    payload = {"metrics": section} if path == "/metrics" else {"stats": {path[10:]: section}}
    try:
        answer = parse_metrics(payload, path)
    except ValueError:
        return
    for _, family in answer.families():
        assert all(isinstance(value, float) for _, value in family.samples)


def _counter(value: float, node: str = "c:1") -> dict[str, Any]:
    family = {
        "type": "counter",
        "data": [{"labels": {"result": "503", "type": "status_change"}, "value": value}],
    }
    return {"stats": {"app": {node: {"callback_requests_duration_ms_count": family}}}}


def test_rates_never_go_negative_across_a_reset_and_the_reset_is_a_restart() -> None:
    tracker = VitalsTracker()
    start = datetime(2026, 11, 26, tzinfo=UTC)
    rates, restarted = [], []
    for second, value in enumerate([100, 110, 130, 5, 15]):
        answer = parse_metrics(_counter(value), "/v1/stats/app")
        vitals = tracker.update(
            {"/v1/stats/app": answer}, start + timedelta(seconds=second), second
        )
        rates.append(vitals.callback_failures_per_s)
        restarted.append(vitals.restarted)
    assert rates == [None, 10.0, 20.0, 0.0, 10.0]  # the reset poll: no rate, not negative
    assert restarted == [(), (), (), ("c:1",), ()]
    codes = [f.code for f in tracker.findings(start + timedelta(seconds=4))]
    assert "NODE_RESTARTED" in codes


def test_db_errors_by_their_labels_and_an_unknown_label_is_neither() -> None:
    tracker = VitalsTracker()
    start = datetime(2026, 11, 26, tzinfo=UTC)
    for second in range(2):
        data = [
            {"labels": {"db": "configStore", "request": request}, "value": 10.0 * second}
            for request in ("write", "commit", "read", "vacuum")
        ]
        family = {"type": "counter", "data": data}
        answer = {"stats": {"app": {"db_request_error_duration_us_count": family}}}
        vitals = tracker.update(
            {"/v1/stats/app": parse_metrics(answer, "/v1/stats/app")},
            start + timedelta(seconds=second),
            second,
        )
    assert vitals.db_write_errors_per_s == 20.0 and vitals.db_read_errors_per_s == 10.0
    assert dict(vitals.db_errors_by_request)["vacuum"] == 10.0  # listed, counted as neither
    (errors,) = [f for f in tracker.findings(start) if f.severity.name == "CRITICAL"]
    assert "database writes failing: 20.00 errors/s (write/commit)" in errors.message


def test_history_is_bounded_in_time_and_points() -> None:
    tracker = VitalsTracker()
    start = datetime(2026, 11, 26, tzinfo=UTC)
    gauge = {"stats": {"app": {"callback_queue_size": {"type": "gauge", "data": [{"value": 1}]}}}}
    answer = parse_metrics(gauge, "/v1/stats/app")
    for second in range(0, 4 * 3600, 2):  # four hours at a 2 s interval
        tracker.update({"/v1/stats/app": answer}, start + timedelta(seconds=second), second)
    points = tracker.history["callback_queue"]
    assert len(points) <= HISTORY_POINTS
    assert (points[-1][0] - points[0][0]).total_seconds() <= 30 * 60


def test_label_churn_does_not_grow_memory_past_the_cap() -> None:
    from wa_tui.analysis.vitals import MAX_COUNTERS

    tracker = VitalsTracker()
    start = datetime(2026, 11, 26, tzinfo=UTC)
    for poll in range(5):
        data = [{"labels": {"id": f"{poll}-{i}"}, "value": 1} for i in range(500)]
        families = {f"family_{j}": {"type": "counter", "data": data} for j in range(10)}
        answer = parse_metrics({"stats": {"app": families}}, "/v1/stats/app")
        tracker.update({"/v1/stats/app": answer}, start + timedelta(seconds=poll), poll)
    assert len(tracker._counters) <= MAX_COUNTERS


async def test_simulator_serves_stats_with_a_token_and_with_an_api_key(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SimDeployment.multiconnect(8))
    async with httpx.AsyncClient(base_url=server.url) as http:
        login = await http.post("/v1/users/login", auth=(server.username, server.password))
        token = login.json()["users"][0]["token"]
        for header in (f"Bearer {token}", f"Apikey {server.api_key}"):
            for path in ("/v1/stats/app", "/v1/stats/db", "/metrics"):
                answer = await http.get(path, headers={"Authorization": header})
                assert answer.status_code == 200, (header[:6], path)
        refused = await http.get("/metrics", headers={"Authorization": "Apikey wrong"})
        assert refused.status_code == 401
        support = await http.get(
            "/v1/support", headers={"Authorization": f"Apikey {server.api_key}"}
        )
        assert support.status_code == 401  # support takes the login token only


async def test_an_api_key_reads_health_and_stats_and_support_keeps_the_token(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SimDeployment.multiconnect(8))
    plain = target_for(server)
    target = replace(plain, credentials=replace(plain.credentials, api_key=server.api_key))
    async with Watcher(target) as watcher:
        await watcher.poll()
        await asyncio.sleep(0.2)
        result = await watcher.poll()
    assert result.error is None and result.vitals is not None
    assert result.vitals.callbacks_per_s and result.vitals.callbacks_per_s > 0
    assert server.api_key_requests >= 6  # health, stats and metrics, each poll
    assert server.logins == 1  # support logged in once


async def test_a_restart_is_a_change_and_a_finding(start_simulator: StartSimulator) -> None:
    server = start_simulator(SimDeployment.multiconnect(8))
    async with Watcher(target_for(server)) as watcher:
        await watcher.poll()
        await asyncio.sleep(0.2)
        await watcher.poll()
        server.deployment.restart()  # the webapp
        await asyncio.sleep(0.1)
        result = await watcher.poll()
    assert any(c.kind.value == "restarted" for c in watcher.changes)
    assert "NODE_RESTARTED" in [f.code for f in result.findings]


def test_hostile_names_and_labels_are_data_on_screen() -> None:
    from wa_tui.ui.vitals_panel import render_vitals

    tracker = VitalsTracker()
    start = datetime(2026, 11, 26, tzinfo=UTC)
    node = "c:1\x1b]0;owned\x07"
    for second, value in enumerate([0, 50]):
        data = [{"labels": {"result": "[bold]5\x1b[2J03", "type": "x"}, "value": value}]
        family = {"type": "counter", "data": data}
        queue = {"type": "gauge", "data": [{"value": 9}]}
        payload = {
            "stats": {
                "app": {
                    node: {
                        "callback_requests_duration_ms_count": family,
                        "callback_queue_size": queue,
                    },
                    "c:2": {"\x1b[31mweird": {"data": [{"value": "NaN"}]}},
                }
            }
        }
        answer = parse_metrics(payload, "/v1/stats/app")
        tracker.update({"/v1/stats/app": answer}, start + timedelta(seconds=second), second)
    shown = render_vitals(tracker, ()).plain
    assert "\x1b" not in shown and "\x07" not in shown
    assert "[bold]5\\x1b[2J03" in shown  # markup-looking text stays text
    assert "c:1\\x1b]0;owned\\x07 9" in shown
    assert "\\x1b[31mweird" in shown  # the skipped family, named safely
