"""What `/v1/stats/app`, `/v1/stats/db` and `/metrics` answer, read tolerantly.

Each answer is metric families in the documented JSON shape (docs/wa-api.md, "Stats and
metrics"): `{"NAME": {"type", "help", "data": [{"labels", "value"}]}}`, either for the
whole deployment or keyed by `host:container`. Unknown names and labels are kept; a
family of the wrong shape is recorded in `problems` and skipped, never failing the poll.
Names and label values are kept as sent (server data: whatever shows them makes them
visible); they are read with every poll, thousands of them. Plain Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wa_tui.api.endpoints import APP_STATS, DB_STATS, METRICS
from wa_tui.core.text import visible
from wa_tui.model.snapshot import SINGLE_NODE_ID

Labels = tuple[tuple[str, str], ...]

# Where each endpoint keeps its families.
SECTIONS = {
    APP_STATS: ("stats", "app"),
    DB_STATS: ("stats", "db"),
    METRICS: ("metrics",),
}
MAX_SAMPLES_PER_FAMILY = 500  # past this a family is cut: memory does not grow with labels


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # "gauge", "counter", or whatever the server said
    help: str
    samples: tuple[tuple[Labels, float], ...]

    def total(self) -> float:
        """The sum of the samples."""
        return sum(value for _, value in self.samples)


@dataclass(frozen=True)
class MetricsAnswer:
    """One endpoint's families by node id (SINGLE_NODE_ID for an answer not keyed)."""

    nodes: Mapping[str, Mapping[str, Family]]
    problems: tuple[str, ...] = ()
    # Families not asked for, as sent, by node: kept (and read when shown), not parsed
    # with every poll.
    unparsed: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def families(self) -> list[tuple[str, Family]]:
        return [(node, family) for node, fams in self.nodes.items() for family in fams.values()]

    def unparsed_names(self) -> set[str]:
        return {name for families in self.unparsed.values() for name in families}


def _section(payload: object, path: str) -> Mapping[str, Any]:
    section: object = payload
    for key in SECTIONS[path]:
        if not isinstance(section, Mapping) or key not in section:
            where = ".".join(SECTIONS[path])
            raise ValueError(f"{path}: the answer has no {where!r} section")
        section = section[key]
    if not isinstance(section, Mapping):
        raise ValueError(f"{path}: {'.'.join(SECTIONS[path])!r} is not an object")
    return section


def _is_family(value: object) -> bool:
    return isinstance(value, Mapping) and ("data" in value or "type" in value)


def _is_keyed(section: Mapping[str, Any]) -> bool:
    """Keyed by node: every value an object, none of them a family (`{}` allowed: in
    stats/db only the primary master's entry is filled)."""
    values = list(section.values())
    return bool(values) and all(isinstance(v, Mapping) and not _is_family(v) for v in values)


def _labels(raw: object) -> Labels:
    if not isinstance(raw, dict) or not raw:
        return ()
    return tuple(sorted((str(k), v if isinstance(v, str) else str(v)) for k, v in raw.items()))


def _family(name: str, raw: object) -> Family:
    """One family, or ValueError saying what is wrong with its shape."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("data"), list):
        raise ValueError("not a family: expected an object with a 'data' list")
    samples = []
    for point in raw["data"][:MAX_SAMPLES_PER_FAMILY]:
        value = point.get("value") if isinstance(point, dict) else None
        if type(value) is not int and (type(value) is not float or math.isnan(value)):
            raise ValueError(f"a sample without a numeric value: {visible(point, limit=60)}")
        samples.append((_labels(point.get("labels")), float(value)))
    return Family(
        name=name,
        kind=str(raw.get("type", "untyped")),
        help=str(raw.get("help", "")),
        samples=tuple(samples),
    )


def _families(
    raw: Mapping[str, Any],
    where: str,
    problems: list[str],
    wanted: frozenset[str] | None,
    unparsed: dict[str, Any],
) -> dict[str, Family]:
    families = {}
    for name, value in raw.items():
        if wanted is not None and name not in wanted:
            unparsed[name] = value
            continue
        try:
            families[name] = _family(name, value)
        except ValueError as exc:
            problems.append(f"{where}{visible(name, limit=80)}: {exc}")
    return families


def parse_metrics(
    payload: object, path: str, wanted: frozenset[str] | None = None
) -> MetricsAnswer:
    """The families of one answer of `path` (only those `wanted`, if given: the rest are
    kept as sent); ValueError if it is not of the documented shape at all (a family of
    the wrong shape is only recorded)."""
    section = _section(payload, path)
    problems: list[str] = []
    entries = section.items() if _is_keyed(section) else [(SINGLE_NODE_ID, section)]
    nodes, unparsed = {}, {}
    for node, raw in entries:
        where = f"{visible(node, limit=60)}: " if node != SINGLE_NODE_ID else ""
        rest: dict[str, Any] = {}
        nodes[str(node)] = _families(raw, where, problems, wanted, rest)
        if rest:
            unparsed[str(node)] = rest
    return MetricsAnswer(nodes, tuple(problems), unparsed)
