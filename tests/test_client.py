"""The client against the simulator over TCP and TLS: tokens, errors, one-line messages."""

from __future__ import annotations

import ssl

import pytest
import trustme

from tests.conftest import StartSimulator, client_for, read_snapshot
from wa_tui.auth import Credentials
from wa_tui.client import WAClient
from wa_tui.errors import ApiStatusError, AuthenticationError, ConnectionFailed
from wa_tui.models import DeploymentKind
from wa_tui.simulator import SimulatorServer


async def test_polls_log_in_once_and_reuses_the_token(
    simulator: SimulatorServer,
) -> None:
    async with client_for(simulator) as client:
        first = await read_snapshot(client)
        second = await read_snapshot(client)
    assert first.kind is second.kind is DeploymentKind.MULTICONNECT
    assert len(second.nodes) == 12
    assert simulator.logins == 1


async def test_revoked_token_logs_in_again_once(simulator: SimulatorServer) -> None:
    async with client_for(simulator) as client:
        await read_snapshot(client)
        simulator.revoke_all_tokens()
        snapshot = await read_snapshot(client)
    assert len(snapshot.nodes) == 12
    assert simulator.logins == 2  # support and health raced to the 401; one login


async def test_bad_password_is_one_line_saying_what_to_check(simulator: SimulatorServer) -> None:
    client = WAClient(simulator.url, Credentials.with_password(simulator.username, "wrong"))
    async with client:
        with pytest.raises(AuthenticationError) as caught:
            await read_snapshot(client)
    message = str(caught.value)
    assert "login refused" in message and "check the username and password" in message
    assert "\n" not in message and "wrong" not in message


async def test_refused_token_without_password_says_how_to_fix(simulator: SimulatorServer) -> None:
    async with WAClient(simulator.url, Credentials(token="stale")) as client:
        with pytest.raises(AuthenticationError, match="WA_TUI_TOKEN"):
            await read_snapshot(client)


async def test_nothing_listening_is_a_connection_failure() -> None:
    async with WAClient("http://127.0.0.1:9", Credentials(token="t"), timeout=3) as client:
        with pytest.raises(ConnectionFailed, match=r"cannot reach http://127\.0\.0\.1:9"):
            await read_snapshot(client)


async def test_unknown_path_reports_status_code_and_api_title(simulator: SimulatorServer) -> None:
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
    tls_simulator: SimulatorServer, certificate_authority: trustme.CA, tmp_path
) -> None:
    bundle = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(bundle))
    assert tls_simulator.url.startswith("https://")
    async with client_for(tls_simulator, verify=str(bundle)) as client:
        snapshot = await read_snapshot(client)
    assert len(snapshot.nodes) == 12


async def test_tls_refused_without_the_ca(tls_simulator: SimulatorServer) -> None:
    async with client_for(tls_simulator) as client:
        with pytest.raises(ConnectionFailed, match="CERTIFICATE_VERIFY_FAILED"):
            await read_snapshot(client)
