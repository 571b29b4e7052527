"""The client against the simulator over TCP and TLS: tokens, errors, one-line messages.
Every test runs over both transports (httpx's own, and aiohttp's for the exporter): the
same answers, the same errors in the same words."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from functools import partial

import pytest
import trustme

from tests import conftest
from tests.conftest import StartSimulator, read_snapshot
from tests.helpers import FAILING, HARMLESS
from wa_tui.api.auth import Credentials
from wa_tui.api.client import WAClient
from wa_tui.api.endpoints import APP_STATS, METRICS
from wa_tui.api.metrics import MetricsAnswer
from wa_tui.core.errors import ApiStatusError, AuthenticationError, ConnectionFailed, WAError
from wa_tui.model.snapshot import DeploymentKind
from wa_tui.simulator import SimulatorServer
from wa_tui.simulator.faults import Fault, FaultPlan


@pytest.fixture(params=[False, True], ids=["httpx", "aiohttp"])
def over_aiohttp(request: pytest.FixtureRequest) -> bool:
    return request.param


@pytest.fixture
def client_for(over_aiohttp: bool) -> Callable[..., WAClient]:
    """conftest's client_for, over this test's transport."""
    return partial(conftest.client_for, aiohttp_transport=over_aiohttp)


async def test_polls_log_in_once_and_reuses_the_token(
    simulator: SimulatorServer, client_for
) -> None:
    async with client_for(simulator) as client:
        first = await read_snapshot(client)
        second = await read_snapshot(client)
    assert first.kind is second.kind is DeploymentKind.MULTICONNECT
    assert len(second.nodes) == 12
    assert simulator.logins == 1


async def test_revoked_token_logs_in_again_once(simulator: SimulatorServer, client_for) -> None:
    async with client_for(simulator) as client:
        await read_snapshot(client)
        simulator.revoke_all_tokens()
        snapshot = await read_snapshot(client)
    assert len(snapshot.nodes) == 12
    assert simulator.logins == 2  # support and health raced to the 401; one login


async def test_bad_password_is_one_line_saying_what_to_check(
    simulator: SimulatorServer, over_aiohttp: bool
) -> None:
    credentials = Credentials.with_password(simulator.username, "wrong")
    async with WAClient(simulator.url, credentials, aiohttp_transport=over_aiohttp) as client:
        with pytest.raises(AuthenticationError) as caught:
            await read_snapshot(client)
    message = str(caught.value)
    assert "login refused" in message and "check the username and password" in message
    assert "\n" not in message and "wrong" not in message


async def test_refused_token_without_password_says_how_to_fix(
    simulator: SimulatorServer, over_aiohttp: bool
) -> None:
    credentials = Credentials(token="stale")
    async with WAClient(simulator.url, credentials, aiohttp_transport=over_aiohttp) as client:
        with pytest.raises(AuthenticationError, match="WA_TUI_TOKEN"):
            await read_snapshot(client)


async def test_nothing_listening_is_a_connection_failure(over_aiohttp: bool) -> None:
    nowhere = WAClient(
        "http://127.0.0.1:9", Credentials(token="t"), timeout=3, aiohttp_transport=over_aiohttp
    )
    async with nowhere as client:
        with pytest.raises(ConnectionFailed, match=r"cannot reach http://127\.0\.0\.1:9"):
            await read_snapshot(client)


async def test_unknown_path_reports_status_code_and_api_title(
    simulator: SimulatorServer, client_for
) -> None:
    async with client_for(simulator) as client:
        with pytest.raises(ApiStatusError) as caught:
            await client.get_body("/v1/nope")
    assert caught.value.status == 404 and caught.value.code == 1006
    assert "HTTP 404, error 1006: Resource not found" in str(caught.value)


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_simulator(
    start_simulator: StartSimulator, certificate_authority: trustme.CA
) -> SimulatorServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    return start_simulator(ssl_context=context)


async def test_tls_verified_against_the_generated_ca(
    tls_simulator: SimulatorServer, certificate_authority: trustme.CA, tmp_path, client_for
) -> None:
    bundle = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(bundle))
    assert tls_simulator.url.startswith("https://")
    async with client_for(tls_simulator, verify=str(bundle)) as client:
        snapshot = await read_snapshot(client)
    assert len(snapshot.nodes) == 12


async def test_tls_refused_without_the_ca(tls_simulator: SimulatorServer, client_for) -> None:
    async with client_for(tls_simulator) as client:
        with pytest.raises(ConnectionFailed, match="CERTIFICATE_VERIFY_FAILED"):
            await read_snapshot(client)


async def test_tls_unverified_when_asked(tls_simulator: SimulatorServer, client_for) -> None:
    async with client_for(tls_simulator, verify=False) as client:
        snapshot = await read_snapshot(client)
    assert len(snapshot.nodes) == 12


@pytest.fixture
def faulty(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(faults=FaultPlan(latency=0.3, retry_after=1))


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAILING))
async def test_every_fault_is_the_same_one_line_and_the_next_poll_recovers(
    faulty: SimulatorServer, fault: Fault, client_for
) -> None:
    async with client_for(faulty, timeout=1.0) as client:
        await read_snapshot(client)  # logged in, connections open
        faulty.faults.always = fault
        with pytest.raises(WAError) as caught:
            await read_snapshot(client)
        faulty.faults.clear()
        snapshot = await read_snapshot(client)
    message = str(caught.value)
    assert FAILING[fault] in message and "\n" not in message
    assert len(snapshot.nodes) == 12


@pytest.mark.parametrize("fault", HARMLESS)
async def test_harmless_faults_still_bring_the_answers(
    faulty: SimulatorServer, fault: Fault, client_for
) -> None:
    async with client_for(faulty) as client:
        await read_snapshot(client)
        faulty.faults.push(fault)
        snapshot = await read_snapshot(client)
    assert len(snapshot.nodes) == 12 and faulty.faults.injected == [fault]


async def test_stats_and_metrics_are_read(simulator: SimulatorServer, client_for) -> None:
    async with client_for(simulator) as client:
        answers = await client.fetch_answers((APP_STATS, METRICS))
    read = answers.read_stats()
    assert set(read) == {APP_STATS, METRICS}
    assert all(isinstance(answer, MetricsAnswer) and answer.families() for answer in read.values())
