"""Property tests: whatever JSON a deployment sends, wa-tui raises only its own typed
errors, and analysis and every renderer take any snapshot without raising."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import client_for, read_snapshot
from tests.helpers import render_topology
from wa_tui.analysis import analyse, diff
from wa_tui.analysis.summary import summary_of
from wa_tui.api.models import PayloadError, build_snapshot
from wa_tui.core.errors import WAError
from wa_tui.model.snapshot import Snapshot
from wa_tui.outputs.check import Source, check_line, snapshot_json, snapshot_text
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.ui.node_detail import render_node
from wa_tui.ui.node_table import node_cells
from wa_tui.watch.reader import PollResult

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
FIELDS = [
    "role",
    "shards",
    "socket_conn",
    "expire_timestamp",
    "free_space_logs",
    "schema",
    "env",
    "e2e",
    "db_info",
    "debug_info",
    "version",
    "description",
    "multi_connect",
    "errors",
]
# Node entries shaped like the API's, every documented field holding anything at all.
odd_values = (
    json_values
    | st.sampled_from(["primary_master", "secondary_master", "coreapp", "UP", "DN", "SC"])
    | st.lists(st.lists(st.integers(-3, 40), min_size=0, max_size=3), max_size=3)
)
node_entries = st.dictionaries(st.sampled_from(FIELDS), odd_values, max_size=len(FIELDS))
keyed_support = st.dictionaries(
    st.text(min_size=1, max_size=20).map(lambda s: f"{s}:c"), node_entries, min_size=1, max_size=6
).map(lambda nodes: {"support": nodes})
health_answers = st.one_of(
    json_values,
    st.dictionaries(st.text(max_size=10), st.dictionaries(st.text(), json_values), max_size=4).map(
        lambda h: {"health": h}
    ),
)
answers = st.one_of(json_values, keyed_support, node_entries.map(lambda n: {"support": n}))


def _render_everything(snapshot: Snapshot) -> None:
    findings = tuple(analyse(snapshot))
    diff(snapshot, snapshot)
    source = Source("d", "http://x")
    result = PollResult(snapshot, None, findings, summary=summary_of(snapshot, findings, None))
    snapshot_json(source, result)
    snapshot_text(source, result)
    check_line(result, 14)
    render_topology(snapshot, result.summary, 90)
    for node in snapshot.nodes:
        node_cells(node, snapshot.kind, None)
        render_node(node, snapshot)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(support=answers, health=health_answers)
def test_any_json_parses_or_raises_payload_error_and_then_renders(
    support: Any, health: Any
) -> None:
    try:
        snapshot = build_snapshot(support, health)
    except PayloadError:
        return
    _render_everything(snapshot)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(support=keyed_support)
def test_findings_and_changes_on_arbitrary_deployments_never_raise(support: Any) -> None:
    before = build_snapshot(support, None)
    after = build_snapshot({"support": dict(list(support["support"].items())[1:])}, None)
    analyse(before)
    diff(before, after)
    diff(after, before)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(support=answers, health=health_answers)
def test_over_tcp_only_typed_errors(simulator: SimulatorServer, support: Any, health: Any) -> None:
    deployment: SimDeployment = simulator.deployment
    deployment.support_override, deployment.health_override = support, health

    async def fetch() -> None:
        async with client_for(simulator) as client:
            with contextlib.suppress(WAError):  # the only exception allowed out
                _render_everything(await read_snapshot(client))

    asyncio.run(fetch())
