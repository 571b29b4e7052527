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

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from wa_tui.analysis.findings import Finding, Severity, shard_owners, worst
from wa_tui.analysis.vitals import Vitals
from wa_tui.api.models import DeploymentKind, Node, Snapshot, SocketState, days_between

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


@dataclass(frozen=True)
class Summary:
    """One poll of one deployment, in the numbers users compare across views."""

    kind: str
    nodes: int
    shards: int  # 0..N-1: the control shard is not counted
    shards_owned: int  # of `shards`, those with at least one owner
    shards_unassigned: int  # shards no node owns, the control shard included
    shards_conflicting: int  # shards claimed by more than one node
    shards_owner_down: int  # shards whose one owner's socket is not up (DN, SC, UNK)
    shards_down: int  # shards_owner_down + shards_unassigned: shards nobody serves
    sockets_down: int  # shard owners (nodes) whose socket is DN
    severity: Severity | None  # the worst finding's
    severity_findings: int  # how many findings carry that severity
    findings: int
    top_finding: str  # the worst finding's code, "" when there is none
    fetched_at: datetime
    expires_at: datetime | None  # the first build to expire
    min_free_bytes: int | None  # the least free space of any node and directory
    callback_queue: float | None  # None: the vitals were not read
    pending_messages: float | None

    def document(self) -> dict[str, Any]:
        """As a recording stores it (JSON): what a viewer draws before reading a poll."""
        document = asdict(self)
        document["severity"] = None if self.severity is None else int(self.severity)
        for moment in ("fetched_at", "expires_at"):
            value = getattr(self, moment)
            document[moment] = None if value is None else value.isoformat()
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Summary:
        """As stored (KeyError, TypeError or ValueError: it is not one)."""
        values = {f.name: document[f.name] for f in fields(cls)}
        severity = values["severity"]
        values["severity"] = None if severity is None else Severity(severity)
        for moment in ("fetched_at", "expires_at"):
            if values[moment] is not None:
                values[moment] = datetime.fromisoformat(values[moment])
        return cls(**values)

    @property
    def days_to_expiry(self) -> float | None:
        """Days from the data's time to the first build's expiry."""
        if self.expires_at is None:
            return None
        return days_between(self.fetched_at, self.expires_at)

    @classmethod
    def of(
        cls, snapshot: Snapshot, findings: tuple[Finding, ...], vitals: Vitals | None
    ) -> Summary:
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
        return cls(
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
