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


@dataclass
class Traffic:
    """The whole deployment's work, advanced to the present whenever it is read."""

    webhook_ok: bool = True
    # A webhook that answers 200, but more slowly than callbacks come: the whole queue
    # grows by this much a second (shared by the serving coreapps), nothing drained.
    queue_growth_per_s: float = 0.0
    db_failing: bool = False
    api_5xx_share: float = 0.0
    pending_messages: float = 12.0
    # The webapp restarts this often (seconds): its uptime and counters start again.
    webapp_restarts_every: float | None = None
    nodes: dict[str, NodeTraffic] = field(default_factory=dict)
    webapp: NodeTraffic = field(default_factory=NodeTraffic)
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
        self._advance_webapp(elapsed)

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
            for kind, share in (("inbound_message", 0.6), ("status_change", 0.4)):
                node.add(
                    "callback_requests_duration_ms_count",
                    (callbacks + drained) * share,
                    result="success",
                    type=kind,
                )
                node.add(
                    "callback_requests_duration_ms_sum",
                    (callbacks + drained) * share * 85,
                    result="success",
                    type=kind,
                )
        else:
            node.callback_queue += callbacks
            for kind, share in (("inbound_message", 0.6), ("status_change", 0.4)):
                node.add(
                    "callback_requests_duration_ms_count",
                    callbacks * share,
                    result=WEBHOOK_FAILURE_RESULT,
                    type=kind,
                )
                node.add(
                    "callback_requests_duration_ms_count",
                    callbacks * share * 0.1,
                    result="timeout",
                    type=kind,
                )
        for request in ("select", "prepare", "commit", "transaction", "rollback"):
            node.add("db_request_duration_us_count", callbacks * 2, db="messages", request=request)
            if self.db_failing and request in ("commit", "transaction"):
                node.add(
                    "db_request_error_duration_us_count",
                    callbacks * 0.5,
                    db="messages",
                    request=request,
                )
        node.add("endpoint_requests", callbacks * 0.5, result="ok")

    def _advance_webapp(self, elapsed: float) -> None:
        every = self.webapp_restarts_every
        if every is not None and clock.monotonic() - self.webapp.started >= every:
            self.webapp.restart()
        requests = 100.0 * elapsed
        failed = requests * self.api_5xx_share
        self.webapp.add(
            "api_requests_duration_ms_count",
            requests * 0.7 - failed * 0.7,
            result="200",
            method="POST_v1_messages",
        )
        self.webapp.add(
            "api_requests_duration_ms_count",
            requests * 0.3 - failed * 0.3,
            result="200",
            method="POST_v1_contacts",
        )
        if failed:
            self.webapp.add(
                "api_requests_duration_ms_count", failed, result="500", method="POST_v1_messages"
            )
        self.webapp.add("web_connections", requests)

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

    def metrics(self, webapp_id: str) -> dict[str, Any]:
        label = {"node": webapp_id}
        families = _families(self.webapp.counters, "counter", label)
        # Up four days when the simulator began; from zero after a restart.
        uptime = clock.monotonic() - self.webapp.started + (0 if self.webapp.restarted else 348_000)
        families["web_uptime"] = _gauge("Webapp uptime in seconds", [(label, round(uptime))])
        families["web_queue_len"] = _gauge("Requests queued", [(label, 0)])
        families["web_pending_connections"] = _gauge("Pending connections", [(label, 1)])
        families["web_max_pending_connections"] = _gauge("Most pending", [(label, 64)])
        families["web_idle_processes"] = _gauge("Idle workers", [(label, 7)])
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
