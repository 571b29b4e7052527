"""The change log: events derived between consecutive snapshots."""

from __future__ import annotations

from wa_tui.analysis import diff
from wa_tui.api.models import build_snapshot
from wa_tui.model.judgement import ChangeKind, Severity
from wa_tui.model.snapshot import Snapshot
from wa_tui.simulator import SimDeployment
from wa_tui.simulator.timeline import coreapp_loss, master_failover, socket_flap


def snap(deployment: SimDeployment) -> Snapshot:
    return build_snapshot(deployment.support_payload(), deployment.health_payload())


def test_nothing_changed_means_no_events() -> None:
    deployment = SimDeployment.multiconnect(8)
    assert diff(snap(deployment), snap(deployment)) == []


def test_failover_is_a_role_change_a_shard_move_and_a_departure() -> None:
    deployment = SimDeployment.multiconnect(8)
    before = snap(deployment)
    old_primary = before.nodes[0].id
    next(master_failover(deployment))
    events = diff(before, snap(deployment))
    kinds = {e.kind for e in events}
    assert {ChangeKind.NODE_DISAPPEARED, ChangeKind.ROLE_CHANGED, ChangeKind.SHARD_MOVED} <= kinds
    (moved,) = [e for e in events if e.kind is ChangeKind.SHARD_MOVED]
    assert moved.message.startswith(f"control shard -1 moved: {old_primary} → ")
    (role,) = [e for e in events if e.kind is ChangeKind.ROLE_CHANGED]
    assert "secondary_master → primary_master" in role.message


def test_socket_flap_events_and_their_severity() -> None:
    deployment = SimDeployment.multiconnect(8)
    flap = socket_flap(deployment)
    seen = []
    previous = snap(deployment)
    for _ in range(3):
        next(flap)
        current = snap(deployment)
        seen += [e for e in diff(previous, current) if e.kind is ChangeKind.SOCKET_CHANGED]
        previous = current
    assert [e.message.split(": ", 1)[1].split(",")[0] for e in seen] == [
        "socket UP → DN",
        "socket DN → SC",
        "socket SC → UP",
    ]
    assert [e.severity for e in seen] == [Severity.CRITICAL, Severity.WARNING, Severity.INFO]
    assert "gateway connected → disconnected" in seen[0].message  # told in the same event


def test_coreapp_loss_then_spare_promotion() -> None:
    deployment = SimDeployment.multiconnect(8)
    loss = coreapp_loss(deployment)
    before = snap(deployment)
    next(loss)
    lost = diff(before, after := snap(deployment))
    assert any(e.kind is ChangeKind.SHARD_MOVED and "lost its owner" in e.message for e in lost)
    assert any(e.kind is ChangeKind.NODE_DISAPPEARED for e in lost)
    next(loss)
    promoted = diff(after, snap(deployment))
    assert any(e.kind is ChangeKind.SHARD_MOVED and "now owned by" in e.message for e in promoted)


def test_build_change_and_node_appearance() -> None:
    deployment = SimDeployment.multiconnect(2)
    before = snap(deployment)
    node = next(iter(deployment.nodes.values()))
    node.version = "v2.46.0"
    deployment.remove(deployment.spares()[0])
    events = diff(before, snap(deployment))
    assert any(
        e.kind is ChangeKind.BUILD_CHANGED and "v2.45.1 → v2.46.0" in e.message for e in events
    )
    assert [e.kind for e in diff(snap(deployment), before)].count(ChangeKind.NODE_APPEARED) == 1


def test_health_failing_is_not_every_gateway_changing() -> None:
    deployment = SimDeployment.multiconnect(8)
    before = snap(deployment)
    without_health = build_snapshot(
        deployment.support_payload(), None, health_error="HTTP 503: Service not ready"
    )
    assert diff(before, without_health) == []
    assert diff(without_health, before) == []
    malformed = build_snapshot(deployment.support_payload(), {"health": "???"})
    assert malformed.health_error is not None
    assert diff(before, malformed) == []
