"""The fleet: one row per deployment, worst first, from the watchers or from Prometheus.

`FleetRow` is what the fleet screen draws; `LiveRows` makes them from live watchers
(a row made again only where its watcher read something), `rows_from_prometheus` from
what exporters recorded (`wa-tui --prometheus URL`, for fleets no single poller can
hold). Plain Python.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from wa_tui import clock
from wa_tui.analysis import Severity
from wa_tui.analysis.findings import shard_owners
from wa_tui.errors import WAError
from wa_tui.models import SocketState
from wa_tui.watcher import Watcher

UNREADABLE = "unreadable"


@dataclass(frozen=True)
class FleetRow:
    deployment: str
    severity: Severity | None  # None: all well (or not read yet: see `state`)
    state: str  # "ok", "warning", "critical", "unreadable", "waiting"
    kind: str = "—"
    nodes: int | None = None
    shards_owned: int | None = None
    shards_total: int | None = None
    sockets_down: int | None = None
    top_finding: str = ""
    callback_queue: float | None = None
    expires_at: datetime | None = None  # the first node's build to expire
    fetched_at: datetime | None = None  # when the data was read
    error: str | None = None

    @property
    def rank(self) -> tuple[int, str]:
        """Worst first: unreadable and critical, warning, waiting, fine; then by name."""
        order = {"unreadable": 0, "critical": 0, "warning": 1, "waiting": 2, "ok": 3}
        return (order[self.state], self.deployment)


class LiveRows:
    """The watchers' rows, now. A watcher's row is made again only when it read
    something or failed, else it is the very row made last time (the screen asks every
    second; making hundreds of rows anew each time holds it up)."""

    def __init__(self, watchers: Iterable[Watcher]) -> None:
        self.watchers = list(watchers)
        self._made: dict[str, tuple[tuple[object, ...], FleetRow]] = {}

    def __call__(self) -> list[FleetRow]:
        return [self._row(watcher) for watcher in self.watchers]

    def _row(self, watcher: Watcher) -> FleetRow:
        basis = (watcher.snapshot, watcher.status.error, watcher.findings, watcher.vitals.latest)
        made = self._made.get(watcher.name)
        if made is None or not all(map(operator.is_, made[0], basis)):
            made = (basis, row_of(watcher))
            self._made[watcher.name] = made
        return made[1]


def row_of(watcher: Watcher) -> FleetRow:
    """What one watcher knows, as a row."""
    snapshot, error = watcher.snapshot, watcher.status.error
    if snapshot is None:
        state = UNREADABLE if error else "waiting"
        return FleetRow(watcher.name, Severity.CRITICAL if error else None, state, error=error)
    severity = watcher.severity
    owners = snapshot.owners
    expiries = [n.support.expire_timestamp for n in snapshot.nodes if n.support.expire_timestamp]
    findings = watcher.findings
    vitals = watcher.vitals.latest
    return FleetRow(
        deployment=watcher.name,
        severity=severity,
        state=UNREADABLE if error else _state(severity),
        kind=snapshot.kind.value,
        nodes=len(snapshot.nodes),
        shards_owned=sum(1 for s, o in owners.items() if o and s >= 0),
        shards_total=snapshot.shard_count,
        sockets_down=sum(1 for n in shard_owners(snapshot) if n.socket is SocketState.DOWN),
        top_finding=findings[0].code if findings else "",
        callback_queue=vitals.callback_queue if vitals else None,
        expires_at=min(expiries) if expiries else None,
        fetched_at=snapshot.fetched_at,
        error=error,
    )


def _state(severity: Severity | None) -> str:
    if severity is Severity.CRITICAL:
        return "critical"
    if severity is Severity.WARNING:
        return "warning"
    return "ok"


def summary(rows: Iterable[FleetRow]) -> dict[str, int]:
    """How many deployments are in each state (for the status line)."""
    counts = dict.fromkeys(("ok", "warning", "critical", UNREADABLE, "waiting"), 0)
    for row in rows:
        counts[row.state] += 1
    return counts


# -- from Prometheus ------------------------------------------------------------------

QUERIES = {
    "up": "max by (deployment) (wa_up)",
    "nodes": "count by (deployment) (wa_node_role)",
    "shards": "max by (deployment) (wa_shards)",
    "unassigned": "max by (deployment) (wa_shards_unassigned)",
    "sockets_down": "max by (deployment) (wa_sockets_down)",
    "queue": "max by (deployment) (wa_callback_queue)",
    "expiry": "min by (deployment) (wa_node_build_expiry_days)",
    "age": "max by (deployment) (wa_last_poll_age_seconds)",
    "findings": "wa_finding == 1",
    "info": "wa_deployment_info",
}


async def rows_from_prometheus(client: httpx.AsyncClient) -> list[FleetRow]:
    """The fleet as the exporters last recorded it, through Prometheus's query API."""
    answers = {name: await _query(client, expression) for name, expression in QUERIES.items()}
    now = clock.now()
    by_deployment: dict[str, dict[str, float]] = defaultdict(dict)
    kinds = {
        r["metric"].get("deployment", "?"): r["metric"].get("kind", "—") for r in answers["info"]
    }
    for name, results in answers.items():
        if name in ("findings", "info"):
            continue
        for result in results:
            by_deployment[result["metric"].get("deployment", "?")][name] = float(result["value"][1])
    findings: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for result in answers["findings"]:
        metric = result["metric"]
        rank = 2 if metric.get("severity") == "critical" else 1
        findings[metric.get("deployment", "?")].append((rank, metric.get("code", "?")))
    return sorted(
        (
            _prometheus_row(name, values, findings[name], kinds.get(name, "—"), now)
            for name, values in by_deployment.items()
        ),
        key=lambda row: row.rank,
    )


def _prometheus_row(
    name: str,
    values: Mapping[str, float],
    found: list[tuple[int, str]],
    kind: str,
    now: datetime,
) -> FleetRow:
    worst = max(found, default=(0, ""))
    if values.get("up", 0) < 1:
        severity, state = Severity.CRITICAL, UNREADABLE
    else:
        severity = {2: Severity.CRITICAL, 1: Severity.WARNING}.get(worst[0])
        state = _state(severity)
    shards = values.get("shards")
    unassigned = values.get("unassigned", 0)
    return FleetRow(
        deployment=name,
        severity=severity,
        state=state,
        kind=kind,
        nodes=_whole(values.get("nodes")),
        shards_owned=_whole(shards - unassigned) if shards is not None else None,
        shards_total=_whole(shards),
        sockets_down=_whole(values.get("sockets_down")),
        top_finding=worst[1],
        callback_queue=values.get("queue"),
        expires_at=now + timedelta(days=values["expiry"]) if "expiry" in values else None,
        fetched_at=now - timedelta(seconds=values["age"]) if "age" in values else None,
    )


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


async def _query(client: httpx.AsyncClient, expression: str) -> list[dict]:
    try:
        answer = await client.get("/api/v1/query", params={"query": expression})
        document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise WAError(
            f"Prometheus query failed: {type(exc).__name__}", "check --prometheus URL"
        ) from exc
    if answer.status_code != 200 or document.get("status") != "success":
        said = str(document.get("error", ""))[:100]
        raise WAError(f"Prometheus answered HTTP {answer.status_code}: {said}", "check the URL")
    return document["data"]["result"]
