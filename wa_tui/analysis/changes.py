"""What changed between two consecutive snapshots: the change log's events.

Failover, as documented, shows as a role change, shard ownership moving from one node to
another, a node disappearing, and sockets going DN -> SC -> UP; each becomes an event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from wa_tui.core.text import visible
from wa_tui.model.judgement import Change, ChangeKind, Severity
from wa_tui.model.snapshot import Node, Snapshot, SocketState, shard_name


def _name(node_id: str | None) -> str:
    return visible(node_id, limit=60) if node_id else "nobody"


def restarts(vitals_restarted: tuple[str, ...], at: datetime) -> list[Change]:
    """A node's counters went down, or the webapp's uptime did: it restarted."""
    return [
        Change(at, ChangeKind.RESTARTED, f"{_name(node)}: counters reset", Severity.WARNING, node)
        for node in vitals_restarted
    ]


def _socket_severity(node: Node) -> Severity:
    if node.is_standby:
        return Severity.INFO
    return {
        SocketState.UP: Severity.INFO,
        SocketState.UP_RECEIVING_OFFLINE: Severity.INFO,
        SocketState.DOWN: Severity.CRITICAL,
    }.get(node.socket, Severity.WARNING)


def _node_changes(
    before: Node, after: Node, at: datetime, gateways_known: bool
) -> Iterator[Change]:
    if before is after:
        return  # read again unchanged (build_snapshot kept the node): the usual refresh
    name = _name(after.id)
    if before.role != after.role:
        yield Change(
            at,
            ChangeKind.ROLE_CHANGED,
            f"{name}: role {visible(before.role or '—')} → {visible(after.role or '—')}",
            Severity.WARNING,
            after.id,
        )
    gateway = (
        f"gateway {visible(before.gateway_status or '—', limit=20)} → "
        f"{visible(after.gateway_status or '—', limit=20)}"
    )
    gateway_moved = gateways_known and before.gateway_status != after.gateway_status
    if before.socket != after.socket:
        # Socket and gateway usually move together: one event tells both.
        both = f", {gateway}" if gateway_moved else ""
        yield Change(
            at,
            ChangeKind.SOCKET_CHANGED,
            f"{name}: socket {before.socket.value} → {after.socket.value}{both}",
            _socket_severity(after),
            after.id,
        )
    elif gateway_moved:
        yield Change(at, ChangeKind.GATEWAY_CHANGED, f"{name}: {gateway}", Severity.INFO, after.id)
    if before.version != after.version:
        yield Change(
            at,
            ChangeKind.BUILD_CHANGED,
            f"{name}: build {visible(before.version or '—', limit=30)} → "
            f"{visible(after.version or '—', limit=30)}",
            Severity.INFO,
            after.id,
        )


def _shard_changes(before: Snapshot, after: Snapshot, at: datetime) -> Iterator[Change]:
    old, new = before.owners, after.owners
    for shard in sorted(old.keys() | new.keys()):
        was = sorted(n.id for n in old.get(shard, []))
        now = sorted(n.id for n in new.get(shard, []))
        if was == now:
            continue
        if was and now:
            moved = f"{', '.join(map(_name, was))} → {', '.join(map(_name, now))}"
            text, severity = f"{shard_name(shard)} moved: {moved}", Severity.WARNING
        elif now:
            text = f"{shard_name(shard)} now owned by {', '.join(map(_name, now))}"
            severity = Severity.INFO
        else:
            text = f"{shard_name(shard)} lost its owner {', '.join(map(_name, was))}"
            severity = Severity.CRITICAL
        yield Change(at, ChangeKind.SHARD_MOVED, text, severity, (now or was)[0])


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    """The events that lead from `before` to `after`, seen at `after.fetched_at`."""
    if after.unchanged_since(before):
        return []
    at = after.fetched_at
    # /v1/health failing is not every gateway changing: compare them only when both
    # snapshots had an answer.
    gateways_known = before.health_error is None and after.health_error is None
    changes: list[Change] = []
    for node_id in sorted(before.by_id.keys() - after.by_id.keys()):
        changes.append(
            Change(
                at,
                ChangeKind.NODE_DISAPPEARED,
                f"{_name(node_id)} disappeared",
                Severity.WARNING,
                node_id,
            )
        )
    for node in after.nodes:
        previous = before.by_id.get(node.id)
        if previous is None:
            changes.append(
                Change(at, ChangeKind.NODE_APPEARED, f"{_name(node.id)} appeared", node=node.id)
            )
        else:
            changes.extend(_node_changes(previous, node, at, gateways_known))
    changes.extend(_shard_changes(before, after, at))
    return changes
