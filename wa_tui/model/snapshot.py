"""The snapshot model: one poll of a deployment, its nodes typed, in plain Python.

What every reader of a poll draws or judges: the dashboard's panes, the analysis, the
outputs. Made two ways: parsed from the API's answers (wa_tui/api/models.py, which
validates them with pydantic), or read back from what a recorder stored
(`Snapshot.from_document`, a follower's first frame, no validation to load). Nothing here
imports pydantic, the API or the analysis.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

SHARD_COUNTS = (1, 2, 4, 8, 16, 32)
# Shard ids past this are nonsense (32 is the documented maximum): ignored, not drawn.
MAX_SHARD_ID = 1023
CONTROL_SHARD = -1
SINGLE_NODE_ID = "single"
# The node's own clock differs in every answer, and on a live deployment the free space
# does too (logs grow). These readings are kept apart from the node (Snapshot.readings),
# so that a node otherwise unchanged is the very same object from one snapshot to the
# next (see build_snapshot), and nothing is redrawn that shows the same.
CLOCK_FIELD = "device_iso8601"
FREE_SPACE_FIELDS = (
    "free_space_data",
    "free_space_logs",
    "free_space_media_incoming",
    "free_space_media_outgoing",
)
READING_FIELDS = (CLOCK_FIELD, *FREE_SPACE_FIELDS)


class DeploymentKind(StrEnum):
    SINGLE = "single"
    HA = "ha"
    MULTICONNECT = "multiconnect"


class Role(StrEnum):
    PRIMARY_MASTER = "primary_master"
    SECONDARY_MASTER = "secondary_master"
    COREAPP = "coreapp"


def days_between(start: datetime, end: datetime) -> float:
    """Days from `start` to `end` (negative when `end` is past): every "days to expiry"."""
    return (end - start).total_seconds() / 86400


class SocketState(StrEnum):
    UP = "UP"
    DOWN = "DN"
    CONNECTING = "SC"
    UP_RECEIVING_OFFLINE = "UP receiving offline"
    UNKNOWN = "UNK"

    @property
    def is_up(self) -> bool:
        """Connected to WhatsApp (still receiving offline messages counts)."""
        return self in (SocketState.UP, SocketState.UP_RECEIVING_OFFLINE)

    @classmethod
    def parse(cls, raw: str | None) -> SocketState:
        """Any value the API does not document is unknown."""
        try:
            return cls((raw or "").strip())
        except ValueError:
            return cls.UNKNOWN


# The API's typed fields. These classes are plain dataclasses; the API's parser validates
# an answer into them (pydantic reads `__pydantic_config__`: numbers sent where text is
# documented are taken as text, as older builds send versions), and a recorder's document
# makes them again without validating (`document()` / `of_document`).
AS_SENT: Mapping[str, bool] = {"coerce_numbers_to_str": True}


@dataclass(frozen=True, slots=True)
class ApiErrorDetail:
    __pydantic_config__ = AS_SENT

    code: int | None = None
    title: str | None = None
    details: str | None = None

    def summary(self) -> str:
        parts = [str(self.code) if self.code is not None else None, self.title, self.details]
        return " ".join(p for p in parts if p) or "error without details"


@dataclass(frozen=True, slots=True)
class SupportEntry:
    """The `/v1/support` fields every refresh reads for every node (the list, topology and
    analysis), typed. The node's raw entry keeps everything, unknown fields included.

    Only these are validated with each answer: on 1,000 nodes, validating the detail
    pane's fields too (and copying the extras) tripled the parse (benchmarks/README.md).
    """

    __pydantic_config__ = AS_SENT

    debug_info: str | None = None
    description: str | None = None
    expire_timestamp: datetime | None = None
    multi_connect: bool | None = None
    schema: dict[str, int | str] | None = None
    socket_conn: str | None = None
    version: str | None = None
    role: str | None = None
    shards: list[tuple[int, int]] | None = None
    errors: list[ApiErrorDetail] | None = None

    def __post_init__(self) -> None:
        expires = self.expire_timestamp
        if expires is not None and expires.tzinfo is None:  # wa-api.md: UTC, unsaid
            object.__setattr__(self, "expire_timestamp", expires.replace(tzinfo=UTC))

    def document(self) -> dict[str, Any]:
        """As JSON: what a recorder stores of the node's typed fields."""
        document = asdict(self)
        if self.expire_timestamp is not None:
            document["expire_timestamp"] = self.expire_timestamp.isoformat()
        return document

    @classmethod
    def of_document(cls, document: Mapping[str, Any]) -> SupportEntry:
        """As `document()` wrote it (KeyError, TypeError, ValueError: it is not one)."""
        expires, shards = document["expire_timestamp"], document["shards"]
        return cls(
            **{
                **document,
                "errors": _errors_of(document["errors"]),
                "expire_timestamp": None if expires is None else datetime.fromisoformat(expires),
                "shards": None if shards is None else [(first, last) for first, last in shards],
            }
        )


@dataclass(frozen=True, slots=True)
class HealthEntry:
    __pydantic_config__ = AS_SENT

    gateway_status: str | None = None
    role: str | None = None
    errors: list[ApiErrorDetail] | None = None

    @classmethod
    def of_document(cls, document: Mapping[str, Any]) -> HealthEntry:
        return cls(**{**document, "errors": _errors_of(document["errors"])})


def _errors_of(documents: list[Mapping[str, Any]] | None) -> list[ApiErrorDetail] | None:
    return None if documents is None else [ApiErrorDetail(**d) for d in documents]


def whole_number(value: object) -> int | None:
    """A reading (free bytes) as a number, read as the API's parser reads a number: an
    integer, or one sent as a whole float or as text ("12", " 12 ", "12.0"); else None."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if not isinstance(value, str):
        return None
    whole, dot, fraction = value.strip().partition(".")
    if dot and fraction.strip("0"):
        return None
    try:
        return int(whole)
    except ValueError:
        return None


@dataclass(frozen=True, eq=False)
class Node:
    """One `host:container` of the deployment, normalised from support and health.
    Compared by identity: a deep comparison of two nodes (their whole entries) is never
    what is meant, and it made `node in nodes` cost as much as parsing.

    Its readings (clock, free space) are not here but in `Snapshot.readings`: a node that
    sent the same as last time is the same object in the next snapshot, so "unchanged" is
    an identity test, and what is derived from a node is derived once and kept across
    refreshes."""

    id: str
    support: SupportEntry
    entry: Mapping[str, Any]  # the support entry as sent, less its READING_FIELDS
    health: HealthEntry | None = None
    health_entry: Mapping[str, Any] | None = None  # the health entry as sent
    # Fields every refresh reads, dropped for their type while the answer was parsed
    # (the rest are checked when asked: Snapshot.problems).
    parse_problems: tuple[str, ...] = ()
    shards: tuple[int, ...] = ()  # every shard id owned (see owned_shards)
    # Derived once, when the node is made: read by the ordering, the list, the topology
    # and the rules, for every node at every refresh, and kept with the node across
    # refreshes. (Not cached properties: on Python 3.11 they take a lock at every first
    # read, which a thousand-node answer feels; benchmarks/README.md.)
    role: str | None = field(init=False)
    errors: tuple[ApiErrorDetail, ...] = field(init=False)
    schema_key: tuple[tuple[str, int | str], ...] | None = field(init=False)  # comparable

    def __post_init__(self) -> None:
        support, health = self.support, self.health
        errors = (*(support.errors or ()), *((health.errors or ()) if health else ()))
        schema = support.schema
        derived = {
            "role": support.role or (health.role if health else None),
            "errors": errors,
            "schema_key": tuple(sorted(schema.items())) if schema else None,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    # A container name never holds ':', a host may (an IPv6 address in brackets): the
    # id splits at its last ':'.
    @property
    def host(self) -> str:
        return self.id.rpartition(":")[0] if ":" in self.id else self.id

    @property
    def container(self) -> str:
        return self.id.rpartition(":")[2] if ":" in self.id else ""

    @property
    def is_standby(self) -> bool:
        """A keyed-deployment node owning no shard: normally disconnected, not a fault."""
        return self.id != SINGLE_NODE_ID and not self.shards

    @property
    def socket(self) -> SocketState:
        return SocketState.parse(self.support.socket_conn)

    @property
    def version(self) -> str | None:
        return self.support.version or self.support.description

    @property
    def gateway_status(self) -> str | None:
        return self.health.gateway_status if self.health else None


def shard_name(shard: int) -> str:
    """How findings and changes name a shard."""
    return "control shard -1" if shard == CONTROL_SHARD else f"shard {shard}"


def owned_shards(pairs: Iterable[tuple[int, int]]) -> tuple[int, ...]:
    """Every shard id in `[first, last]` pairs, read as inclusive ranges; nonsense
    ranges (reversed, past MAX_SHARD_ID, wider than 64) are ignored."""
    owned: set[int] = set()
    for first, last in pairs:
        if CONTROL_SHARD <= first <= last <= MAX_SHARD_ID and last - first <= 64:
            owned.update(range(first, last + 1))
    return tuple(sorted(owned))


_MASTER_RANKS = {Role.PRIMARY_MASTER: 0, Role.SECONDARY_MASTER: 1}


def order_key(node: Node) -> tuple[int, int, str]:
    """Masters first (primary, secondary), then coreapps by shard, spares last."""
    rank = _MASTER_RANKS.get(node.role or "", 2)
    if rank == 2 and not node.shards:
        rank = 3
    first_shard = node.shards[0] if node.shards else 0
    return (rank, first_shard, node.id)


@dataclass(frozen=True)
class Snapshot:
    """The deployment as one fetch saw it."""

    kind: DeploymentKind
    nodes: tuple[Node, ...]
    fetched_at: datetime
    expected_shards: int | None = None
    api_version: str | None = None
    health_error: str | None = None
    # node id -> its READING_FIELDS as sent (only those it sent)
    readings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # How the fields only the detail pane reads are checked when it asks for a node:
    # the API parser's validators, or what the recorder found (Snapshot.from_document).
    check_fields: FieldCheck = field(kw_only=True, repr=False, compare=False)
    by_id: Mapping[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {n.id: n for n in self.nodes})

    def document(self, node_document: Callable[[Node], Any] | None = None) -> dict[str, Any]:
        """As JSON: what a recorder keeps of its newest poll for a viewer's first frame
        (the nodes as parsed, their odd fields as checked here, the readings as sent).
        `node_document`: how a node is written, when not `node_document` (a recorder
        masks each, and keeps a node sent unchanged as it wrote it last time)."""
        odd_fields = {n.id: odd for n in self.nodes if (odd := self.check_fields(self, n))}
        return {
            "kind": self.kind.value,
            "fetched_at": self.fetched_at.isoformat(),
            "expected_shards": self.expected_shards,
            "api_version": self.api_version,
            "health_error": self.health_error,
            "readings": self.readings,
            "odd_fields": odd_fields,
            "nodes": [(node_document or self.node_document)(node) for node in self.nodes],
        }

    @staticmethod
    def node_document(node: Node) -> dict[str, Any]:
        """A node as parsed, as JSON (its readings and odd fields are the snapshot's)."""
        return {
            "id": node.id,
            "support": node.support.document(),
            "entry": node.entry,
            "health": None if node.health is None else asdict(node.health),
            "health_entry": node.health_entry,
            "parse_problems": node.parse_problems,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Snapshot:
        """As `document()` wrote it, nothing validated again (KeyError, TypeError,
        ValueError: it is not one)."""
        nodes = []
        odd_fields = {node: tuple(odd) for node, odd in document["odd_fields"].items()}
        for stored in document["nodes"]:
            support, health = stored["support"], stored["health"]
            node = Node(
                id=stored["id"],
                support=SupportEntry.of_document(support),
                entry=stored["entry"],
                health=None if health is None else HealthEntry.of_document(health),
                health_entry=stored["health_entry"],
                parse_problems=tuple(stored["parse_problems"]),
                shards=owned_shards(support["shards"] or ()),
            )
            nodes.append(node)
        return cls(
            kind=DeploymentKind(document["kind"]),
            nodes=tuple(nodes),
            fetched_at=datetime.fromisoformat(document["fetched_at"]),
            expected_shards=document["expected_shards"],
            api_version=document["api_version"],
            health_error=document["health_error"],
            readings=document["readings"],
            check_fields=lambda _snapshot, node: odd_fields.get(node.id, ()),
        )

    # Both read several times per refresh (topology, findings, diff, status line, and the
    # diff of the next refresh): computed once per snapshot.
    @cached_property
    def shard_count(self) -> int:
        """Configured, else the smallest documented count covering the highest owned id."""
        if self.expected_shards:
            return self.expected_shards
        if self.kind is DeploymentKind.SINGLE:
            return 1
        highest = max((s for n in self.nodes for s in n.shards), default=0)
        return next((c for c in SHARD_COUNTS if c > highest), highest + 1)

    @cached_property
    def owners(self) -> dict[int, list[Node]]:
        """Shard id (-1 and 0..N-1) -> the nodes claiming it (empty list: unassigned).
        Shared by every reader: not to be changed."""
        if self.kind is DeploymentKind.SINGLE:
            return {}
        owners: dict[int, list[Node]] = {s: [] for s in range(CONTROL_SHARD, self.shard_count)}
        for node in self.nodes:
            for shard in node.shards:
                owners.setdefault(shard, []).append(node)
        return owners

    def unchanged_since(self, earlier: Snapshot) -> bool:
        """Every node read again unchanged but for its readings (build_snapshot kept the
        node itself), in the same order: the usual refresh, with nothing to redraw."""
        return (
            self.kind is earlier.kind
            and self.expected_shards == earlier.expected_shards
            and self.health_error == earlier.health_error
            and len(self.nodes) == len(earlier.nodes)
            and all(map(operator.is_, self.nodes, earlier.nodes))
        )

    def raw(self, node: Node) -> dict[str, Any]:
        """The support entry of `node` as the API sent it, readings included."""
        return {**node.entry, **self.readings.get(node.id, {})}

    def problems(self, node: Node) -> tuple[str, ...]:
        """Every documented field of `node` dropped for not having its documented type:
        those parsed with the answer, then the detail pane's and the readings, checked
        now (the pane asks for one node)."""
        return node.parse_problems + self.check_fields(self, node)

    def free_space(self, node: Node) -> dict[str, int | None]:
        """Free bytes by directory (data, logs, media_incoming, media_outgoing)."""
        readings = self.readings.get(node.id, {})
        return {
            name.removeprefix("free_space_"): whole_number(readings.get(name))
            for name in FREE_SPACE_FIELDS
        }

    def node_clock(self, node: Node, default: Any = None) -> Any:
        """The node's clock as it sent it (`default` if it did not)."""
        return self.readings.get(node.id, {}).get(CLOCK_FIELD, default)

    def days_to_expiry(self, node: Node) -> float | None:
        """Days from this poll's time to the node's build expiry: what the poll saw, live
        or replayed years later."""
        expires = node.support.expire_timestamp
        return None if expires is None else days_between(self.fetched_at, expires)

    def clock_skew(self, node: Node, at: datetime) -> float | None:
        """Seconds the clock of `node` (`device_iso8601`, UTC) is ahead of `at`."""
        raw = self.node_clock(node)
        try:
            moment = datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None
        except ValueError:
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - at).total_seconds()

    def with_role(self, role: Role) -> list[Node]:
        return [n for n in self.nodes if n.role == role]


FieldCheck = Callable[[Snapshot, Node], tuple[str, ...]]
