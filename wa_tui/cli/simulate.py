"""`wa-tui simulate`: a simulated deployment served on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.options import Commands, UsageError, positive
from wa_tui.cli.start import Start
from wa_tui.core import memory

if TYPE_CHECKING:
    from wa_tui.simulator import SimDeployment
    from wa_tui.simulator.faults import FaultPlan
    from wa_tui.simulator.traffic import SimWebapp


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    simulate = commands.add_parser(
        "simulate",
        help="serve a simulated deployment on 127.0.0.1",
        description="Serve a simulated deployment; prints its url, username and password.",
    )
    simulate.add_argument(
        "--topology", choices=("single", "ha", "multiconnect"), default="multiconnect"
    )
    simulate.add_argument("--shards", type=int, default=8, help="multiconnect shards, 1 to 32")
    simulate.add_argument(
        "--scenario",
        metavar="NAME",
        help="a deployment in a known state instead (no story); `--scenario list` names them",
    )
    simulate.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    simulate.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate made at start by a CA of its own, trusted by "
        "nobody, as a webapp's is (`wa-tui trust` keeps it); its fingerprint is printed",
    )
    simulate.add_argument(
        "--story",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="play the demo story: flaps, failovers, a lost coreapp (default: on)",
    )
    simulate.add_argument("--step", type=positive, default=4.0, help="seconds between steps")
    simulate.add_argument(
        "--truth",
        metavar="FILE",
        help="with --scenario incident: write the true times of its steps here (JSON); "
        "with --webapps: the true API requests per second, in all and of each webapp",
    )
    simulate.add_argument(
        "--webapps",
        type=int,
        default=1,
        metavar="N",
        help="N webapps behind one balancer, each with its own load (50, 20, 8…/s), each "
        "answering /metrics with its own node label",
    )
    simulate.add_argument(
        "--balance",
        choices=("request", "connection"),
        default="request",
        help="with --webapps: the balancer picks a webapp for each request (round robin) "
        "or for each connection (a client that keeps its connection sees one)",
    )
    simulate.add_argument(
        "--no-stats",
        action="store_true",
        help="answer 404 on stats and metrics, as builds before v2.21.3 do",
    )
    simulate.add_argument(
        "--steady",
        action="store_true",
        help="byte-identical answers between polls (by default logs grow, as on a live one)",
    )
    simulate.add_argument(
        "--fault",
        metavar="NAME",
        help="inject this fault into every support/health answer; `--fault list` names them",
    )
    simulate.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="inject a random fault into this share (0..1) of the answers",
    )
    simulate.add_argument(
        "--webhook",
        metavar="STATE",
        help="pin the simulated webhook in one state: ok, expired, expiring, untrusted, "
        "wronghost, slow, 503, down, unset, http",
    )
    simulate.add_argument(
        "--concurrency-limit",
        type=int,
        metavar="N",
        help="answer 503 (the API's own error) past N requests in flight, as the API does "
        "past its concurrency capacity; each answer then takes 50 ms, so requests overlap",
    )
    simulate.add_argument(
        "--limited-logins",
        type=int,
        default=0,
        metavar="N",
        help="answer the first N logins 429 with Retry-After: 1, as a rate-limited login",
    )
    simulate.add_argument(
        "--db-stats-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="answer /v1/stats/db S seconds late, as on a large database",
    )
    simulate.add_argument("--debug", action="store_true", help="log more to the log file")

    simulate.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    memory.resume()  # a server that runs for hours
    from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
    from wa_tui.simulator.scenarios import SCENARIOS
    from wa_tui.simulator.traffic import webapps
    from wa_tui.simulator.webapp_tls import webapp_tls

    if args.scenario == "list" or args.fault == "list":
        from wa_tui.simulator.faults import Fault

        print("\n".join(SCENARIOS if args.scenario == "list" else [f.value for f in Fault]))
        return 0
    if args.scenario is not None and args.scenario not in SCENARIOS:
        raise UsageError(f"no scenario {args.scenario!r}; `--scenario list` names them")
    try:
        if args.scenario:
            deployment = SCENARIOS[args.scenario]()
        else:
            deployment = SimDeployment.build(args.topology, shards=args.shards)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not args.steady:
        deployment.go_live()
    deployment.serves_stats = not args.no_stats
    if args.webhook is not None:
        pin_webhook(deployment, args.webhook)
    if args.concurrency_limit is not None and args.concurrency_limit < 1:
        raise UsageError("--concurrency-limit takes 1 or more")
    if not 1 <= args.webapps <= 16:
        raise UsageError("--webapps takes 1 to 16")
    if args.truth is not None and args.scenario != "incident" and args.webapps == 1:
        raise UsageError("--truth goes with --scenario incident or --webapps")
    deployment.traffic.webapps = webapps(args.webapps)
    story = demo_story(deployment) if args.story and not args.scenario else None
    if args.scenario == "incident":
        from wa_tui.simulator.incident import IncidentTruth, incident_story

        truth = IncidentTruth(Path(args.truth) if args.truth else None)
        story = incident_story(deployment, truth)
    elif args.truth is not None:
        write_webapps_truth(Path(args.truth), deployment.traffic.webapps)
    tls = webapp_tls() if args.tls else None
    server = SimulatorServer(
        deployment,
        port=args.port,
        ssl_context=tls.context if tls else None,
        story=story,
        step_seconds=args.step,
        faults=fault_plan(args.fault, args.fault_rate),
        balance=args.balance,
        concurrency_limit=args.concurrency_limit,
        request_seconds=0.05 if args.concurrency_limit else 0.0,
        limited_logins=args.limited_logins,
        db_stats_seconds=args.db_stats_seconds,
    )
    try:
        server.start()
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    shards = f" ({args.shards} shards)" if args.topology == "multiconnect" else ""
    print(f"url: {server.url}")
    print(f"username: {server.username}")
    print(f"password: {server.password}")
    print(f"api key: {server.api_key}")
    if tls is not None:
        print(f"certificate: {tls.fingerprint} (its own CA's: trusted by nobody)")
    print(f"deployment: {args.scenario or args.topology + shards}")
    webhook = deployment.webhook
    print(f"webhook: {webhook.url() or '(unset)'} ({webhook.state.value})")
    print("Ctrl+C stops it.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def write_webapps_truth(path: Path, served: list[SimWebapp]) -> None:
    """What the webapps really serve, for a test to hold wa-tui's totals against."""
    each = {webapp.node: webapp.requests_per_s for webapp in served}
    truth = {"api_requests_per_second": sum(each.values()), "webapps": each}
    try:
        path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def pin_webhook(deployment: SimDeployment, state: str) -> None:
    from wa_tui.simulator.webhook import WebhookState

    try:
        deployment.webhook.pin(WebhookState(state))
    except ValueError:
        known = ", ".join(s.value for s in WebhookState)
        raise UsageError(f"no webhook state {state!r}; one of {known}") from None


def fault_plan(name: str | None, rate: float) -> FaultPlan:
    from wa_tui.simulator.faults import Fault, FaultPlan

    if not 0 <= rate <= 1:
        raise UsageError("--fault-rate takes a share from 0 to 1")
    plan = FaultPlan(rate=rate)
    if name is not None:
        try:
            plan.always = Fault(name)
        except ValueError:
            raise UsageError(f"no fault {name!r}; `--fault list` names them") from None
    return plan
