"""The demo's container logs: plausible coreapp and webapp lines per node, appended to
files under a folder, one a node (`FOLDER/HOST/CONTAINER.log`), so `l` has something to
tail in `wa-tui --demo` on a machine with no deployment. The lines follow the story: a
node whose socket is down logs its reconnects, a failing webhook its callbacks' errors.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from wa_tui.core import clock
from wa_tui.simulator.deployment import SimDeployment, SimNode
from wa_tui.simulator.webhook import WebhookState

HISTORY_LINES = 200  # written at start, so a log opens with something to read
EVERY_SECONDS = 0.7

_ROUTINE = (
    "INFO  [xmpp] ping ok rtt={rtt}ms",
    "INFO  [db] pool active=3 idle=7",
    "INFO  [msg] outbound batch sent count={n}",
    "INFO  [msg] inbound message persisted id=wamid.{hex}",
    "DEBUG [gc] messages collected count={n}",
    "INFO  [callback] delivered status_change count={n} in {rtt}ms",
)
_MASTER = (
    "INFO  [master] lease renewed holder={node}",
    "INFO  [master] shard map broadcast version={n}",
)


class NodeLogs:
    """Writes each node's log under `folder` while `run()` runs."""

    def __init__(self, deployment: SimDeployment, folder: Path, seed: int = 11) -> None:
        self.deployment = deployment
        self.folder = folder
        self._rng = random.Random(seed)

    @property
    def template(self) -> str:
        """The path of a node's log, with `{host}` and `{container}` to fill."""
        return str(self.folder / "{host}" / "{container}.log")

    def path(self, node_id: str) -> Path:
        host, _, container = node_id.partition(":")
        return self.folder / host / f"{container}.log"

    async def run(self) -> None:
        self._write(HISTORY_LINES)
        while True:
            await asyncio.sleep(EVERY_SECONDS)
            self._write(self._rng.randint(0, 3))

    def _write(self, lines_each: int) -> None:
        with self.deployment.lock:
            nodes = list(self.deployment.nodes.values())
            webhook = self.deployment.webhook.state
        for node in nodes:
            path = self.path(node.id)
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = [self._line(node, webhook) for _ in range(lines_each)]
            with path.open("a", encoding="utf-8") as log:
                log.writelines(f"{clock.now():%Y-%m-%dT%H:%M:%S}Z {line}\n" for line in lines)

    def _line(self, node: SimNode, webhook: WebhookState) -> str:
        rng = self._rng
        values = {
            "rtt": rng.randint(8, 90),
            "n": rng.randint(1, 400),
            "hex": f"{rng.getrandbits(48):012x}",
        }
        if node.socket_conn == "DN" and node.owns_shard:
            return rng.choice(
                (
                    "ERROR [xmpp] connection to chat server lost: reconnecting in 5s",
                    "WARN  [xmpp] reconnect attempt failed: timeout",
                )
            )
        if node.socket_conn == "SC":
            return "WARN  [xmpp] socket connecting (SC): handshake in progress"
        if webhook is WebhookState.HTTP_503 and node.owns_shard and rng.random() < 0.5:
            return "ERROR [callback] POST to webhook failed: HTTP 503; will retry with backoff"
        if webhook is WebhookState.SLOW and node.owns_shard and rng.random() < 0.4:
            return "WARN  [callback] webhook answered in 1.6s (slow); queue depth growing"
        pool = _MASTER + _ROUTINE if node.role and "master" in node.role else _ROUTINE
        return rng.choice(pool).format(node=node.id, **values)
