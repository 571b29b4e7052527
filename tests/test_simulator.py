"""The simulator answers like a deployment, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import StartSimulator
from wa_tui.api.models import build_snapshot
from wa_tui.model.snapshot import DeploymentKind, Role
from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
from wa_tui.simulator.timeline import OUTAGE_STEPS


def login(server: SimulatorServer) -> str:
    answer = httpx.post(f"{server.url}/v1/users/login", auth=(server.username, server.password))
    assert answer.status_code == 200
    (user,) = answer.json()["users"]
    assert user["expires_after"].endswith("+00:00")
    return user["token"]


def test_login_then_support_and_health(simulator: SimulatorServer) -> None:
    headers = {"Authorization": f"Bearer {login(simulator)}"}
    support = httpx.get(f"{simulator.url}/v1/support", headers=headers)
    health = httpx.get(f"{simulator.url}/v1/health", headers=headers)
    assert support.status_code == health.status_code == 200
    assert support.json()["meta"] == {"api_status": "stable", "version": "v2.45.1"}
    snapshot = build_snapshot(support.json(), health.json())
    assert len(snapshot.nodes) == 12
    assert {n.gateway_status for n in snapshot.nodes} == {"connected", "disconnected"}


@pytest.mark.parametrize("path", ["/v1/support", "/v1/health"])
def test_missing_or_unknown_token_gets_401_with_documented_error(
    simulator: SimulatorServer, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        answer = httpx.get(f"{simulator.url}{path}", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["errors"][0]["code"] == 1005


def test_wrong_password_is_refused(simulator: SimulatorServer) -> None:
    answer = httpx.post(f"{simulator.url}/v1/users/login", auth=(simulator.username, "nope"))
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["title"] == "Access denied"


def test_logout_revokes_only_that_token(simulator: SimulatorServer) -> None:
    kept, revoked = login(simulator), login(simulator)
    out = httpx.post(
        f"{simulator.url}/v1/users/logout", headers={"Authorization": f"Bearer {revoked}"}
    )
    assert out.status_code == 200
    for token, status in ((revoked, 401), (kept, 200)):
        answer = httpx.get(
            f"{simulator.url}/v1/support", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == status


def test_unknown_route_is_a_documented_not_found(simulator: SimulatorServer) -> None:
    answer = httpx.get(f"{simulator.url}/v1/nope")
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == 1006


@pytest.mark.parametrize(
    ("deployment", "kind", "nodes"),
    [
        (SimDeployment.single(), DeploymentKind.SINGLE, 1),
        (SimDeployment.ha(), DeploymentKind.HA, 4),
        (SimDeployment.multiconnect(32, spares=2), DeploymentKind.MULTICONNECT, 36),
    ],
)
def test_topologies(
    start_simulator: StartSimulator, deployment: SimDeployment, kind: DeploymentKind, nodes: int
) -> None:
    server = start_simulator(deployment)
    headers = {"Authorization": f"Bearer {login(server)}"}
    support = httpx.get(f"{server.url}/v1/support", headers=headers).json()
    snapshot = build_snapshot(support, None)
    assert snapshot.kind is kind
    assert len(snapshot.nodes) == nodes
    standbys = [n for n in snapshot.nodes if n.is_standby]
    assert all(n.support.socket_conn == "DN" for n in standbys)
    assert len(standbys) == {"single": 0, "ha": 3, "multiconnect": 3}[kind]


def test_multiconnect_rejects_more_than_32_shards() -> None:
    with pytest.raises(ValueError, match="1 to 32"):
        SimDeployment.multiconnect(33)


def _snapshot(deployment: SimDeployment):
    return build_snapshot(deployment.support_payload(), deployment.health_payload())


def test_demo_story_fails_over_moves_shards_and_comes_back() -> None:
    deployment = SimDeployment.multiconnect(8, spares=2)
    story = demo_story(deployment)
    first_primary = _snapshot(deployment).with_role(Role.PRIMARY_MASTER)[0].id
    lines = [next(story) for _ in range(OUTAGE_STEPS + 15)]
    assert lines[0].startswith("webhook answering 503")
    assert lines[OUTAGE_STEPS].startswith("webhook answering 200 again, slowly")
    assert lines[OUTAGE_STEPS + 1] == "webhook healthy again"
    assert deployment.traffic.webhook_ok and deployment.webhook.state == "ok"
    assert any("socket to WhatsApp went down" in line for line in lines)
    assert any("took the lease" in line for line in lines)
    assert any("spare promoted" in line for line in lines)
    after = _snapshot(deployment)
    (primary,) = after.with_role(Role.PRIMARY_MASTER)
    assert primary.id != first_primary and primary.shards == (-1,)
    assert after.with_role(Role.SECONDARY_MASTER)[0].id == first_primary
    assert all(len(owners) == 1 for owners in after.owners.values())
