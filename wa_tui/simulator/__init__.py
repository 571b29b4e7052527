"""A simulated WhatsApp Business API deployment, served over real HTTP(S) on 127.0.0.1."""

from pathlib import Path

from wa_tui.simulator.deployment import SimDeployment, SimNode
from wa_tui.simulator.node_logs import NodeLogs
from wa_tui.simulator.server import SimulatorServer
from wa_tui.simulator.timeline import demo_story

__all__ = ["SimDeployment", "SimNode", "SimulatorServer", "demo_story", "start_demo"]


def start_demo(logs_folder: Path, step_seconds: float = 4.0) -> SimulatorServer:
    """The `--demo` deployment: 8-shard multiconnect with two spares, living its story,
    its logs growing (its containers' logs written under `logs_folder`)."""
    deployment = SimDeployment.multiconnect(shards=8, spares=2).go_live()
    server = SimulatorServer(
        deployment,
        story=demo_story(deployment),
        step_seconds=step_seconds,
        node_logs=NodeLogs(deployment, logs_folder),
    )
    return server.start()
