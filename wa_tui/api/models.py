"""What `/v1/support` and `/v1/health` answer, parsed tolerantly, and the snapshot built
from them. Plain Python and pydantic: no Textual here, so `snapshot`/`check` start fast.

The API's own docs say fields "may vary by installation": unknown fields are kept, a field
of the wrong type is dropped from the typed view and recorded in `problems` (its raw value
stays in `raw`), and one odd node never fails the whole snapshot.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from wa_tui.api.endpoints import HEALTH
from wa_tui.core import clock

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


class PayloadError(ValueError):
    """An answer that is not of any documented shape."""


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


class ApiErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    code: int | None = None
    title: str | None = None
    details: str | None = None

    def summary(self) -> str:
        parts = [str(self.code) if self.code is not None else None, self.title, self.details]
        return " ".join(p for p in parts if p) or "error without details"


class TolerantModel(BaseModel):
    """A model that keeps what validates and records what does not."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)

    @classmethod
    def parse_tolerantly(cls, raw: object) -> tuple[Self, tuple[str, ...]]:
        """The entry, and the fields dropped because they did not have the documented
        type. (The happy path is one plain validation: 1,000 nodes parse in a blink.)"""
        if not isinstance(raw, Mapping):
            return cls(), (f"entry is {type(raw).__name__}, not an object",)
        try:
            return cls.model_validate(raw), ()
        except ValidationError as exc:
            errors = [error for error in exc.errors() if error["loc"]]
        bad = {str(error["loc"][0]) for error in errors}
        problems = tuple(f"{error['loc'][0]}: {error['msg']}" for error in errors)
        return cls.model_validate({k: v for k, v in raw.items() if k not in bad}), problems


class SupportEntry(TolerantModel):
    """The `/v1/support` fields every refresh reads for every node (the list, topology and
    analysis), typed. The node's raw entry keeps everything, unknown fields included.

    Only these are validated with each answer: on 1,000 nodes, validating the detail
    pane's fields too (and copying the extras) tripled the parse (benchmarks/README.md).
    """

    model_config = ConfigDict(extra="ignore")

    debug_info: str | None = None
    description: str | None = None
    expire_timestamp: datetime | None = None
    multi_connect: bool | None = None
    db_schema: dict[str, int | str] | None = Field(default=None, alias="schema")
    socket_conn: str | None = None
    version: str | None = None
    role: str | None = None
    shards: list[tuple[int, int]] | None = None
    errors: list[ApiErrorDetail] | None = None

    @field_validator("expire_timestamp")
    @classmethod
    def _naive_is_utc(cls, value: datetime | None) -> datetime | None:
        # The API gives no zone; wa-api.md: treat it as UTC.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class SupportDetails(TolerantModel):
    """The documented fields only the detail pane reads (it shows them from the raw
    entry): validated for one node when it is shown, so their type problems are told.
    Its validator is built then too (`defer_build`): `check` never shows a node."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    context: str | None = None
    db_engine: str | None = None
    db_info: list[Any] | None = None
    device_iso8601: str | None = None
    e2e: dict[str, Any] | None = None
    env: list[str] | None = None
    lc: str | None = None
    lg: str | None = None
    os_name: str | None = None
    os_version: str | None = None


class Readings(TolerantModel):
    """The fields that move between any two polls (READING_FIELDS), typed when asked
    (the validator built then too)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    device_iso8601: str | None = None
    free_space_data: int | None = None
    free_space_logs: int | None = None
    free_space_media_incoming: int | None = None
    free_space_media_outgoing: int | None = None


SUPPORT_FIELDS = frozenset(
    field.alias or name
    for model in (SupportEntry, SupportDetails, Readings)
    for name, field in model.model_fields.items()
)
_BYTES = TypeAdapter(int)


def _bytes(value: object) -> int | None:
    """A free-space reading as a number, the way the typed fields read it (lax)."""
    if type(value) is int:
        return value
    try:
        return _BYTES.validate_python(value)
    except ValidationError:
        return None


class HealthEntry(TolerantModel):
    gateway_status: str | None = None
    role: str | None = None
    errors: list[ApiErrorDetail] | None = None


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
        schema = support.db_schema
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


def _order_key(node: Node) -> tuple[int, int, str]:
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
    by_id: Mapping[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {n.id: n for n in self.nodes})

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
        readings = self.readings.get(node.id, {})
        return (
            node.parse_problems
            + SupportDetails.parse_tolerantly(node.entry)[1]
            + (Readings.parse_tolerantly(readings)[1] if readings else ())
        )

    def free_space(self, node: Node) -> dict[str, int | None]:
        """Free bytes by directory (data, logs, media_incoming, media_outgoing)."""
        readings = self.readings.get(node.id, {})
        return {
            name.removeprefix("free_space_"): _bytes(readings.get(name))
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


def _meta_version(payload: Mapping[str, Any]) -> str | None:
    meta = payload.get("meta")
    version = meta.get("version") if isinstance(meta, Mapping) else None
    return str(version) if version is not None else None


def _section(payload: object, name: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    if name not in payload:
        if "errors" in payload:
            raise PayloadError(f"the API answered errors instead of {name!r}")
        raise PayloadError(f"the answer has no {name!r} section")
    section = payload[name]
    if not isinstance(section, Mapping):
        raise PayloadError(f"{name!r} is {type(section).__name__}, expected an object")
    return section


def is_keyed(section: Mapping[str, Any]) -> bool:
    """Keyed shape: `host:container` keys with objects, no documented field at top level."""
    return (
        bool(section)
        and not (section.keys() & SUPPORT_FIELDS)
        and any(isinstance(value, Mapping) for value in section.values())
    )


def _entries(section: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    if is_keyed(section):
        return section.items()
    return [(SINGLE_NODE_ID, section)]


def _deployment_kind(nodes: Iterable[Node], keyed: bool) -> DeploymentKind:
    if not keyed:
        return DeploymentKind.SINGLE
    nodes = list(nodes)
    if any(n.support.multi_connect for n in nodes) or any(s > 0 for n in nodes for s in n.shards):
        return DeploymentKind.MULTICONNECT
    return DeploymentKind.HA


def _node(
    node_id: str,
    entry: dict[str, Any],
    raw: object,
    health_entry: Mapping[str, Any] | None,
    earlier: Node | None,
) -> Node:
    """The node of one support entry (`raw`; `entry`: the same less its readings) and its
    health entry. When the node sent the same as last time but for its readings, it is the
    earlier node itself: no validation, and no new objects to outlive the refresh (they
    would bring Python's full garbage collections, long pauses, every few refreshes:
    see wa_tui.core.memory)."""
    if earlier is not None and earlier.entry == entry and earlier.health_entry == health_entry:
        return earlier
    support, problems = SupportEntry.parse_tolerantly(raw)
    health, health_problems = (
        HealthEntry.parse_tolerantly(health_entry) if health_entry is not None else (None, ())
    )
    return Node(
        id=node_id,
        support=support,
        entry=entry,
        health=health,
        health_entry=health_entry,
        parse_problems=problems + tuple(f"health {p}" for p in health_problems),
        shards=owned_shards(support.shards or ()),
    )


def build_snapshot(
    support: object,
    health: object | None,
    *,
    previous: Snapshot | None = None,
    fetched_at: datetime | None = None,
    expected_shards: int | None = None,
    health_error: str | None = None,
) -> Snapshot:
    """Normalise one `/v1/support` answer (and optionally `/v1/health`) into a Snapshot;
    nodes unchanged since `previous` (the last snapshot of the same deployment) are
    taken from it rather than parsed again.

    Raises PayloadError when the support answer is not of a documented shape; a health
    answer of the wrong shape is ignored (the nodes are still worth showing).
    """
    support_section = _section(support, "support")
    keyed = is_keyed(support_section)
    try:
        health_section = dict(_entries(_section(health, "health"))) if health else {}
    except PayloadError as exc:
        health_section, health_error = {}, health_error or f"{HEALTH}: {exc}"
    earlier = previous.by_id if previous is not None else {}
    nodes, readings, kept = [], {}, 0
    # Answers are decoded JSON, whose objects are dicts: `isinstance(x, dict)`, a tenth
    # of the cost of testing for Mapping, twice per node.
    for key, raw in _entries(support_section):
        node_id = str(key)
        entry = dict(raw) if isinstance(raw, dict) else {"entry": raw}
        moving = {name: entry.pop(name) for name in READING_FIELDS if name in entry}
        if moving:
            readings[node_id] = moving
        health_raw = health_section.get(key)
        health_entry = health_raw if isinstance(health_raw, dict) else None
        before = earlier.get(node_id)
        node = _node(node_id, entry, raw, health_entry, before)
        nodes.append(node)
        kept += node is before
    if previous is not None and kept == len(nodes) == len(previous.nodes):
        ordered = previous.nodes  # the usual refresh: the same nodes, so the same order
    else:
        ordered = tuple(sorted(nodes, key=_order_key))
    return Snapshot(
        kind=_deployment_kind(ordered, keyed),
        nodes=ordered,
        fetched_at=fetched_at or clock.now(),
        expected_shards=expected_shards,
        api_version=_meta_version(support) if isinstance(support, Mapping) else None,
        health_error=health_error,
        readings=readings,
    )
