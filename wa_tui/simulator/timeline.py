"""The demo's story: what happens to a deployment on a bad day, one step at a time.

`demo_story` is an endless generator: each `next()` applies one change to the deployment
and returns a line saying what happened. Each episode picks its nodes from the current
state, so the story keeps going after roles have swapped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

from wa_tui.core import clock
from wa_tui.simulator.deployment import SimDeployment
from wa_tui.simulator.webhook import WebhookState


def demo_story(dep: SimDeployment) -> Iterator[str]:
    for cycle in itertools.count():
        # Every other round, so the findings it raises are seen to clear in between.
        if cycle % 2 == 0:
            yield from webhook_outage(dep)
        yield from socket_flap(dep)
        yield from master_failover(dep)
        yield from coreapp_loss(dep)
        yield from build_expiry(dep)


def _shard_owners(dep: SimDeployment) -> list:
    return [n for n in dep.nodes.values() if n.owns_shard]


OUTAGE_STEPS = 6  # how long the webhook fails, in story steps


def webhook_outage(dep: SimDeployment) -> Iterator[str]:
    """The webhook stops answering 200: callbacks fail and queue up; then it answers
    again, slowly at first, and the queue drains."""
    with dep.lock:
        dep.traffic.webhook_ok = False
        dep.webhook.state = WebhookState.HTTP_503
    yield "webhook answering 503: callbacks failing and queueing"
    for _ in range(OUTAGE_STEPS - 1):
        yield "webhook still failing: the callback queue grows"
    with dep.lock:
        dep.traffic.webhook_ok = True
        dep.webhook.state = WebhookState.SLOW
    yield "webhook answering 200 again, slowly: the callback queue drains"
    with dep.lock:
        dep.webhook.state = WebhookState.OK
    yield "webhook healthy again"


def socket_flap(dep: SimDeployment) -> Iterator[str]:
    with dep.lock:
        owners = [n for n in _shard_owners(dep) if n.socket_conn == "UP"]
        if not owners:
            return
        node = dep.rng.choice(owners)
        node.disconnect()
    yield f"{node.id}: socket to WhatsApp went down"
    with dep.lock:
        node.socket_conn, node.gateway_status = "SC", "connecting"
    yield f"{node.id}: reconnecting"
    with dep.lock:
        node.connect()
    yield f"{node.id}: socket back up"


def coreapp_loss(dep: SimDeployment) -> Iterator[str]:
    with dep.lock:
        serving = dep.serving_coreapps()
        if not serving or not dep.spares():
            return
        lost = dep.rng.choice(serving)
        orphaned = dep.remove(lost)
    yield f"{lost.id}: container lost, shard {orphaned[0][0]} has no owner"
    with dep.lock:
        spare = dep.promote_spare(orphaned)
    if spare is None:
        return
    yield f"{spare.id}: spare promoted to shard {orphaned[0][0]}"
    with dep.lock:
        spare.connect()
    yield f"{spare.id}: serving shard {orphaned[0][0]}"
    with dep.lock:
        dep.rejoin(lost.id, "coreapp")
    yield f"{lost.id}: back as a spare"


def master_failover(dep: SimDeployment) -> Iterator[str]:
    with dep.lock:
        swapped = dep.fail_over_master()
    if swapped is None:
        return
    old, new = swapped
    yield f"{old.id}: primary master lost; {new.id} took the lease"
    with dep.lock:
        if new.owns_shard:
            new.connect()
    yield f"{new.id}: primary master serving"
    with dep.lock:
        dep.rejoin(old.id, "secondary_master")
    yield f"{old.id}: back as secondary master"


def build_expiry(dep: SimDeployment) -> Iterator[str]:
    soon = clock.now() + timedelta(days=5)
    with dep.lock:
        for node in dep.nodes.values():
            node.expire_timestamp = soon
    yield "build expires in 5 days"
    renewed = soon + timedelta(days=85)
    with dep.lock:
        for node in dep.nodes.values():
            node.expire_timestamp = renewed
    yield "build renewed for 90 days"
