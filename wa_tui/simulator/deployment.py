"""The simulated deployment's state, and the changes a real one goes through.

Everything here is plain data and synchronous: the server reads it to answer requests,
the demo timeline mutates it. A lock guards it because the server may run in another
thread than the code driving it (tests, the demo).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wa_tui.core import clock
from wa_tui.core.text import GIB
from wa_tui.simulator.traffic import Traffic
from wa_tui.simulator.webhook import SimWebhook

API_VERSION = "v2.45.1"
BUILD = "v2.45.1"
FREE_UNLIMITED = 9223372036853727000  # Meta's own example value: an "unknown/unlimited" sentinel
NOT_SET = object()
# A live deployment's logs grow: a few KiB a second per node, so free space differs
# between any two answers, as it does on a real one.
LOG_BYTES_PER_SECOND = 3 * 1024


@dataclass
class SimNode:
    """One host:container as the simulator keeps it."""

    id: str
    role: str | None
    shards: list[list[int]] = field(default_factory=list)
    socket_conn: str = "DN"
    gateway_status: str = "disconnected"
    version: str = BUILD
    expire_timestamp: datetime = field(default_factory=lambda: clock.now() + timedelta(days=80))
    free_space_logs: int = 42 * GIB
    registration_id: int = 0
    debug_info: str = "+15550100123"
    schema_message: int = 11
    # Fields laid over the generated answer (odd or hostile values, unknown fields).
    extra: dict[str, Any] = field(default_factory=dict)
    # When set, the node answers these errors instead of data (support and health).
    errors: list[dict[str, Any]] | None = None

    @property
    def owns_shard(self) -> bool:
        return bool(self.shards)

    def connect(self) -> None:
        self.socket_conn, self.gateway_status = "UP", "connected"

    def disconnect(self) -> None:
        self.socket_conn, self.gateway_status = "DN", "disconnected"

    def support(self, multi_connect: bool, keyed: bool, logs_grown: int = 0) -> dict[str, Any]:
        if self.errors is not None:
            return {"errors": self.errors}
        entry: dict[str, Any] = {
            "context": "healthcheck",
            "db_engine": "MYSQL",
            "db_info": ["mysql-connector-c 8.0.33", "MySQL 8.0.35"],
            "debug_info": self.debug_info,
            "description": f"WhatsApp Business API {self.version}",
            "device_iso8601": clock.now().strftime("%Y-%m-%dT%H:%M:%S"),
            "e2e": {
                "identity_timestamp": "2026-01-14T09:12:44",
                "registration_id": self.registration_id,
            },
            "env": [
                f"WA_CONTAINER={self.id.partition(':')[2]}",
                "WA_DB_ENGINE=MYSQL",
                "WA_DB_HOSTNAME=mysql.internal",
                "WA_DB_PORT=3306",
                "WA_DB_USERNAME=wauser",
                "WA_DB_PASSWORD=Sup3r-S3cret-db-pw",
                "WA_API_KEY=k-8d1f4a77c2e94b0f",
                "DATA_SOURCE_NAME=mysql://wauser:Sup3r-S3cret-db-pw@mysql.internal:3306/",
                "WA_WEB_LOG_LEVEL=INFO",
                "TZ=UTC",
            ],
            "expire_timestamp": self.expire_timestamp.strftime("%Y-%m-%dT%H:%M:%S"),
            "free_space_data": FREE_UNLIMITED,
            "free_space_logs": self.free_space_logs - logs_grown,
            "free_space_media_incoming": FREE_UNLIMITED,
            "free_space_media_outgoing": FREE_UNLIMITED,
            "lc": "en",
            "lg": "US",
            "multi_connect": multi_connect,
            "os_name": "ubuntu-x86_64",
            "os_version": "22.04",
            "schema": {
                "axolotl": 5,
                "callback": 3,
                "cluster": 7,
                "config": 4,
                "contact": 9,
                "jobqueue": 2,
                "message": self.schema_message,
            },
            "socket_conn": self.socket_conn,
            "version": self.version,
        }
        if keyed:
            entry["role"] = self.role
            entry["shards"] = [list(pair) for pair in self.shards]
        entry.update(self.extra)
        return entry

    def health(self, keyed: bool) -> dict[str, Any]:
        if self.errors is not None:
            return {"errors": self.errors}
        entry: dict[str, Any] = {"gateway_status": self.gateway_status}
        if keyed:
            entry["role"] = self.role
        return entry


@dataclass
class DiskFilling:
    """A logs directory filling at a known pace, with noise and one step (a burst of
    logs): what DISK_FULL_SOON must see through."""

    bytes_per_second: float
    since: float = field(default_factory=lambda: clock.monotonic())
    noise_bytes: int = 0
    step_after_seconds: float | None = None
    step_bytes: int = 0
    seed: int = 3

    def used(self, now: float) -> int:
        elapsed = max(now - self.since, 0.0)
        stepped = self.step_after_seconds is not None and elapsed >= self.step_after_seconds
        noise = random.Random(f"{self.seed} {round(now, 3)}").randint(
            -self.noise_bytes, self.noise_bytes
        )
        return int(self.bytes_per_second * elapsed) + (self.step_bytes if stepped else 0) + noise

    def seconds_left(self, free: int) -> float:
        """The truth: when `free` bytes are gone at this pace."""
        return free / self.bytes_per_second


class SimDeployment:
    """A whole deployment: its nodes, and the operations that change them."""

    def __init__(self, topology: str, nodes: list[SimNode], seed: int = 7) -> None:
        self.topology = topology
        # Since when its logs grow (see go_live); None: answers are byte-identical
        # between polls but for what the story or a test changes.
        self.live_since: float | None = None
        self.nodes: dict[str, SimNode] = {n.id: n for n in nodes}
        self.departed: dict[str, SimNode] = {}
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        # Answers served as they are instead of the generated ones (any JSON: for tests
        # of what a broken or hostile deployment can send).
        self.support_override: object = NOT_SET
        self.health_override: object = NOT_SET
        # Its work, served as stats and metrics; an older build answers 404 there.
        self.traffic = Traffic()
        self.serves_stats = True
        # Where its callbacks go (served by the simulator beside the API); an older
        # build or a user without admin rights is refused the settings (403).
        self.webhook = SimWebhook()
        # Nodes whose logs directory fills at a known pace (the disk-filling scenario).
        self.disk_filling: dict[str, DiskFilling] = {}
        self.serves_settings = True
        self.max_concurrent_requests = 6

    # -- building ---------------------------------------------------------------------

    @classmethod
    def single(cls) -> SimDeployment:
        node = SimNode(id="single", role=None)
        node.connect()
        return cls("single", [node])

    @classmethod
    def ha(cls, owner_is_master: bool = True, coreapps: int = 2) -> SimDeployment:
        """HA: one node owns `[[-1,-1],[0,0]]` (the primary master, or a coreapp)."""
        names = _Names(seed=11)
        masters = [SimNode(names.master(i), role) for i, role in enumerate(_MASTER_ROLES)]
        cores = [SimNode(names.core(i), "coreapp") for i in range(coreapps)]
        owner = masters[0] if owner_is_master else cores[0]
        owner.shards = [[-1, -1], [0, 0]]
        owner.connect()
        return cls("ha", masters + cores)

    @classmethod
    def multiconnect(cls, shards: int = 8, spares: int = 2) -> SimDeployment:
        if not 1 <= shards <= 32:
            raise ValueError("multiconnect supports 1 to 32 shards")
        names = _Names(seed=shards)
        masters = [SimNode(names.master(i), role) for i, role in enumerate(_MASTER_ROLES)]
        masters[0].shards = [[-1, -1]]
        masters[0].connect()
        cores = []
        for shard in range(shards + spares):
            core = SimNode(names.core(shard), "coreapp")
            if shard < shards:
                core.shards = [[shard, shard]]
                core.connect()
            cores.append(core)
        return cls("multiconnect", masters + cores)

    @classmethod
    def build(cls, topology: str, shards: int = 8) -> SimDeployment:
        if topology == "single":
            return cls.single()
        if topology == "ha":
            return cls.ha()
        if topology == "multiconnect":
            return cls.multiconnect(shards)
        raise ValueError(f"unknown topology {topology!r}: single, ha or multiconnect")

    def go_live(self) -> SimDeployment:
        """From now on, every node's logs grow between any two answers."""
        self.live_since = clock.monotonic()
        return self

    # -- answers ----------------------------------------------------------------------

    def _logs_grown(self, node: SimNode) -> int:
        filling = self.disk_filling.get(node.id)
        filled = filling.used(clock.monotonic()) if filling else 0
        if self.live_since is None:
            return filled
        rate = LOG_BYTES_PER_SECOND * (1 + len(node.id) % 3)  # nodes write at their pace
        return filled + int((clock.monotonic() - self.live_since) * rate)

    @property
    def keyed(self) -> bool:
        return self.topology != "single"

    def support_payload(self) -> Any:
        if self.support_override is not NOT_SET:
            return self.support_override
        with self.lock:
            multi = self.topology == "multiconnect"
            if not self.keyed:
                node = next(iter(self.nodes.values()))
                body: dict[str, Any] = node.support(multi, False, self._logs_grown(node))
            else:
                body = {
                    n.id: n.support(multi, True, self._logs_grown(n)) for n in self.nodes.values()
                }
        return {"support": body, "meta": meta()}

    def health_payload(self) -> Any:
        if self.health_override is not NOT_SET:
            return self.health_override
        with self.lock:
            if not self.keyed:
                body: dict[str, Any] = next(iter(self.nodes.values())).health(False)
            else:
                body = {n.id: n.health(True) for n in self.nodes.values()}
        return {"health": body, "meta": meta()}

    def _serving(self) -> list[str]:
        if not self.keyed:
            return [n.id for n in self.nodes.values()]
        return [n.id for n in self.by_role("coreapp") if n.owns_shard]

    def settings_payload(self) -> Any:
        """`/v1/settings/application` as documented, its webhook the simulated one."""
        application = {
            "callback_backoff_delay_ms": 3000,
            "callback_persist": True,
            "garbagecollector_enable": {"media": False, "messages": True},
            "heartbeat_interval": 5,
            "max_callback_backoff_delay_ms": 900000,
            "media": {"auto_download": ["image", "document", "audio"]},
            "notify_user_change_number": True,
            "show_security_notifications": True,
            "unhealthy_interval": 30,
            "wa_id": "15550100123",
            "webhooks": {
                "url": self.webhook.url(),
                "max_concurrent_requests": self.max_concurrent_requests,
                "message": {"sent": True, "delivered": True, "read": False},
            },
            "verbose_logging": False,
            "log_level": "info",
        }
        return {"settings": {"application": application}, "meta": meta()}

    def app_stats_payload(self) -> Any:
        with self.lock:
            self.traffic.advance(self._serving())
            if not self.keyed:
                node = next(iter(self.nodes.values()))
                body: dict[str, Any] = self.traffic.app_stats(node.id)
            else:
                body = {n.id: self.traffic.app_stats(n.id) for n in self.nodes.values()}
        return {"stats": {"app": body}, "meta": meta()}

    def db_stats_payload(self) -> Any:
        """Only the primary master fills its entry (the single node, when there is one)."""
        with self.lock:
            self.traffic.advance(self._serving())
            if not self.keyed:
                body: dict[str, Any] = self.traffic.db_stats()
            else:
                body = {
                    n.id: self.traffic.db_stats() if n.role == "primary_master" else {}
                    for n in self.nodes.values()
                }
        return {"stats": {"db": body}, "meta": meta()}

    def metrics_payload(self, webapp: int = 0) -> Any:
        """`/metrics` as webapp number `webapp` answers it (behind a balancer, one of
        several)."""
        with self.lock:
            self.traffic.advance(self._serving())
            chosen = self.traffic.webapps[webapp % len(self.traffic.webapps)]
            return {"metrics": self.traffic.metrics(chosen), "meta": meta()}

    # -- what happens to a real deployment --------------------------------------------

    def restart(self, node_id: str | None = None) -> None:
        """A coreapp's container restarts (its counters start again), or with no id the
        webapp does (its uptime starts again)."""
        with self.lock:
            traffic = self.traffic.node(node_id) if node_id else self.traffic.webapps[0].traffic
            traffic.restart()

    def by_role(self, role: str) -> list[SimNode]:
        return [n for n in self.nodes.values() if n.role == role]

    def serving_coreapps(self) -> list[SimNode]:
        return [n for n in self.by_role("coreapp") if n.owns_shard]

    def spares(self) -> list[SimNode]:
        return [n for n in self.by_role("coreapp") if not n.owns_shard]

    def remove(self, node: SimNode) -> list[list[int]]:
        """The node's container dies: it leaves the answer; its shards are orphaned."""
        orphaned, node.shards = node.shards, []
        node.disconnect()
        self.departed[node.id] = self.nodes.pop(node.id)
        return orphaned

    def rejoin(self, node_id: str, role: str) -> SimNode:
        """A departed node comes back as a standby."""
        node = self.departed.pop(node_id)
        node.role = role
        self.nodes[node.id] = node
        return node

    def promote_spare(self, shards: list[list[int]]) -> SimNode | None:
        """What the primary master does for an orphaned shard: give it to a spare."""
        spares = self.spares()
        if not spares:
            return None
        spare = spares[0]
        spare.shards = shards
        spare.socket_conn, spare.gateway_status = "SC", "connecting"
        return spare

    def fail_over_master(self) -> tuple[SimNode, SimNode] | None:
        """The primary master dies; the secondary wins the lease and takes its shards."""
        primaries, secondaries = self.by_role("primary_master"), self.by_role("secondary_master")
        if not primaries or not secondaries:
            return None
        old, new = primaries[0], secondaries[0]
        shards = self.remove(old)
        new.role, new.shards = "primary_master", shards
        if shards:
            new.socket_conn, new.gateway_status = "SC", "connecting"
        return old, new


_MASTER_ROLES = ("primary_master", "secondary_master")


class _Names:
    """Realistic, repeatable `host:container` ids: hostnames and hex container ids."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _container(self) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(12))

    def master(self, index: int) -> str:
        return f"wa-master-{'abcdefgh'[index]}:{self._container()}"

    def core(self, index: int) -> str:
        return f"10.212.65.{151 + index}:wa-core-{self._container()}"


def meta() -> dict[str, str]:
    return {"api_status": "stable", "version": API_VERSION}


def error_body(code: int, title: str, details: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "title": title}
    if details:
        error["details"] = details
    return {"errors": [error], "meta": meta()}
