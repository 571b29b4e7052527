"""The simulated deployment's work: messages in and out, callbacks to the webhook, API
requests, database requests; served as `/v1/stats/app`, `/v1/stats/db` and `/metrics` in
the documented JSON shapes (docs/wa-api.md, "Stats and metrics").

Counters grow with time at the rates set here, so any two reads differ as on a real
deployment; the story (or a test) changes the rates: a webhook that stops answering 200
makes callbacks fail and the callback queue grow, then drain once it answers again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wa_tui.core import clock

# Callbacks queue faster than a healthy webhook drains them only when it fails.
CALLBACKS_PER_SECOND = 40.0
DRAIN_PER_SECOND = 400.0  # how fast a recovered webhook works the queue off
WEBHOOK_FAILURE_RESULT = "503"  # what the webhook answers while it is down


@dataclass
class NodeTraffic:
    """One coreapp's counters and gauges (a master or spare carries none of the load)."""

    serving: bool = True
    started: float = field(default_factory=lambda: clock.monotonic())
    callback_queue: float = 0.0
    restarted: bool = False  # since the simulator began
    counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    def add(self, name: str, amount: float, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        self.counters[key] = self.counters.get(key, 0.0) + amount

    def restart(self) -> None:
        """The container restarted: its counters start again from zero."""
        self.counters.clear()
        self.callback_queue = 0.0
        self.started = clock.monotonic()
        self.restarted = True


# The documented webapp's container id; behind a balancer the others are named after it.
FIRST_WEBAPP = "06475793be9d"
WEBAPP_REQUESTS_PER_SECOND = 100.0  # one webapp alone
MAX_PENDING_CONNECTIONS = 10  # Meta's documented web_max_pending_connections
WEBAPP_PROCESSES = 8
LISTEN_QUEUE_SIZE = 128  # web_queue_len: a capacity


@dataclass
class SimWebapp:
    """One `wa-web` task: its API load and gauges. `saturated`: every process busy and
    its pending connections at the most (a webapp that can take no more)."""

    node: str
    requests_per_s: float
    traffic: NodeTraffic = field(default_factory=NodeTraffic)
    saturated: bool = False


def webapps(count: int) -> list[SimWebapp]:
    """`count` webapps behind one balancer, each with its own load (50, 20, 8…/s): a
    total that one webapp's answer would misstate."""
    if count == 1:
        return [SimWebapp(FIRST_WEBAPP, WEBAPP_REQUESTS_PER_SECOND)]
    return [
        SimWebapp(FIRST_WEBAPP if i == 0 else f"{FIRST_WEBAPP[:-2]}{i:02x}", 50.0 / 2.5**i)
        for i in range(count)
    ]


@dataclass
class Traffic:
    """The whole deployment's work, advanced to the present whenever it is read."""

    webhook_ok: bool = True
    # A webhook that answers 200, but more slowly than callbacks come: the whole queue
    # grows by this much a second (shared by the serving coreapps), nothing drained.
    queue_growth_per_s: float = 0.0
    db_failing: bool = False
    # The DB requests' labels: a real wacore says read / write; other builds the
    # statements (select, prepare, commit, transaction, rollback).
    db_requests: tuple[str, ...] = ("read", "write")
    # Older builds name the callback family `callback_requests`, and their failing
    # results are codes (301, 1) rather than the webhook's status.
    callback_family: str = "callback_requests_duration_ms_count"
    webhook_failure_results: tuple[str, str] = (WEBHOOK_FAILURE_RESULT, "timeout")
    # A webhook that answers, but this share of callbacks otherwise than 200 (a redirect):
    # they fail, and the queue drains all the same.
    failing_share: float = 0.0
    api_5xx_share: float = 0.0
    pending_messages: float = 12.0
    # The webapp restarts this often (seconds): its uptime and counters start again.
    webapp_restarts_every: float | None = None
    nodes: dict[str, NodeTraffic] = field(default_factory=dict)
    webapps: list[SimWebapp] = field(default_factory=lambda: webapps(1))
    _last: float = field(default_factory=lambda: clock.monotonic())
    _serving: int = 0

    def node(self, node_id: str) -> NodeTraffic:
        return self.nodes.setdefault(node_id, NodeTraffic())

    def advance(self, serving: Iterable[str]) -> None:
        """Bring every counter to now: `serving` are the nodes that carry traffic."""
        now = clock.monotonic()
        elapsed, self._last = max(now - self._last, 0.0), now
        serving = list(serving)
        self._serving = len(serving)
        for node_id in serving:
            self._advance_node(self.node(node_id), elapsed)
        for webapp in self.webapps:
            self._advance_webapp(webapp, elapsed)

    def _advance_node(self, node: NodeTraffic, elapsed: float) -> None:
        callbacks = CALLBACKS_PER_SECOND * elapsed
        node.add("in_message_from_server", callbacks * 0.6)
        node.add("in_message_decoded", callbacks * 0.6)
        node.add("in_message_persisted", callbacks * 0.6)
        if self.queue_growth_per_s:
            node.callback_queue += self.queue_growth_per_s * elapsed / max(self._serving, 1)
        elif self.webhook_ok:
            drained = min(node.callback_queue, DRAIN_PER_SECOND * elapsed)
            node.callback_queue -= drained
            answered = callbacks + drained
            failing, also = self.webhook_failure_results
            self._callbacks(node, answered * (1 - self.failing_share), "success")
            self._callbacks(node, answered * self.failing_share * 0.9, failing)
            self._callbacks(node, answered * self.failing_share * 0.1, also)
        else:
            node.callback_queue += callbacks
            failing, also = self.webhook_failure_results
            self._callbacks(node, callbacks, failing)
            self._callbacks(node, callbacks * 0.1, also)
        writes = ("write", "commit", "transaction")
        for request in self.db_requests:
            node.add("db_request_duration_us_count", callbacks * 2, db="messages", request=request)
            if self.db_failing and request in writes:
                node.add(
                    "db_request_error_duration_us_count",
                    callbacks * 0.5,
                    db="messages",
                    request=request,
                )
        node.add("endpoint_requests", callbacks * 0.5, result="ok")

    def _callbacks(self, node: NodeTraffic, count: float, result: str) -> None:
        sums = self.callback_family.endswith("_count")  # and its _sum beside it
        for kind, share in (("inbound_message", 0.6), ("status_change", 0.4)):
            node.add(self.callback_family, count * share, result=result, type=kind)
            if sums:
                total_ms = count * share * 85
                node.add("callback_requests_duration_ms_sum", total_ms, result=result, type=kind)

    def _advance_webapp(self, webapp: SimWebapp, elapsed: float) -> None:
        traffic, every = webapp.traffic, self.webapp_restarts_every
        if every is not None and clock.monotonic() - traffic.started >= every:
            traffic.restart()
        requests = webapp.requests_per_s * elapsed
        failed = requests * self.api_5xx_share
        for method, share in (("POST_v1_messages", 0.7), ("POST_v1_contacts", 0.3)):
            traffic.add(
                "api_requests_duration_ms_count",
                (requests - failed) * share,
                result="200",
                method=method,
            )
        if self.api_5xx_share:  # the series there from the start, however little elapsed
            traffic.add(
                "api_requests_duration_ms_count", failed, result="500", method="POST_v1_messages"
            )
        traffic.add("web_connections", requests)

    # -- answers ----------------------------------------------------------------------

    def app_stats(self, node_id: str) -> dict[str, Any]:
        node = self.nodes.get(node_id)
        if node is None:  # a master or a spare: no load, its families still present
            node = NodeTraffic(serving=False)
        families = _families(node.counters, "counter")
        families["callback_queue_size"] = _gauge(
            "Current callback queue size", [({}, round(node.callback_queue))]
        )
        families["in_messages_pending_processing"] = _gauge(
            "Messages pending processing", [({}, 0)]
        )
        return families

    def db_stats(self) -> dict[str, Any]:
        queued = sum(n.callback_queue for n in self.nodes.values())
        return {
            "db_pending_callbacks": _gauge("Pending callbacks", [({}, round(queued))]),
            "db_pending_messages": _gauge("Pending messages", [({}, round(self.pending_messages))]),
            "db_messages": _gauge(
                "Messages", [({"type": "inbound"}, 18204), ({"type": "outbound"}, 26511)]
            ),
            "db_contacts": _gauge("Contacts", [({"type": "valid"}, 3120)]),
        }

    def metrics(self, webapp: SimWebapp) -> dict[str, Any]:
        """One webapp's `/metrics`: its own series, each labelled with its `node`."""
        label, traffic = {"node": webapp.node}, webapp.traffic
        families = _families(traffic.counters, "counter", label)
        # Up four days when the simulator began; from zero after a restart.
        uptime = clock.monotonic() - traffic.started + (0 if traffic.restarted else 348_000)
        pending = MAX_PENDING_CONNECTIONS if webapp.saturated else 1
        idle = 0 if webapp.saturated else WEBAPP_PROCESSES - 1
        for name, help_text, value in (
            ("web_uptime", "Webapp uptime in seconds", round(uptime)),
            ("web_queue_len", "Size of queue for pending connections", LISTEN_QUEUE_SIZE),
            ("web_pending_connections", "Pending connections", pending),
            ("web_max_pending_connections", "Max pending connections", MAX_PENDING_CONNECTIONS),
            ("web_idle_processes", "Idle processes", idle),
            ("web_total_processes", "Total processes", WEBAPP_PROCESSES),
        ):
            families[name] = _gauge(help_text, [(label, value)])
        return families


def _gauge(help_text: str, data: list[tuple[dict[str, str], float]]) -> dict[str, Any]:
    return {"type": "gauge", "help": help_text, "data": [_sample(labels, v) for labels, v in data]}


def _sample(labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"labels": labels, "value": value} if labels else {"value": value}


def _families(
    counters: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    kind: str,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    families: dict[str, Any] = {}
    for (name, labels), value in sorted(counters.items()):
        family = families.setdefault(
            name, {"type": kind, "help": name.replace("_", " "), "data": []}
        )
        family["data"].append(_sample({**dict(labels), **(extra or {})}, int(value)))
    return families
