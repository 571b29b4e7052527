"""The topology drawing, rendered to text."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from tests.helpers import render_topology
from wa_tui.analysis.summary import summary_of
from wa_tui.api.models import build_snapshot
from wa_tui.simulator import SimDeployment
from wa_tui.ui.topology import MAX_STANDBY_CHIPS


def drawn(deployment: SimDeployment, width: int = 96) -> str:
    snapshot = build_snapshot(deployment.support_payload(), deployment.health_payload())
    console = Console(file=StringIO(), width=width, color_system=None, record=True)
    console.print(render_topology(snapshot, summary_of(snapshot, (), None), width))
    return console.export_text()


def test_unassigned_and_conflicting_shards_stand_out_in_text() -> None:
    deployment = SimDeployment.multiconnect(8)
    deployment.remove(deployment.serving_coreapps()[2])
    spare = deployment.spares()[0]
    spare.shards = [[5, 5]]
    text = drawn(deployment)
    assert "2 ‼ unassigned" in text
    assert "5 ⚠ " in text
    assert "1 unassigned · 1 conflicting" in text


def test_a_thousand_spares_are_summarised() -> None:
    text = drawn(SimDeployment.multiconnect(32, spares=966))
    assert f"… and {966 - MAX_STANDBY_CHIPS} more (node list)" in " ".join(text.split())
    assert len(text.splitlines()) < 30
