"""Logging in: token cache across restarts, re-login after a 401, password sources."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from tests.conftest import StartSimulator, read_snapshot
from wa_tui.api.auth import Credentials, TokenCache, password_from_command, password_from_env
from wa_tui.api.client import WAClient
from wa_tui.core.errors import AuthenticationError
from wa_tui.simulator import SimulatorServer


async def test_one_login_across_restarts(simulator: SimulatorServer, tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "state" / "tokens.json")
    credentials = Credentials.with_password(simulator.username, simulator.password)
    for _restart in range(3):
        async with WAClient(simulator.url, credentials, token_cache=cache) as client:
            snapshot = await read_snapshot(client)
        assert len(snapshot.nodes) == 12
    assert simulator.logins == 1
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700
    assert simulator.password not in cache.path.read_text()


async def test_revoked_cached_token_means_one_new_login_and_a_new_cache_entry(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    cache = TokenCache(tmp_path / "tokens.json")
    credentials = Credentials.with_password(simulator.username, simulator.password)
    async with WAClient(simulator.url, credentials, token_cache=cache) as client:
        await read_snapshot(client)
    first = cache.get(simulator.url, simulator.username)
    simulator.revoke_all_tokens()
    async with WAClient(simulator.url, credentials, token_cache=cache) as client:
        await read_snapshot(client)
    assert simulator.logins == 2
    assert cache.get(simulator.url, simulator.username) not in (None, first)


async def test_password_command_runs_at_login(simulator: SimulatorServer, tmp_path: Path) -> None:
    script = tmp_path / "secret.py"
    script.write_text(f"print({simulator.password!r})\n")
    source = password_from_command(f"{sys.executable} {script}")
    credentials = Credentials(username=simulator.username, password=source)
    async with WAClient(simulator.url, credentials) as client:
        await read_snapshot(client)
    assert simulator.logins == 1


async def test_failing_password_command_is_one_line_without_its_output(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys; print('leaked-secret'); sys.exit(4)\n")
    with pytest.raises(AuthenticationError) as caught:
        await password_from_command(f"{sys.executable} {script}").read()
    assert str(caught.value) == (
        "password_command gave no password (exit 4) — run it by hand to see why"
    )


async def test_password_env_is_read_at_login(monkeypatch: pytest.MonkeyPatch) -> None:
    source = password_from_env("WA_TEST_PW")
    with pytest.raises(AuthenticationError, match="WA_TEST_PW is not set"):
        await source.read()
    monkeypatch.setenv("WA_TEST_PW", "later")
    assert await source.read() == "later"


async def test_password_change_required_says_what_to_do(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(password_change_required=True)
    credentials = Credentials.with_password(server.username, server.password)
    async with WAClient(server.url, credentials) as client:
        with pytest.raises(AuthenticationError) as caught:
            await read_snapshot(client)
    assert "password must be changed first (error 1024)" in str(caught.value)
    assert "set a new password" in str(caught.value)


def test_credentials_never_show_secrets() -> None:
    credentials = Credentials(username="u", password=lambda: "pw-123", token="tok-456")
    assert "pw-123" not in repr(credentials) and "tok-456" not in repr(credentials)
