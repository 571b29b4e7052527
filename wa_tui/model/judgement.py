"""The judgement's vocabulary: what the analysis says of a poll (findings and their
severity, the changes, the summary's numbers), as plain data every reader shares. The
analysis (wa_tui/analysis/) makes them; a recorder stores them and a follower draws them
without loading the analysis (wa_tui/recording/format.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from wa_tui.model.snapshot import days_between


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def marker(self) -> str:
        """The text mark beside any colour: the screen, reports and logs read alike."""
        return SEVERITY_MARKERS[self]


SEVERITY_MARKERS = {Severity.INFO: "·", Severity.WARNING: "▲", Severity.CRITICAL: "✖"}


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    nodes: tuple[str, ...] = ()
    shards: tuple[int, ...] = ()


# The findings that say a build expires: the fleet's and the detail's expiry is yellow
# while one is raised, so both follow the deployment's own thresholds.
EXPIRY_CODES = ("BUILD_EXPIRED", "BUILD_EXPIRING")


def worst(findings: Iterable[Finding]) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def node_severity(findings: Iterable[Finding]) -> dict[str, Severity]:
    """Each node's worst severity among the findings that name it."""
    worst_by_node: dict[str, Severity] = {}
    for finding in findings:
        for node_id in finding.nodes:
            worst_by_node[node_id] = max(
                worst_by_node.get(node_id, finding.severity), finding.severity
            )
    return worst_by_node


class ChangeKind(StrEnum):
    NODE_APPEARED = "node appeared"
    NODE_DISAPPEARED = "node disappeared"
    ROLE_CHANGED = "role changed"
    SHARD_MOVED = "shard moved"
    SOCKET_CHANGED = "socket changed"
    GATEWAY_CHANGED = "gateway changed"
    BUILD_CHANGED = "build changed"
    RESTARTED = "restarted"


@dataclass(frozen=True)
class Change:
    seen_at: datetime
    kind: ChangeKind
    message: str
    severity: Severity = Severity.INFO
    node: str | None = None


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


# How a recording stores findings and changes (in each poll's `derived` row), and how
# every reader reads them back.
def finding_rows(findings: Iterable[Finding]) -> list[list[Any]]:
    return [[f.code, int(f.severity), f.message, list(f.nodes), list(f.shards)] for f in findings]


def findings_of(rows: Iterable[list[Any]]) -> tuple[Finding, ...]:
    """As `finding_rows` wrote them (KeyError, TypeError, ValueError: they are not)."""
    return tuple(
        Finding(Severity(severity), code, message, tuple(nodes), tuple(shards))
        for code, severity, message, nodes, shards in rows
    )


def change_rows(changes: Iterable[Change]) -> list[list[Any]]:
    return [
        [c.seen_at.isoformat(), c.kind.value, c.message, int(c.severity), c.node] for c in changes
    ]


def changes_of(rows: Iterable[list[Any]]) -> tuple[Change, ...]:
    """As `change_rows` wrote them (KeyError, TypeError, ValueError: they are not)."""
    return tuple(
        Change(datetime.fromisoformat(at), ChangeKind(kind), message, Severity(severity), node)
        for at, kind, message, severity, node in rows
    )
