"""Every finding code from a simulator scenario over TCP; healthy deployments have none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import StartSimulator
from tests.helpers import target_for
from wa_tui.analysis import Thresholds, analyse
from wa_tui.api.answers import Unread
from wa_tui.api.models import build_snapshot
from wa_tui.model.judgement import Finding, Severity, node_severity
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.watch.watcher import Watcher

HEALTHY = [name for name in SCENARIOS if name.startswith("healthy-")]

EXPECTED = {
    "no-primary-master": ("NO_PRIMARY_MASTER", Severity.CRITICAL),
    "multiple-primary-masters": ("MULTIPLE_PRIMARY_MASTERS", Severity.CRITICAL),
    "no-secondary-master": ("NO_SECONDARY_MASTER", Severity.WARNING),
    "shard-unassigned": ("SHARD_UNASSIGNED", Severity.CRITICAL),
    "shard-conflict": ("SHARD_CONFLICT", Severity.CRITICAL),
    "socket-down": ("SOCKET_DOWN", Severity.CRITICAL),
    "single-socket-down": ("SOCKET_DOWN", Severity.CRITICAL),
    "socket-connecting": ("SOCKET_CONNECTING", Severity.WARNING),
    "socket-unknown": ("SOCKET_UNKNOWN", Severity.WARNING),
    "gateway-unhealthy": ("GATEWAY_UNHEALTHY", Severity.CRITICAL),
    "node-error": ("NODE_ERROR", Severity.CRITICAL),
    "build-expired": ("BUILD_EXPIRED", Severity.CRITICAL),
    "build-expiring": ("BUILD_EXPIRING", Severity.WARNING),
    "low-disk-warning": ("LOW_DISK", Severity.WARNING),
    "low-disk-critical": ("LOW_DISK", Severity.CRITICAL),
    "version-skew": ("VERSION_SKEW", Severity.WARNING),
    "callback-queue-high": ("CALLBACK_QUEUE_HIGH", Severity.WARNING),
    "callback-failing": ("CALLBACK_FAILING", Severity.CRITICAL),
    "pending-messages-high": ("PENDING_MESSAGES_HIGH", Severity.WARNING),
    "db-errors": ("DB_ERRORS", Severity.CRITICAL),
    "db-statement-errors": ("DB_ERRORS", Severity.CRITICAL),
    "older-build-callbacks": ("CALLBACK_FAILING", Severity.CRITICAL),
    "api-errors": ("API_ERRORS", Severity.CRITICAL),
    "webapp-restarting": ("NODE_RESTARTED", Severity.WARNING),
    "schema-skew": ("SCHEMA_SKEW", Severity.WARNING),
    "unregistered": ("UNREGISTERED", Severity.WARNING),
}


async def findings_of(
    start_simulator: StartSimulator, scenario: str, seconds: Callable[[float], None]
) -> list[Finding]:
    """The findings of the second poll, as a watcher makes them: rates need two, five
    seconds apart on the clock the simulator and wa-tui share."""
    server = start_simulator(SCENARIOS[scenario]())
    async with Watcher(target_for(server)) as watcher:
        await watcher.poll()
        seconds(5)
        return list((await watcher.poll()).findings)


def test_every_scenario_is_covered() -> None:
    forecasts = {"disk-filling", "queue-climbing"}  # over simulated time: test_forecast.py
    stories = {"incident"}  # a timeline: test_incident.py
    lasting = {"webapp-saturated"}  # for a minute of simulated time: test_real_deployments.py
    expected = set(HEALTHY) | set(EXPECTED) | {"old-build"} | forecasts | stories | lasting
    assert set(SCENARIOS) == expected


async def test_an_older_build_keeps_the_topology_and_says_vitals_are_not_available(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SCENARIOS["old-build"]())
    async with Watcher(target_for(server)) as watcher:
        first = await watcher.poll()
        for _ in range(3):
            result = await watcher.poll()
    assert first.error is None and result.error is None and result.findings == ()
    assert result.snapshot is not None and len(result.snapshot.nodes) == 12
    assert result.vitals is not None
    assert result.vitals.unavailable == {
        path: Unread("not available from this deployment (HTTP 404)", failed=False)
        for path in ("/metrics", "/v1/stats/app", "/v1/stats/db")
    }
    # Asked once, then left alone: no request per poll to what is not there (the
    # database's stats asked aside, after the first poll's own).
    assert server.requests["/v1/support"] == 4
    assert server.requests["/v1/stats/app"] == server.requests["/metrics"] == 1
    assert server.requests["/v1/stats/db"] == 1


@pytest.mark.parametrize("scenario", HEALTHY)
async def test_healthy_deployments_have_no_findings(
    start_simulator: StartSimulator, scenario: str, seconds: Callable[[float], None]
) -> None:
    assert await findings_of(start_simulator, scenario, seconds) == []


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
async def test_each_scenario_produces_its_finding(
    start_simulator: StartSimulator, scenario: str, seconds: Callable[[float], None]
) -> None:
    code, severity = EXPECTED[scenario]
    findings = await findings_of(start_simulator, scenario, seconds)
    matching = [f for f in findings if f.code == code]
    assert matching, f"{scenario}: no {code} in {[f.code for f in findings]}"
    assert matching[0].severity is severity
    assert "\n" not in matching[0].message
    assert findings == sorted(findings, key=lambda f: -f.severity)  # worst first


async def test_findings_name_the_nodes_and_shards_concerned(
    start_simulator: StartSimulator, seconds: Callable[[float], None]
) -> None:
    findings = await findings_of(start_simulator, "socket-down", seconds)
    (down,) = [f for f in findings if f.code == "SOCKET_DOWN"]
    assert down.shards == (3,)
    assert len(down.nodes) == 1 and down.nodes[0] in down.message
    assert node_severity(findings) == {down.nodes[0]: Severity.CRITICAL}
    # the DN socket is told once: not again as a disconnected gateway
    assert not [f for f in findings if f.code == "GATEWAY_UNHEALTHY"]


def test_standbys_disconnected_are_never_a_finding() -> None:
    deployment = SCENARIOS["healthy-multiconnect"]()
    snapshot = build_snapshot(deployment.support_payload(), deployment.health_payload())
    standbys = [n for n in snapshot.nodes if n.is_standby]
    assert len(standbys) == 3 and all(n.socket.value == "DN" for n in standbys)
    assert analyse(snapshot) == []


def test_single_deployment_has_no_role_findings() -> None:
    deployment = SCENARIOS["healthy-single"]()
    snapshot = build_snapshot(deployment.support_payload(), deployment.health_payload())
    assert analyse(snapshot) == []


def test_thresholds_are_configurable() -> None:
    deployment = SCENARIOS["low-disk-warning"]()  # 3 GiB free on one node
    snapshot = build_snapshot(deployment.support_payload(), deployment.health_payload())
    assert [f.code for f in analyse(snapshot, Thresholds(disk_warning_bytes=2 * 1024**3))] == []
    strict = analyse(snapshot, Thresholds(disk_critical_bytes=4 * 1024**3))
    assert [(f.code, f.severity) for f in strict] == [("LOW_DISK", Severity.CRITICAL)]


@pytest.mark.parametrize(
    "odd",
    [
        {"socket_conn": 7, "shards": "all", "expire_timestamp": "soon"},
        {"free_space_logs": "-5", "schema": [1, 2], "role": None},
        {"shards": [[0, 9999999]], "debug_info": 3},
    ],
)
def test_odd_values_degrade_to_a_finding_or_a_blank(odd: dict) -> None:
    support = {
        "support": {
            "m:1": {"role": "primary_master", "shards": [[-1, -1]], "socket_conn": "UP"},
            "c:1": {"role": "coreapp", "socket_conn": "UP", **odd},
        }
    }
    snapshot = build_snapshot(support, None)
    node = snapshot.by_id["c:1"]
    # One odd node never fails the snapshot, nor becomes a node in error.
    assert [n.id for n in snapshot.nodes] == ["m:1", "c:1"] and not node.errors
    # What came is kept as it came, for the detail to show.
    assert {key: snapshot.raw(node)[key] for key in odd} == odd
    # The odd node owns no shard it could not name: shard 0 is unassigned, said so.
    assert node.shards == ()
    assert "SHARD_UNASSIGNED" in {f.code for f in analyse(snapshot)}
