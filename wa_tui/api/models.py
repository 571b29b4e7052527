"""What `/v1/support` and `/v1/health` answer, parsed tolerantly into the snapshot model
(wa_tui/model/snapshot.py). Plain Python and pydantic: no Textual here, so `snapshot`/`check`
start fast.

The API's own docs say fields "may vary by installation": unknown fields are kept, a field
of the wrong type is dropped from the typed view and recorded in `problems` (its raw value
stays in `raw`), and one odd node never fails the whole snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from pydantic import TypeAdapter, ValidationError

from wa_tui.api.endpoints import HEALTH
from wa_tui.core import clock
from wa_tui.model.snapshot import (
    AS_SENT,
    READING_FIELDS,
    SINGLE_NODE_ID,
    DeploymentKind,
    HealthEntry,
    Node,
    Snapshot,
    SupportEntry,
    order_key,
    owned_shards,
)

Typed = TypeVar("Typed")


class PayloadError(ValueError):
    """An answer that is not of any documented shape."""


class Tolerant(Generic[Typed]):
    """Validates an entry into `kind`, keeping what validates and recording what does not.
    Its validator is built when first asked: `check` never asks for the detail pane's."""

    def __init__(self, kind: type[Typed]) -> None:
        self.kind = kind
        self._adapter: TypeAdapter[Typed] | None = None

    def parse(self, raw: object) -> tuple[Typed, tuple[str, ...]]:
        """The entry, and the fields dropped because they did not have the documented
        type. (The happy path is one plain validation: 1,000 nodes parse in a blink.)"""
        if not isinstance(raw, Mapping):
            return self.kind(), (f"entry is {type(raw).__name__}, not an object",)
        if self._adapter is None:
            self._adapter = TypeAdapter(self.kind)
        try:
            return self._adapter.validate_python(raw), ()
        except ValidationError as exc:
            errors = [error for error in exc.errors() if error["loc"]]
        bad = {str(error["loc"][0]) for error in errors}
        problems = tuple(f"{error['loc'][0]}: {error['msg']}" for error in errors)
        return self._adapter.validate_python({k: v for k, v in raw.items() if k not in bad}), (
            problems
        )


@dataclass(frozen=True, slots=True)
class SupportDetails:
    """The documented fields only the detail pane reads (it shows them from the raw
    entry): validated for one node when it is shown, so their type problems are told."""

    __pydantic_config__ = AS_SENT

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


@dataclass(frozen=True, slots=True)
class Readings:
    """The fields that move between any two polls (READING_FIELDS), typed when asked."""

    __pydantic_config__ = AS_SENT

    device_iso8601: str | None = None
    free_space_data: int | None = None
    free_space_logs: int | None = None
    free_space_media_incoming: int | None = None
    free_space_media_outgoing: int | None = None


SUPPORT, HEALTH_ENTRY = Tolerant(SupportEntry), Tolerant(HealthEntry)
DETAILS, READINGS = Tolerant(SupportDetails), Tolerant(Readings)
SUPPORT_FIELDS = frozenset(
    field.name for kind in (SupportEntry, SupportDetails, Readings) for field in fields(kind)
)


# A node's detail fields checked, by node: a node sent unchanged is the same object in
# the next snapshot (build_snapshot), and a recorder asks every poll (Snapshot.document).
_DETAILS_CHECKED: WeakKeyDictionary[Node, tuple[str, ...]] = WeakKeyDictionary()


def odd_fields(snapshot: Snapshot, node: Node) -> tuple[str, ...]:
    """The detail pane's fields and the readings of `node` that have not their documented
    type (checked when asked: the pane asks for one node)."""
    details = _DETAILS_CHECKED.get(node)
    if details is None:
        details = _DETAILS_CHECKED[node] = DETAILS.parse(node.entry)[1]
    readings = snapshot.readings.get(node.id, {})
    return details + (READINGS.parse(readings)[1] if readings else ())


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
    support, problems = SUPPORT.parse(raw)
    health, health_problems = (
        HEALTH_ENTRY.parse(health_entry) if health_entry is not None else (None, ())
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
        ordered = tuple(sorted(nodes, key=order_key))
    return Snapshot(
        kind=_deployment_kind(ordered, keyed),
        nodes=ordered,
        fetched_at=fetched_at or clock.now(),
        expected_shards=expected_shards,
        api_version=_meta_version(support) if isinstance(support, Mapping) else None,
        health_error=health_error,
        readings=readings,
        check_fields=odd_fields,
    )
