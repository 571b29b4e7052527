"""`wa-tui exporter`: every watched deployment as Prometheus metrics, headless.

The watchers poll on their own interval (spread over it, at most so many at once); a
scrape reads what they last saw and never causes a poll, so any number of Prometheus
replicas cost the deployments nothing more. Findings are exported too
(`wa_finding{deployment,code,severity}`), so alerting follows wa-tui's own judgement
(deploy/prometheus/ has rules for them). Served by aiohttp on the watchers' event loop;
metrics made by prometheus_client, which escapes label values; server strings are made
visible first (control characters shown, never passed on). No Textual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wa_tui.analysis.summary import UNLIMITED_BYTES
from wa_tui.core.freshness import freshness
from wa_tui.core.text import visible
from wa_tui.model.judgement import Summary
from wa_tui.model.snapshot import Node, Snapshot, SocketState
from wa_tui.outputs.serving import GuardedSite
from wa_tui.outputs.web_config import WebConfig
from wa_tui.watch.state import Phase, Update, WatcherPool, settle_after_first_polls
from wa_tui.watch.targets import Target
from wa_tui.watch.watcher import Watcher, watchers_for

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LABEL_LIMIT = 200


def _label(value: object) -> str:
    return visible(value, limit=LABEL_LIMIT)


class _Gauges:
    """Gauge families under construction, each made once per scrape."""

    def __init__(self) -> None:
        self.families: dict[str, GaugeMetricFamily] = {}

    def add(self, name: str, help_text: str, labels: dict[str, object], value: float) -> None:
        family = self.families.get(name)
        if family is None:
            family = GaugeMetricFamily(name, help_text, labels=list(labels))
            self.families[name] = family
        family.add_metric([_label(v) for v in labels.values()], value)


class WatchersCollector(Collector):
    """What the watchers last saw, as metrics, at scrape time."""

    def __init__(self, watchers: Sequence[Watcher]) -> None:
        self.watchers = watchers
        self.poll_seconds: dict[str, float] = {}  # the last poll's duration, by deployment

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauges = _Gauges()
        for watcher in self.watchers:
            self._deployment(gauges, watcher)
        yield from gauges.families.values()

    def _deployment(self, gauges: _Gauges, watcher: Watcher) -> None:
        name = watcher.name
        d = {"deployment": name}
        up = watcher.status.error is None and watcher.snapshot is not None
        gauges.add("wa_up", "1 if the last poll read the deployment", d, float(up))
        if name in self.poll_seconds:
            gauges.add(
                "wa_poll_duration_seconds",
                "How long the last poll took",
                d,
                self.poll_seconds[name],
            )
        snapshot = watcher.snapshot
        if snapshot is None:
            return
        info = {**d, "kind": snapshot.kind.value, "api_version": snapshot.api_version or ""}
        gauges.add("wa_deployment_info", "The deployment's kind and API version", info, 1.0)
        age = freshness(snapshot.fetched_at, watcher.poller.interval)
        gauges.add("wa_last_poll_age_seconds", "Age of the data exported", d, age.age or 0.0)
        gauges.add(
            "wa_poll_interval_seconds", "How often the data is read", d, watcher.poller.interval
        )
        gauges.add("wa_data_late", "1 once the data is two intervals old", d, float(age.late))
        for finding in watcher.findings:
            labels = {**d, "code": finding.code, "severity": finding.severity.label}
            gauges.add("wa_finding", "1 for each finding wa-tui raises", labels, 1.0)
        summary = watcher.summary
        if summary is not None:
            self._shards(gauges, d, summary)
            if summary.top_finding:
                top = {**d, "code": summary.top_finding}
                gauges.add(
                    "wa_top_finding", "1 for the worst finding, as wa-tui shows it", top, 1.0
                )
        for node in snapshot.nodes:
            self._node(gauges, d, snapshot, node)
        self._vitals(gauges, d, watcher)
        self._webhook(gauges, d, watcher)
        for forecast in watcher.forecasts:
            labels = {**d, "node": forecast.node, "what": forecast.what}
            gauges.add(
                "wa_forecast_seconds",
                "Seconds until a disk fills or the callback queue reaches its critical "
                "level, at the pace of the last 30 minutes (absent: no forecast)",
                labels,
                forecast.seconds_left,
            )

    def _webhook(self, gauges: _Gauges, d: dict[str, object], watcher: Watcher) -> None:
        """The last webhook probe (from the exporter's machine), when there is one."""
        probe = watcher.webhook.probe
        if probe is None:
            return
        reachable = float(probe.failed_step is None)
        gauges.add(
            "wa_webhook_probe_ok",
            "1 if the last webhook probe from the exporter's machine passed DNS, TCP and TLS",
            d,
            reachable,
        )
        days = probe.days_left()
        if days is not None:
            gauges.add(
                "wa_webhook_certificate_days_left",
                "Days until the webhook's certificate expires",
                d,
                days,
            )

    def _shards(self, gauges: _Gauges, d: dict[str, object], summary: Summary) -> None:
        for name, help_text, value in (
            ("wa_shards", "Shards the deployment has (control shard not counted)", summary.shards),
            ("wa_shards_owned", "Of wa_shards, those a node owns", summary.shards_owned),
            (
                "wa_shards_unassigned",
                "Shards no node owns (control shard included)",
                summary.shards_unassigned,
            ),
            (
                "wa_shards_conflicting",
                "Shards more than one node claims",
                summary.shards_conflicting,
            ),
            (
                "wa_shards_down",
                "Shards nobody serves: unassigned, or their one owner's socket not up",
                summary.shards_down,
            ),
            (
                "wa_sockets_down",
                "Shard owners whose socket to WhatsApp is down",
                summary.sockets_down,
            ),
        ):
            gauges.add(name, help_text, d, float(value))

    def _node(self, gauges: _Gauges, d: dict[str, object], snapshot: Snapshot, node: Node) -> None:
        n = {**d, "node": node.id}
        gauges.add("wa_node_role", "1 for the node's role", {**n, "role": node.role or "none"}, 1.0)
        gauges.add(
            "wa_node_socket",
            "1 for the node's socket state",
            {**n, "state": node.socket.value},
            1.0,
        )
        gauges.add(
            "wa_node_socket_up",
            "1 if the node's socket to WhatsApp is up",
            n,
            float(node.socket in (SocketState.UP, SocketState.UP_RECEIVING_OFFLINE)),
        )
        gauges.add(
            "wa_node_shards_owned",
            "Shards the node owns (control shard included)",
            n,
            float(len(node.shards)),
        )
        if node.gateway_status is not None:
            gauges.add(
                "wa_node_gateway",
                "1 for the node's gateway status",
                {**n, "status": node.gateway_status},
                1.0,
            )
        if (days := snapshot.days_to_expiry(node)) is not None:
            gauges.add("wa_node_build_expiry_days", "Days until the node's build expires", n, days)
        for directory, free in snapshot.free_space(node).items():
            if free is not None and free < UNLIMITED_BYTES:
                gauges.add(
                    "wa_node_free_bytes",
                    "Free bytes by directory",
                    {**n, "directory": directory},
                    float(free),
                )

    def _vitals(self, gauges: _Gauges, d: dict[str, object], watcher: Watcher) -> None:
        vitals = watcher.vitals.latest
        if vitals is None:
            return
        for node, queue in vitals.callback_queue_by_node.items():
            gauges.add(
                "wa_node_callback_queue", "Callbacks queued on the node", {**d, "node": node}, queue
            )
        for name, help_text, value in (
            ("wa_callback_queue", "Callbacks queued, all nodes", vitals.callback_queue),
            ("wa_pending_messages", "Outgoing messages pending", vitals.pending_messages),
            ("wa_callbacks_per_second", "Callbacks sent per second", vitals.callbacks_per_s),
            (
                "wa_callback_failures_per_second",
                "Callbacks failed per second",
                vitals.callback_failures_per_s,
            ),
            ("wa_api_requests_per_second", "API requests per second", vitals.api_requests_per_s),
            ("wa_api_5xx_ratio", "Share of API requests answering 5xx", vitals.api_5xx_share),
            (
                "wa_db_errors_per_second",
                "Failed database requests per second",
                vitals.db_errors_per_s,
            ),
        ):
            if value is not None:
                gauges.add(name, help_text, d, value)


class Exporter:
    """The watchers of `targets`, and the HTTP server Prometheus scrapes."""

    def __init__(
        self,
        targets: Sequence[Target],
        max_concurrent_polls: int = 10,
        web: WebConfig | None = None,
    ) -> None:
        watchers = watchers_for(list(targets), max_concurrent_polls, headless=True)
        self.watchers = list(watchers.values())
        self.collector = WatchersCollector(self.watchers)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self._started: dict[str, float] = {}
        # The web configuration (--web-config): TLS and who may ask, every path behind it.
        self.site = GuardedSite(web)
        self._pool: WatcherPool | None = None  # their polling, once serving

    @property
    def port(self) -> int:
        """Where it listens, once serving."""
        return self.site.port

    def serving_line(self, address: str) -> str:
        return (
            f"serving /metrics and /healthz on {address} for {len(self.watchers)} "
            "deployment(s); Ctrl+C stops"
        )

    def add(self, watcher: Watcher) -> None:
        """Another deployment exported (the recorder's config read again): polled from
        now on if serving, else when serving starts."""
        self.watchers.append(watcher)
        if self._pool is not None:
            self._watch(self._pool, watcher)

    async def remove(self, watcher: Watcher) -> None:
        """A deployment no longer exported: its polling stopped, its metrics gone."""
        self.watchers.remove(watcher)
        self.collector.poll_seconds.pop(watcher.name, None)
        if self._pool is not None:
            await self._pool.stop(watcher)
        else:
            await watcher.aclose()

    def _polled(self, update: Update) -> None:
        """Each poll's duration."""
        name = update.watcher.name
        if update.phase is Phase.POLLING:
            self._started[name] = time.monotonic()
        elif update.phase is Phase.POLLED and name in self._started:
            self.collector.poll_seconds[name] = time.monotonic() - self._started.pop(name)

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _health(self, _request: web.Request) -> web.Response:
        read = sum(1 for w in self.watchers if w.snapshot is not None)
        return web.Response(text=f"ok: {len(self.watchers)} deployments, {read} read\n")

    async def serve(self, host: str, port: int, ready: asyncio.Event | None = None) -> None:
        """Poll every deployment (first polls spread over an interval) and serve until
        cancelled."""
        app = web.Application(middlewares=[self.site.authorised])
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        await self.site.start(app, host, port)
        settle_after_first_polls(self.watchers)
        pool = self._pool = WatcherPool()
        for index, watcher in enumerate(self.watchers):
            self._watch(pool, watcher, index)
        if ready is not None:
            ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            await pool.stop_all(self.watchers)
            await self.site.close()

    def _watch(self, pool: WatcherPool, watcher: Watcher, index: int = 0) -> None:
        """Start this deployment's polling at its share of the interval, so many
        deployments' polls are spread rather than all at once."""
        watcher.subscribe(self._polled, "the exporter")
        pool.start(watcher, watcher.poller.interval * index / max(len(self.watchers), 1))
