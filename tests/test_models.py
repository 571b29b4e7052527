"""Parsing /v1/support and /v1/health in their documented shapes, and odd ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wa_tui.api.models import PayloadError, build_snapshot
from wa_tui.model.snapshot import DeploymentKind, Role, Snapshot, SocketState, whole_number
from wa_tui.simulator import SimDeployment

# The single shape, as Meta's page documents it (values from its example).
SINGLE_SUPPORT = {
    "support": {
        "context": "healthcheck",
        "db_engine": "MYSQL",
        "db_info": ["mysql-5.7"],
        "debug_info": "unregistered",
        "description": "whatsapp-build-version",
        "device_iso8601": "2018-09-20T14:26:07",
        "e2e": {"identity_timestamp": "id-timestamp", "registration_id": 1234},
        "env": ["WA_DB_ENGINE=MYSQL", "WA_DB_PASSWORD=hunter2"],
        "expire_timestamp": "2018-09-27T14:26:07",
        "free_space_data": 9223372036853727000,
        "free_space_logs": 14269902848,
        "free_space_media_incoming": 9223372036853727000,
        "free_space_media_outgoing": 9223372036853727000,
        "lc": "en",
        "lg": "US",
        "multi_connect": False,
        "os_name": "ubuntu-x86_64",
        "os_version": "16.04",
        "schema": {"axolotl": 1, "callback": 2, "cluster": 3, "config": 4, "contact": 5},
        "socket_conn": "UP",
        "version": "build-version",
    }
}


def test_single_shape_is_one_node_with_every_documented_field() -> None:
    snapshot = build_snapshot(SINGLE_SUPPORT, {"health": {"gateway_status": "connected"}})
    assert snapshot.kind is DeploymentKind.SINGLE
    (node,) = snapshot.nodes
    assert node.socket is SocketState.UP
    assert node.gateway_status == "connected"
    assert node.role is None and node.shards == () and not node.is_standby
    assert node.support.expire_timestamp == datetime(2018, 9, 27, 14, 26, 7, tzinfo=UTC)
    assert node.support.schema == {
        "axolotl": 1,
        "callback": 2,
        "cluster": 3,
        "config": 4,
        "contact": 5,
    }
    assert snapshot.free_space(node)["logs"] == 14269902848
    assert node.version == "build-version"
    assert snapshot.problems(node) == ()


def test_keyed_multiconnect_shape_orders_masters_then_shards_then_spares() -> None:
    deployment = SimDeployment.multiconnect(shards=4, spares=1)
    snapshot = build_snapshot(deployment.support_payload(), deployment.health_payload())
    assert snapshot.kind is DeploymentKind.MULTICONNECT
    assert snapshot.shard_count == 4
    roles = [(n.role, n.shards) for n in snapshot.nodes]
    assert roles == [
        (Role.PRIMARY_MASTER, (-1,)),
        (Role.SECONDARY_MASTER, ()),
        (Role.COREAPP, (0,)),
        (Role.COREAPP, (1,)),
        (Role.COREAPP, (2,)),
        (Role.COREAPP, (3,)),
        (Role.COREAPP, ()),
    ]
    assert all(":" in n.id and n.host and n.container for n in snapshot.nodes)
    assert [len(o) for o in snapshot.owners.values()] == [1, 1, 1, 1, 1]


@pytest.mark.parametrize("owner_is_master", [True, False])
def test_ha_owner_of_both_shards_may_be_master_or_coreapp(owner_is_master: bool) -> None:
    deployment = SimDeployment.ha(owner_is_master=owner_is_master)
    snapshot = build_snapshot(deployment.support_payload(), deployment.health_payload())
    assert snapshot.kind is DeploymentKind.HA
    assert snapshot.shard_count == 1
    owner = snapshot.owners[0][0]
    assert owner.shards == (-1, 0)
    assert owner.role == (Role.PRIMARY_MASTER if owner_is_master else Role.COREAPP)
    assert snapshot.nodes[0].role == Role.PRIMARY_MASTER


@pytest.mark.parametrize(
    ("highest", "expected"), [(0, 1), (1, 2), (2, 4), (5, 8), (8, 16), (31, 32)]
)
def test_shard_count_is_smallest_documented_count_covering_highest_shard(
    highest: int, expected: int
) -> None:
    support = {
        "support": {
            "m:1": {"role": "primary_master", "shards": [[-1, -1]], "multi_connect": True},
            "c:1": {"role": "coreapp", "shards": [[highest, highest]], "multi_connect": True},
        }
    }
    assert build_snapshot(support, None).shard_count == expected
    assert build_snapshot(support, None, expected_shards=32).shard_count == 32


def test_wrong_types_are_recorded_and_the_rest_kept() -> None:
    support = {
        "support": {
            "a:1": {
                "role": "coreapp",
                "shards": [[0, 0]],
                "free_space_logs": "123456",  # a number as a string: coerced
                "schema": "not-a-mapping",  # wrong: recorded, raw kept
                "socket_conn": "WEIRD",  # unknown state: UNK
                "env": "not-a-list",  # a detail pane field: recorded when asked
                "brand_new_field": {"nested": [1, 2]},
                "device_iso8601": ["not", "a", "time"],  # the clock, wrong too: recorded
            },
            "b:2": ["not", "an", "object"],
        }
    }
    snapshot = build_snapshot(support, None)
    a, b = snapshot.by_id["a:1"], snapshot.by_id["b:2"]
    assert snapshot.free_space(a)["logs"] == 123456
    assert a.support.schema is None
    problems = [p.partition(":")[0] for p in snapshot.problems(a)]
    assert problems == ["schema", "env", "device_iso8601"]
    assert snapshot.raw(a)["schema"] == "not-a-mapping"
    assert a.socket is SocketState.UNKNOWN
    assert snapshot.raw(a)["brand_new_field"] == {"nested": [1, 2]}
    assert snapshot.raw(a)["device_iso8601"] == ["not", "a", "time"]
    assert snapshot.problems(b) == ("entry is list, not an object",)


def test_node_entries_carrying_errors_are_kept_as_nodes_in_error() -> None:
    support = {"support": {"a:1": {"errors": [{"code": 1011, "title": "Service not ready"}]}}}
    health = {
        "health": {
            "a:1": {"errors": [{"code": 1014, "title": "Internal error"}], "role": "coreapp"}
        }
    }
    (node,) = build_snapshot(support, health).nodes
    assert [e.code for e in node.errors] == [1011, 1014]
    assert node.errors[0].summary() == "1011 Service not ready"
    assert node.role == "coreapp"


@pytest.mark.parametrize(
    "payload",
    [[], "text", {"meta": {}}, {"support": []}, {"errors": [{"code": 1005}]}],
)
def test_answers_of_no_documented_shape_raise_payload_error(payload: object) -> None:
    with pytest.raises(PayloadError):
        build_snapshot(payload, None)


def test_health_of_the_wrong_shape_does_not_lose_the_nodes() -> None:
    snapshot = build_snapshot(SINGLE_SUPPORT, {"health": "???"})
    assert len(snapshot.nodes) == 1
    assert snapshot.nodes[0].gateway_status is None


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("UP", SocketState.UP),
        ("DN", SocketState.DOWN),
        ("SC", SocketState.CONNECTING),
        ("UP receiving offline", SocketState.UP_RECEIVING_OFFLINE),
        ("UNK", SocketState.UNKNOWN),
        ("up", SocketState.UNKNOWN),
        (None, SocketState.UNKNOWN),
    ],
)
def test_socket_states(raw: str | None, state: SocketState) -> None:
    assert SocketState.parse(raw) is state


def test_a_node_unchanged_but_for_its_clock_keeps_its_parsed_parts() -> None:
    deployment = SimDeployment.multiconnect(4)
    first = build_snapshot(deployment.support_payload(), deployment.health_payload())
    later = deployment.support_payload()
    flapped, touched, unhealthy = (n.id for n in deployment.serving_coreapps()[:3])
    later["support"][flapped]["socket_conn"] = "DN"
    for entry in later["support"].values():
        entry["device_iso8601"] = "2031-01-01T00:00:00"  # every clock moved on
    health = deployment.health_payload()
    health["health"][unhealthy]["gateway_status"] = "disconnected"
    second = build_snapshot(later, health, previous=first)

    reused = [n.id for n in second.nodes if n is first.by_id[n.id]]
    assert flapped not in reused and unhealthy not in reused and touched in reused
    assert len(reused) == len(second.nodes) - 2
    assert second.by_id[flapped].socket is SocketState.DOWN
    assert second.by_id[unhealthy].gateway_status == "disconnected"
    for node in second.nodes:  # the clock is the new one, reused or not
        assert second.raw(node)["device_iso8601"] == "2031-01-01T00:00:00"
        assert second.clock_skew(node, datetime(2031, 1, 1, tzinfo=UTC)) == 0


def test_a_snapshot_read_again_unchanged_says_so() -> None:
    deployment = SimDeployment.multiconnect(4)
    first = build_snapshot(deployment.support_payload(), deployment.health_payload())
    again = deployment.support_payload()
    for entry in again["support"].values():
        entry["device_iso8601"] = "2031-01-01T00:00:00"
    second = build_snapshot(again, deployment.health_payload(), previous=first)
    assert second.unchanged_since(first)
    again["support"][deployment.serving_coreapps()[0].id]["socket_conn"] = "DN"
    third = build_snapshot(again, deployment.health_payload(), previous=second)
    assert not third.unchanged_since(second)
    assert not build_snapshot(again, None, previous=third).unchanged_since(third)  # no health


@pytest.mark.parametrize(
    "value",
    [
        1,
        0,
        True,
        1.0,
        1.5,
        float("inf"),
        "12",
        " 12 ",
        "12.0",
        "12.5",
        "1_000",
        "1e3",
        "x",
        None,
        [1],
        2**63 - 1,
        "9223372036854775807",
    ],
)
def test_a_reading_is_read_as_the_parser_reads_a_number(value: object) -> None:
    """The snapshot model reads free space without pydantic; the parser's Readings check
    (pydantic's lax int) must agree, or a pane would show a figure it calls odd."""
    from pydantic import TypeAdapter, ValidationError

    try:
        expected = TypeAdapter(int).validate_python(value)
    except ValidationError:
        expected = None
    assert whole_number(value) == expected


def test_a_snapshot_stored_and_read_back_is_the_same_without_validating_again() -> None:
    """What a recorder keeps for a viewer's first frame: every node's typed fields, its
    odd fields as checked, the readings as sent; made again with no validator."""
    support = SimDeployment.multiconnect(4).support_payload()
    odd = next(iter(support["support"].values()))
    odd.update(env="not-a-list", version=2.53, expire_timestamp="2027-01-02T03:04:05")
    odd["errors"] = [{"code": 1011, "title": "Service not ready", "extra": 1}]
    snapshot = build_snapshot(support, None, expected_shards=4)
    stored = json.loads(json.dumps(snapshot.document()))
    again = Snapshot.from_document(stored)
    assert [n.id for n in again.nodes] == [n.id for n in snapshot.nodes]
    for before, after in zip(snapshot.nodes, again.nodes, strict=True):
        assert after.support == before.support and after.health == before.health
        assert after.shards == before.shards and after.role == before.role
        assert again.problems(after) == snapshot.problems(before)
        assert again.raw(after) == snapshot.raw(before)
        assert again.free_space(after) == snapshot.free_space(before)
    assert (again.kind, again.shard_count, again.fetched_at) == (
        snapshot.kind,
        snapshot.shard_count,
        snapshot.fetched_at,
    )
    assert any("env" in p for n in again.nodes for p in again.problems(n))
