"""The fleet: one row per deployment, worst first, from the watchers or from Prometheus.

`FleetRow` is what the fleet screen draws; `LiveRows` makes them from live watchers
(a row made again only where its watcher read something), `rows_from_prometheus` from
what exporters recorded (`wa-tui --prometheus URL`, for fleets no single poller can
hold). Plain Python.
"""

from __future__ import annotations

import operator
import ssl
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from wa_tui.api.auth import PasswordSource
from wa_tui.core.errors import WAError
from wa_tui.core.freshness import DEFAULT_INTERVAL, Freshness, freshness
from wa_tui.core.text import visible
from wa_tui.model.judgement import EXPIRY_CODES, Severity, Summary
from wa_tui.watch.watcher import Watcher

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
    shards_down: int | None = None  # Summary.shards_down
    sockets_down: int | None = None
    top_finding: str = ""
    callback_queue: float | None = None
    days_to_expiry: float | None = None  # the first build's, from the poll's own time
    expiry_warned: bool = False  # BUILD_EXPIRING or BUILD_EXPIRED raised (its thresholds)
    fetched_at: datetime | None = None  # when the data was read
    interval: float = DEFAULT_INTERVAL  # its source's, by which its age is judged
    error: str | None = None

    def freshness(self) -> Freshness | None:
        """How old its data is (core/freshness.py); None before any was read."""
        return None if self.fetched_at is None else freshness(self.fetched_at, self.interval)

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
        basis = (watcher.summary, watcher.status.error)
        made = self._made.get(watcher.name)
        if made is None or not all(map(operator.is_, made[0], basis)):
            made = (basis, row_of(watcher))
            self._made[watcher.name] = made
        return made[1]


def row_of(watcher: Watcher) -> FleetRow:
    """What one watcher knows, as a row."""
    summary, error = watcher.summary, watcher.status.error
    if summary is None:
        state = UNREADABLE if error else "waiting"
        return FleetRow(watcher.name, Severity.CRITICAL if error else None, state, error=error)
    codes = {f.code for f in watcher.findings}
    row = summary_row(watcher.name, summary, codes, watcher.poller.interval)
    return replace(row, severity=Severity.CRITICAL, state=UNREADABLE, error=error) if error else row


def summary_row(
    deployment: str, summary: Summary, codes: Collection[str], interval: float
) -> FleetRow:
    """A deployment's row, of its poll's summary and the codes of its findings."""
    return FleetRow(
        deployment=deployment,
        severity=summary.severity,
        state=fleet_state(summary.severity),
        kind=summary.kind,
        nodes=summary.nodes,
        shards_owned=summary.shards_owned,
        shards_total=summary.shards,
        shards_down=summary.shards_down,
        sockets_down=summary.sockets_down,
        top_finding=summary.top_finding,
        callback_queue=summary.callback_queue,
        days_to_expiry=summary.days_to_expiry,
        expiry_warned=bool(set(codes) & set(EXPIRY_CODES)),
        fetched_at=summary.fetched_at,
        interval=interval,
    )


def fleet_state(severity: Severity | None) -> str:
    """A row's state, of its worst finding's severity."""
    if severity is Severity.CRITICAL:
        return "critical"
    if severity is Severity.WARNING:
        return "warning"
    return "ok"


def state_counts(rows: Iterable[FleetRow]) -> dict[str, int]:
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
    "owned": "max by (deployment) (wa_shards_owned)",
    "shards_down": "max by (deployment) (wa_shards_down)",
    "sockets_down": "max by (deployment) (wa_sockets_down)",
    "queue": "max by (deployment) (wa_callback_queue)",
    "expiry": "min by (deployment) (wa_node_build_expiry_days)",
    "age": "max by (deployment) (wa_last_poll_age_seconds)",
    "interval": "max by (deployment) (wa_poll_interval_seconds)",
    "findings": "wa_finding == 1",
    "top": "wa_top_finding == 1",
    "info": "wa_deployment_info",
}
LABELLED = ("findings", "top", "info")  # what these answers say is in their labels


@dataclass(frozen=True)
class PrometheusSource:
    """The Prometheus the fleet is read from, and how to reach it: TLS verified against
    `verify` (True, False or a CA bundle's path), basic auth when `username` is set (the
    password asked of its source when a client is made, never kept)."""

    url: str
    verify: bool | str = True
    username: str | None = None
    password: PasswordSource | None = None

    async def client(self) -> httpx.AsyncClient:
        auth = None
        if self.username and self.password is not None:
            auth = httpx.BasicAuth(self.username, await self.password.read())
        verify = self.verify
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        return httpx.AsyncClient(
            base_url=self.url.rstrip("/"), timeout=10, verify=verify, auth=auth
        )


class PrometheusFleet:
    """The fleet as the exporters recorded it, for the fleet screen: `rows()` each
    `every` seconds; a deployment opens where the config file has it (`configured`)."""

    every = 5.0

    def __init__(self, source: PrometheusSource, configured: Iterable[str]) -> None:
        self.source = source
        self.configured = set(configured)
        self.title = f"from Prometheus {visible(source.url.rstrip('/'), limit=60)}"
        self._client: httpx.AsyncClient | None = None

    async def rows(self) -> list[FleetRow]:
        """The rows now (WAError: why not, said in one line)."""
        if self._client is None:
            self._client = await self.source.client()
        return await rows_from_prometheus(self._client)

    def cannot_open(self, deployment: str) -> str | None:
        if deployment in self.configured:
            return None
        return (
            f"{visible(deployment, limit=60)} is not configured here: add it with "
            "`wa-tui config add` to open its dashboard"
        )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


async def rows_from_prometheus(client: httpx.AsyncClient) -> list[FleetRow]:
    """The fleet as the exporters last recorded it, through Prometheus's query API."""
    answers = {name: await _query(client, expression) for name, expression in QUERIES.items()}
    by_deployment: dict[str, dict[str, float]] = defaultdict(dict)
    for name, results in answers.items():
        if name in LABELLED:
            continue
        for result in results:
            by_deployment[_deployment(result)][name] = float(result["value"][1])
            if name == "age":  # as of its scrape, not of this query
                by_deployment[_deployment(result)]["scraped"] = float(result["value"][0])
    worst: dict[str, int] = defaultdict(int)  # 2 critical, 1 warning
    for result in answers["findings"]:
        rank = 2 if result["metric"].get("severity") == "critical" else 1
        worst[_deployment(result)] = max(worst[_deployment(result)], rank)
    kinds = {_deployment(r): r["metric"].get("kind", "—") for r in answers["info"]}
    tops = {_deployment(r): r["metric"].get("code", "?") for r in answers["top"]}
    expiring = {
        _deployment(r) for r in answers["findings"] if r["metric"].get("code") in EXPIRY_CODES
    }
    return sorted(
        (
            _prometheus_row(
                name,
                values,
                worst[name],
                (kinds.get(name, "—"), tops.get(name, ""), name in expiring),
            )
            for name, values in by_deployment.items()
        ),
        key=lambda row: row.rank,
    )


def _deployment(result: Mapping[str, Any]) -> str:
    return result["metric"].get("deployment", "?")


def _prometheus_row(
    name: str,
    values: Mapping[str, float],
    worst: int,
    labelled: tuple[str, str, bool],  # kind, top finding, expiry warned
) -> FleetRow:
    kind, top_finding, expiry_warned = labelled
    if values.get("up", 0) < 1:
        severity, state = Severity.CRITICAL, UNREADABLE
    else:
        severity = {2: Severity.CRITICAL, 1: Severity.WARNING}.get(worst)
        state = fleet_state(severity)
    return FleetRow(
        deployment=name,
        severity=severity,
        state=state,
        kind=kind,
        nodes=_whole(values.get("nodes")),
        shards_owned=_whole(values.get("owned")),
        shards_total=_whole(values.get("shards")),
        shards_down=_whole(values.get("shards_down")),
        sockets_down=_whole(values.get("sockets_down")),
        top_finding=top_finding,
        callback_queue=values.get("queue"),
        days_to_expiry=values.get("expiry"),  # the exporter's, from its poll's time
        expiry_warned=expiry_warned,
        fetched_at=_fetched_at(values),
        interval=values.get("interval") or DEFAULT_INTERVAL,  # an older exporter's: unsaid
    )


def _fetched_at(values: Mapping[str, float]) -> datetime | None:
    """When the exporter's data was read: its age at the scrape, before the scrape."""
    if "age" not in values:
        return None
    scraped = datetime.fromtimestamp(values["scraped"], UTC)
    return scraped - timedelta(seconds=values["age"])


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


async def _query(client: httpx.AsyncClient, expression: str) -> list[dict]:
    where = visible(str(client.base_url), limit=80)
    try:
        answer = await client.get("/api/v1/query", params={"query": expression})
    except httpx.ConnectError as exc:
        raise WAError(
            f"cannot reach Prometheus at {where}: {visible(str(exc), limit=160) or 'refused'}",
            "check the URL, the network and the TLS settings (ca_bundle in [prometheus], "
            "or --ca-bundle)",
        ) from exc
    except httpx.HTTPError as exc:
        raise WAError(
            f"Prometheus at {where} did not answer ({type(exc).__name__})", "retrying"
        ) from exc
    if answer.status_code == 401:
        raise WAError(
            f"Prometheus at {where} refused the login (HTTP 401)",
            "check username and password_env or password_command in [prometheus]",
        )
    try:
        document = answer.json()
    except ValueError:
        document = {}
    if answer.status_code != 200 or document.get("status") != "success":
        said = str(document.get("error", ""))[:100]
        raise WAError(f"Prometheus answered HTTP {answer.status_code}: {said}", "check the URL")
    return document["data"]["result"]
