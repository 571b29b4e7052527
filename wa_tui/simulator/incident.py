"""The incident scenario: a fixed timeline whose true times are written down as it goes,
so that an account of its recording (`wa-tui report`) can be checked against the truth.

One step every `--step` seconds: the primary master is lost and the secondary takes the
lease (the control shard without an owner, then connecting); a coreapp's socket goes
down and comes back; the webhook answers 503 for four steps. Then all is quiet. The
truth (`wa-tui simulate --scenario incident --truth FILE`) is rewritten after each step:

    {"steps": [{"at", "what"}],
     "failovers": [{"lost_at", "restored_at", "lost_node", "new_node"}],
     "shards": [{"shard", "from", "until", "why"}],
     "webhook_outages": [{"from", "until"}]}

`why` reads as the report's does ("no owner", "<node> socket DN").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wa_tui.core import clock
from wa_tui.simulator.deployment import SimDeployment, SimNode
from wa_tui.simulator.webhook import WebhookState

OUTAGE_STEPS = 4  # the webhook's outage, in steps
SOCKET_DOWN_STEPS = 2  # the coreapp's socket down, then one step connecting


class IncidentTruth:
    """What the story did, and when (the shared clock), written to `path` if given."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.document: dict[str, list[dict[str, Any]]] = {
            "steps": [],
            "failovers": [],
            "shards": [],
            "webhook_outages": [],
        }
        self._down: dict[int, dict[str, Any]] = {}  # shard -> its open interval

    @staticmethod
    def _now() -> str:
        return clock.now().isoformat().replace("+00:00", "Z")

    def step(self, what: str) -> str:
        self.document["steps"].append({"at": self._now(), "what": what})
        self._write()
        return what

    def lost(self, node: str) -> None:
        self.document["failovers"].append(
            {"lost_at": self._now(), "restored_at": None, "lost_node": node, "new_node": None}
        )

    def restored(self, node: str) -> None:
        self.document["failovers"][-1].update(restored_at=self._now(), new_node=node)

    def shard(self, shard: int, why: str | None) -> None:
        """Shard `shard` is down for `why` from now, or (None) up."""
        now = self._now()
        if (interval := self._down.pop(shard, None)) is not None:
            interval["until"] = now
        if why is not None:
            self._down[shard] = {"shard": shard, "from": now, "until": None, "why": why}
            self.document["shards"].append(self._down[shard])

    def webhook(self, failing: bool) -> None:
        outages = self.document["webhook_outages"]
        if failing:
            outages.append({"from": self._now(), "until": None})
        else:
            outages[-1]["until"] = self._now()

    def _write(self) -> None:
        if self.path is None:
            return
        # Written whole, then moved over the last: a reader never meets half a file.
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(self.document, indent=2) + "\n")
        os.replace(partial, self.path)


def incident_story(dep: SimDeployment, truth: IncidentTruth) -> Iterator[str]:
    yield truth.step("all healthy")
    yield from _failover(dep, truth)
    yield from _socket_down(dep, truth)
    yield from _webhook_outage(dep, truth)
    while True:
        yield truth.step("quiet")


def _failover(dep: SimDeployment, truth: IncidentTruth) -> Iterator[str]:
    with dep.lock:
        old = dep.by_role("primary_master")[0]
        orphaned = [first for first, _ in dep.remove(old)]
        truth.lost(old.id)
        for shard in orphaned:
            truth.shard(shard, "no owner")
    yield truth.step(f"{old.id}: primary master lost")
    with dep.lock:
        new = dep.by_role("secondary_master")[0]
        new.role, new.shards = "primary_master", [[s, s] for s in orphaned]
        new.socket_conn, new.gateway_status = "SC", "connecting"
        truth.restored(new.id)
        for shard in orphaned:
            truth.shard(shard, f"{new.id} socket SC")
    yield truth.step(f"{new.id}: took the lease, connecting")
    with dep.lock:
        new.connect()
        for shard in orphaned:
            truth.shard(shard, None)
    yield truth.step(f"{new.id}: primary master serving")
    with dep.lock:
        dep.rejoin(old.id, "secondary_master")
    yield truth.step(f"{old.id}: back as secondary master")


def _socket_down(dep: SimDeployment, truth: IncidentTruth) -> Iterator[str]:
    with dep.lock:
        core: SimNode = dep.serving_coreapps()[0]
        (shard, _), *_ = core.shards
        core.disconnect()
        truth.shard(shard, f"{core.id} socket DN")
    yield truth.step(f"{core.id}: socket down (shard {shard})")
    for _ in range(SOCKET_DOWN_STEPS - 1):
        yield truth.step(f"{core.id}: socket still down")
    with dep.lock:
        core.socket_conn, core.gateway_status = "SC", "connecting"
        truth.shard(shard, f"{core.id} socket SC")
    yield truth.step(f"{core.id}: reconnecting")
    with dep.lock:
        core.connect()
        truth.shard(shard, None)
    yield truth.step(f"{core.id}: socket up")


def _webhook_outage(dep: SimDeployment, truth: IncidentTruth) -> Iterator[str]:
    with dep.lock:
        dep.traffic.webhook_ok = False
        dep.webhook.state = WebhookState.HTTP_503
        truth.webhook(failing=True)
    yield truth.step("webhook answering 503")
    for _ in range(OUTAGE_STEPS - 1):
        yield truth.step("webhook still failing")
    with dep.lock:
        dep.traffic.webhook_ok = True
        dep.webhook.state = WebhookState.OK
        truth.webhook(failing=False)
    yield truth.step("webhook answering 200 again")
