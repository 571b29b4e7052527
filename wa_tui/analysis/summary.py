"""The numbers of one poll that every view shows, computed once: the one truth.

The topology's summary, the status line, the fleet's row, `check`'s perfdata, the
snapshot JSON, the exporter and the bundle all read a `Summary`; none counts again. The
watcher's reader (wa_tui/watch/reader.py) makes one per poll, live or replayed, and a
recorder stores it with the poll (a folder's fleet reads it back). What is counted (README
"What the numbers count"):

- `shards` is the deployment's shards 0..N-1, and `shards_owned` those of them with an
  owner: the same set, so "owned/shards" reads 8/8 when every shard is served. The
  control shard -1 is in neither.
- `shards_unassigned` is every shard no node owns, the control shard included, as
  SHARD_UNASSIGNED says: a control shard without an owner is an outage too.
- A shard is **down** when no node owns it, or its one owner's socket is anything but
  up (DN, SC or UNK; `UP receiving offline` is up): `shard_trouble` says it, for the
  summary and the account alike. `shards_owner_down` counts the second kind,
  `shards_down` both. An owner that answered errors is not known (neither up nor down);
  a shard owned twice is served (SHARD_CONFLICT says so).
- `sockets_down` is the shard owners (nodes) whose socket is DN, as SOCKET_DOWN says.
- A single deployment has one shard, which its one node serves.

Plain Python, no Textual.
"""

from __future__ import annotations

from collections.abc import Sequence

from wa_tui.analysis.findings import shard_owners
from wa_tui.analysis.vitals import Vitals
from wa_tui.model.judgement import Finding, Summary, worst
from wa_tui.model.snapshot import DeploymentKind, Node, Snapshot, SocketState

# Free space at or above this is the API's "unlimited" (2^63 - 1), not a figure.
UNLIMITED_BYTES = 2**62
# What `shard_trouble` says of a shard not served.
DOWN, UNKNOWN = "down", "unknown"


def served_by(snapshot: Snapshot) -> dict[int, list[Node]]:
    """Shard -> its owners, the control shard included; a single deployment's one shard
    is its node's."""
    if snapshot.kind is DeploymentKind.SINGLE:
        return {0: list(snapshot.nodes)}
    return snapshot.owners


def shard_trouble(owners: Sequence[Node]) -> tuple[str, str] | None:
    """Why a shard is not served (DOWN or UNKNOWN, and why), from its owners; None when
    it is served."""
    if not owners:
        return DOWN, "no owner"
    if len(owners) > 1:
        return None  # served (twice: SHARD_CONFLICT says so)
    owner = owners[0]
    if owner.errors:
        return UNKNOWN, f"{owner.id} in error"
    if not owner.socket.is_up:
        return DOWN, f"{owner.id} socket {owner.socket.value}"
    return None


def summary_of(snapshot: Snapshot, findings: tuple[Finding, ...], vitals: Vitals | None) -> Summary:
    """The numbers of one poll, from its snapshot, its findings and its vitals."""
    severity = worst(findings)
    owners = served_by(snapshot)
    unassigned = sum(1 for o in owners.values() if not o)
    shards_down = sum(1 for o in owners.values() if (shard_trouble(o) or ("",))[0] == DOWN)
    expiries = [n.support.expire_timestamp for n in snapshot.nodes]
    free = [
        v
        for n in snapshot.nodes
        for v in snapshot.free_space(n).values()
        if v is not None and v < UNLIMITED_BYTES
    ]
    sockets_down = [n for n in shard_owners(snapshot) if n.socket is SocketState.DOWN]
    return Summary(
        kind=snapshot.kind.value,
        nodes=len(snapshot.nodes),
        shards=snapshot.shard_count,
        shards_owned=sum(1 for shard, o in owners.items() if o and shard >= 0),
        shards_unassigned=unassigned,
        shards_conflicting=sum(1 for o in owners.values() if len(o) > 1),
        shards_owner_down=shards_down - unassigned,
        shards_down=shards_down,
        sockets_down=len(sockets_down),
        severity=severity,
        severity_findings=sum(1 for f in findings if f.severity is severity),
        findings=len(findings),
        top_finding=findings[0].code if findings else "",
        fetched_at=snapshot.fetched_at,
        expires_at=min((e for e in expiries if e is not None), default=None),
        min_free_bytes=min(free, default=None),
        callback_queue=vitals.callback_queue if vitals else None,
        pending_messages=vitals.pending_messages if vitals else None,
    )
