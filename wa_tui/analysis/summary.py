"""The numbers of one poll that every view shows, computed once: the one truth.

The topology's summary, the status line, the fleet's row, `check`'s perfdata, the
snapshot JSON, the exporter and the bundle all read a `Summary`; none counts again. The
reader (wa_tui/watch/poller.py) makes one per poll, live or replayed. What is counted (README
"What the numbers count"):

- `shards` is the deployment's shards 0..N-1, and `shards_owned` those of them with an
  owner: the same set, so "owned/shards" reads 8/8 when every shard is served. The
  control shard -1 is in neither.
- `shards_unassigned` is every shard no node owns, the control shard included, as
  SHARD_UNASSIGNED says: a control shard without an owner is an outage too.
- A single deployment has one shard, which its one node serves.

Plain Python, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wa_tui.analysis.findings import Finding, Severity, shard_owners, worst
from wa_tui.analysis.vitals import Vitals
from wa_tui.api.models import DeploymentKind, Snapshot, SocketState

# Free space at or above this is the API's "unlimited" (2^63 - 1), not a figure.
UNLIMITED_BYTES = 2**62


@dataclass(frozen=True)
class Summary:
    """One poll of one deployment, in the numbers users compare across views."""

    kind: str
    nodes: int
    shards: int  # 0..N-1: the control shard is not counted
    shards_owned: int  # of `shards`, those with at least one owner
    shards_unassigned: int  # shards no node owns, the control shard included
    shards_conflicting: int  # shards claimed by more than one node
    shards_owner_down: int  # shards whose one owner's socket is down
    sockets_down: int  # shard owners (nodes) whose socket is down
    severity: Severity | None  # the worst finding's
    severity_findings: int  # how many findings carry that severity
    findings: int
    top_finding: str  # the worst finding's code, "" when there is none
    fetched_at: datetime
    expires_at: datetime | None  # the first build to expire
    min_free_bytes: int | None  # the least free space of any node and directory
    callback_queue: float | None  # None: the vitals were not read
    pending_messages: float | None

    @property
    def days_to_expiry(self) -> float | None:
        """Days from the data's time to the first build's expiry."""
        if self.expires_at is None:
            return None
        return (self.expires_at - self.fetched_at).total_seconds() / 86400

    @classmethod
    def of(
        cls, snapshot: Snapshot, findings: tuple[Finding, ...], vitals: Vitals | None
    ) -> Summary:
        severity = worst(findings)
        owners = snapshot.owners
        single = snapshot.kind is DeploymentKind.SINGLE
        expiries = [n.support.expire_timestamp for n in snapshot.nodes]
        free = [
            v
            for n in snapshot.nodes
            for v in snapshot.free_space(n).values()
            if v is not None and v < UNLIMITED_BYTES
        ]
        down = [n for n in shard_owners(snapshot) if n.socket is SocketState.DOWN]
        return cls(
            kind=snapshot.kind.value,
            nodes=len(snapshot.nodes),
            shards=snapshot.shard_count,
            shards_owned=min(len(snapshot.nodes), 1)
            if single
            else sum(1 for shard, o in owners.items() if o and shard >= 0),
            shards_unassigned=sum(1 for o in owners.values() if not o),
            shards_conflicting=sum(1 for o in owners.values() if len(o) > 1),
            shards_owner_down=sum(
                1 for o in owners.values() if len(o) == 1 and o[0].socket is SocketState.DOWN
            ),
            sockets_down=len(down),
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
