"""What is wrong with a deployment: a snapshot turned into findings, worst first.

Each finding has a severity, a stable code (a public contract: README table), a message a
human can act on, and the nodes and shards concerned. Plain Python: `snapshot` and
`check` use it without Textual.

Rules from docs/wa-api.md: the nodes that own a shard are the ones expected to be
connected; standbys (secondary master, spare coreapps, in HA every node but the owner)
are normally disconnected and never a finding. A single deployment has no roles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from wa_tui.core import clock
from wa_tui.core.text import GIB, human_bytes, visible
from wa_tui.core.thresholds import DEFAULTS
from wa_tui.model.judgement import Finding, Severity
from wa_tui.model.snapshot import (
    DeploymentKind,
    Node,
    Role,
    Snapshot,
    SocketState,
    days_between,
    shard_name,
)

UNHEALTHY_GATEWAY = ("disconnected", "uninitialized", "unregistered")


@dataclass(frozen=True)
class Thresholds:
    """When a finding fires; configurable per deployment."""

    expiry_warning_days: float = DEFAULTS["expiry_warning_days"]
    disk_warning_bytes: int = int(DEFAULTS["disk_warning_gib"] * GIB)
    disk_critical_bytes: int = int(DEFAULTS["disk_critical_gib"] * GIB)
    webhook_cert_warning_days: float = DEFAULTS["webhook_cert_warning_days"]


def _name(node: Node) -> str:
    return visible(node.id, limit=60)


def _names(nodes: list[Node], most: int = 3) -> str:
    shown = ", ".join(_name(n) for n in nodes[:most])
    return shown + (f" and {len(nodes) - most} more" if len(nodes) > most else "")


def shard_owners(snapshot: Snapshot) -> list[Node]:
    """The nodes expected to be connected: shard owners, or the single node."""
    if snapshot.kind is DeploymentKind.SINGLE:
        return list(snapshot.nodes)
    return [n for n in snapshot.nodes if n.shards]


def _masters(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    if snapshot.kind is DeploymentKind.SINGLE:
        return
    primaries = snapshot.with_role(Role.PRIMARY_MASTER)
    if not primaries:
        yield Finding(
            Severity.CRITICAL,
            "NO_PRIMARY_MASTER",
            "no node is primary master: no registration, config broadcast or shard "
            "reassignment until a master takes the lease; check the master containers",
        )
    elif len(primaries) > 1:
        yield Finding(
            Severity.CRITICAL,
            "MULTIPLE_PRIMARY_MASTERS",
            f"{len(primaries)} nodes claim primary master ({_names(primaries)}): "
            "split brain; check the masters' database connectivity",
            nodes=tuple(n.id for n in primaries),
        )
    if not snapshot.with_role(Role.SECONDARY_MASTER):
        yield Finding(
            Severity.WARNING,
            "NO_SECONDARY_MASTER",
            "no secondary master: nothing can take over if the primary master fails",
        )


def _shards(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    for shard, owners in sorted(snapshot.owners.items()):
        if not owners:
            yield Finding(
                Severity.CRITICAL,
                "SHARD_UNASSIGNED",
                f"{shard_name(shard)} has no owner: its messages are not being sent; "
                "a spare coreapp should be promoted by the primary master",
                shards=(shard,),
            )
        elif len(owners) > 1:
            yield Finding(
                Severity.CRITICAL,
                "SHARD_CONFLICT",
                f"{shard_name(shard)} is claimed by {len(owners)} nodes ({_names(owners)})",
                nodes=tuple(n.id for n in owners),
                shards=(shard,),
            )


_SOCKET_FINDINGS = {
    SocketState.DOWN: (Severity.CRITICAL, "SOCKET_DOWN", "is disconnected from WhatsApp (DN)"),
    SocketState.CONNECTING: (Severity.WARNING, "SOCKET_CONNECTING", "is connecting (SC)"),
    SocketState.UNKNOWN: (Severity.WARNING, "SOCKET_UNKNOWN", "reports an unknown socket state"),
}


def _sockets(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    for node in shard_owners(snapshot):
        if node.errors or node.socket not in _SOCKET_FINDINGS:
            continue  # a node in error says so once, as NODE_ERROR
        severity, code, what = _SOCKET_FINDINGS[node.socket]
        raw = node.support.socket_conn
        if node.socket is SocketState.UNKNOWN and raw not in (None, "UNK"):
            what = (
                f"reports socket state '{visible(raw, limit=30)}', which the API does not document"
            )
        owned = f" (owns {', '.join(shard_name(s) for s in node.shards)})" if node.shards else ""
        yield Finding(severity, code, f"{_name(node)}{owned} {what}", (node.id,), node.shards)


def _gateways(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    for node in shard_owners(snapshot):
        status = node.gateway_status
        # A disconnected gateway on a node whose socket is DN is SOCKET_DOWN told again.
        told = status == "disconnected" and node.socket is SocketState.DOWN
        if status in UNHEALTHY_GATEWAY and not node.errors and not told:
            advice = {
                "uninitialized": "upgrading or initialising its schema; retry later",
                "unregistered": "the number is not registered",
                "disconnected": "it cannot reach WhatsApp",
            }[status]
            yield Finding(
                Severity.CRITICAL,
                "GATEWAY_UNHEALTHY",
                f"{_name(node)} gateway is {status}: {advice}",
                (node.id,),
                node.shards,
            )


def _errors(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    for node in snapshot.nodes:
        if node.errors:
            what = "; ".join(visible(e.summary(), limit=80) for e in node.errors[:2])
            yield Finding(
                Severity.CRITICAL,
                "NODE_ERROR",
                f"{_name(node)} answered errors instead of data: {what}",
                (node.id,),
                node.shards,
            )


def _expiry(snapshot: Snapshot, t: Thresholds, now: datetime) -> Iterator[Finding]:
    dated = [(n, n.support.expire_timestamp) for n in snapshot.nodes]
    expired = [n for n, when in dated if when is not None and when <= now]
    expiring = [
        n
        for n, when in dated
        if when is not None
        and now < when
        and (when - now).total_seconds() < t.expiry_warning_days * 86400
    ]
    if expired:
        yield Finding(
            Severity.CRITICAL,
            "BUILD_EXPIRED",
            f"the build has expired on {_names(expired)}: upgrade now, it stops working",
            tuple(n.id for n in expired),
        )
    if expiring:
        soonest = min(n.support.expire_timestamp for n in expiring)  # type: ignore[type-var]
        days = days_between(now, soonest)
        yield Finding(
            Severity.WARNING,
            "BUILD_EXPIRING",
            f"the build expires in {days:.1f} days ({soonest:%Y-%m-%d %H:%M} UTC) "
            f"on {_names(expiring)}: plan the upgrade",
            tuple(n.id for n in expiring),
        )


def _disks(snapshot: Snapshot, t: Thresholds, _now: datetime) -> Iterator[Finding]:
    for node in snapshot.nodes:
        free_space = snapshot.free_space(node).items()
        low = sorted((free, name) for name, free in free_space if free is not None)
        low = [(free, name) for free, name in low if free < t.disk_warning_bytes]
        if not low:
            continue
        free, directory = low[0]
        severity = Severity.CRITICAL if free < t.disk_critical_bytes else Severity.WARNING
        limit = t.disk_critical_bytes if severity is Severity.CRITICAL else t.disk_warning_bytes
        others = f" (also {', '.join(sorted(name for _, name in low[1:]))})" if low[1:] else ""
        yield Finding(
            severity,
            "LOW_DISK",
            f"{_name(node)}: {directory} directory has {human_bytes(free)} free "
            f"(below {human_bytes(limit)}){others}",
            (node.id,),
        )


def _skew(
    snapshot: Snapshot, code: str, what: str, value: Callable[[Node], object]
) -> Iterator[Finding]:
    values = {n.id: v for n in snapshot.nodes if (v := value(n)) is not None}
    counts = Counter(values.values())
    if len(counts) < 2:
        return
    usual = counts.most_common(1)[0][0]
    odd = [n for n in snapshot.nodes if n.id in values and values[n.id] != usual]
    yield Finding(
        Severity.WARNING,
        code,
        f"{len(counts)} different {what} across the nodes; {_names(odd)} differ from the "
        f"other {len(values) - len(odd)}",
        tuple(n.id for n in odd),
    )


def _versions(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    yield from _skew(snapshot, "VERSION_SKEW", "build versions", lambda n: n.version)
    yield from _skew(
        snapshot,
        "SCHEMA_SKEW",
        "schema versions",
        lambda n: n.schema_key,
    )


def _registration(snapshot: Snapshot, _t: Thresholds, _now: datetime) -> Iterator[Finding]:
    unregistered = [
        n for n in snapshot.nodes if (n.support.debug_info or "").strip().lower() == "unregistered"
    ]
    if unregistered:
        yield Finding(
            Severity.WARNING,
            "UNREGISTERED",
            f"the phone number is not registered ({_names(unregistered)}): "
            "register it before messages can flow",
            tuple(n.id for n in unregistered),
        )


RULES = (_masters, _shards, _sockets, _gateways, _errors, _expiry, _disks, _versions, _registration)


def analyse(
    snapshot: Snapshot, thresholds: Thresholds | None = None, now: datetime | None = None
) -> list[Finding]:
    """Every finding for `snapshot`, worst first (stable within a severity)."""
    thresholds = thresholds or Thresholds()
    now = now or clock.now()
    findings = [f for rule in RULES for f in rule(snapshot, thresholds, now)]
    return sorted(findings, key=lambda f: -f.severity)
