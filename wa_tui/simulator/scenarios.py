"""Named deployments in a known state: healthy ones, and one for each finding code.

`wa-tui simulate --scenario NAME` serves one; the tests assert that each produces its
finding. Each builder returns a fresh deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from wa_tui.core import clock
from wa_tui.core.text import GIB
from wa_tui.simulator.deployment import DiskFilling, SimDeployment, SimNode
from wa_tui.simulator.webhook import WebhookState

Scenario = Callable[[], SimDeployment]


def _mc() -> SimDeployment:
    return SimDeployment.multiconnect(8, spares=2)


def _changed(change: Callable[[SimDeployment], object], base: Scenario = _mc) -> Scenario:
    def build() -> SimDeployment:
        deployment = base()
        change(deployment)
        return deployment

    return build


def _core(dep: SimDeployment, shard: int = 3) -> SimNode:
    return next(n for n in dep.serving_coreapps() if n.shards == [[shard, shard]])


def _all(dep: SimDeployment, **values: object) -> None:
    for node in dep.nodes.values():
        for name, value in values.items():
            setattr(node, name, value)


def _conflict(dep: SimDeployment) -> None:
    spare = dep.spares()[0]
    spare.shards = [[3, 3]]
    spare.connect()


def _gateway_uninitialized(dep: SimDeployment) -> None:
    _core(dep).gateway_status = "uninitialized"


def _node_error(dep: SimDeployment) -> None:
    _core(dep).errors = [{"code": 1011, "title": "Service not ready"}]


def _socket(state: str) -> Callable[[SimDeployment], None]:
    def change(dep: SimDeployment) -> None:
        _core(dep).socket_conn = state

    return change


def _webhook_failing(dep: SimDeployment) -> None:
    dep.traffic.webhook_ok = False
    dep.webhook.state = WebhookState.HTTP_503


# The forecast scenarios' known paces (README "The simulator"; the tests read them).
DISK_FILLING_BYTES_PER_SECOND = 2 * GIB / 3600  # 2 GiB an hour: 42 GiB last 21 h
QUEUE_GROWTH_PER_SECOND = 100.0  # 50,000 (the critical level) in about 8 minutes


def _disk_filling(dep: SimDeployment) -> None:
    """One coreapp's logs fill at a known pace, noisy, with a burst a minute in."""
    dep.disk_filling[_core(dep).id] = DiskFilling(
        DISK_FILLING_BYTES_PER_SECOND,
        noise_bytes=8 * 2**20,
        step_after_seconds=60,
        step_bytes=64 * 2**20,
    )


def _queue_climbing(dep: SimDeployment) -> None:
    dep.traffic.queue_growth_per_s = QUEUE_GROWTH_PER_SECOND


def _backed_up(dep: SimDeployment) -> None:
    """A webhook that has been failing for a while: the queue is already long."""
    dep.traffic.webhook_ok = False
    dep.webhook.state = WebhookState.HTTP_503
    dep.traffic.node(_core(dep).id).callback_queue = 8_000


def _statement_labels_failing(deployment: SimDeployment) -> None:
    """A build whose DB requests are labelled by statement, its commits failing."""
    deployment.traffic.db_requests = ("select", "prepare", "commit", "transaction", "rollback")
    deployment.traffic.db_failing = True


def _older_callbacks_failing(deployment: SimDeployment) -> None:
    """An older build (`callback_requests`) whose webhook redirects most callbacks:
    results 301 and 1."""
    deployment.traffic.callback_family = "callback_requests"
    deployment.traffic.webhook_failure_results = ("301", "1")
    deployment.traffic.failing_share = 0.6


SCENARIOS: dict[str, Scenario] = {
    "healthy-single": SimDeployment.single,
    "healthy-ha": lambda: SimDeployment.ha(owner_is_master=True),
    "healthy-ha-coreapp-owner": lambda: SimDeployment.ha(owner_is_master=False),
    "healthy-multiconnect": _mc,
    "healthy-multiconnect-32": lambda: SimDeployment.multiconnect(32, spares=2),
    "no-primary-master": _changed(lambda d: d.remove(d.by_role("primary_master")[0])),
    "multiple-primary-masters": _changed(
        lambda d: setattr(d.by_role("secondary_master")[0], "role", "primary_master")
    ),
    "no-secondary-master": _changed(lambda d: d.remove(d.by_role("secondary_master")[0])),
    "shard-unassigned": _changed(lambda d: d.remove(_core(d))),
    "shard-conflict": _changed(_conflict),
    "socket-down": _changed(_socket("DN")),
    "socket-connecting": _changed(_socket("SC")),
    "socket-unknown": _changed(_socket("RECONNECTING-ISH")),
    "gateway-unhealthy": _changed(_gateway_uninitialized),
    "node-error": _changed(_node_error),
    "build-expired": _changed(lambda d: _all(d, expire_timestamp=clock.now() - timedelta(days=2))),
    "build-expiring": _changed(lambda d: _all(d, expire_timestamp=clock.now() + timedelta(days=3))),
    "low-disk-warning": _changed(lambda d: setattr(_core(d), "free_space_logs", 3 * GIB)),
    "low-disk-critical": _changed(lambda d: setattr(_core(d), "free_space_logs", GIB // 2)),
    "version-skew": _changed(lambda d: setattr(_core(d), "version", "v2.44.3")),
    "schema-skew": _changed(lambda d: setattr(_core(d), "schema_message", 12)),
    "unregistered": _changed(lambda d: _all(d, debug_info="unregistered")),
    "single-socket-down": _changed(lambda d: _all(d, socket_conn="DN"), SimDeployment.single),
    # Its work (stats and metrics): a finding each, an older build, a restart.
    "callback-queue-high": _changed(_backed_up),
    "callback-failing": _changed(_webhook_failing),
    "disk-filling": _changed(_disk_filling),
    "queue-climbing": _changed(_queue_climbing),
    # A fixed timeline, told by wa_tui/simulator/incident.py (`--truth` writes its times).
    "incident": _mc,
    "pending-messages-high": _changed(lambda d: setattr(d.traffic, "pending_messages", 25_000)),
    "db-errors": _changed(lambda d: setattr(d.traffic, "db_failing", True)),
    "api-errors": _changed(lambda d: setattr(d.traffic, "api_5xx_share", 0.5)),
    "old-build": _changed(lambda d: setattr(d, "serves_stats", False)),
    "webapp-restarting": _changed(lambda d: setattr(d.traffic, "webapp_restarts_every", 0.1)),
    # As real deployments answer beyond the docs' examples (docs/wa-api.md).
    "webapp-saturated": _changed(lambda d: setattr(d.traffic.webapps[0], "saturated", True)),
    "db-statement-errors": _changed(_statement_labels_failing),
    "older-build-callbacks": _changed(_older_callbacks_failing),
}
