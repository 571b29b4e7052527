"""Several deployments in one session, TLS settings and the login screen, through Pilot."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
import trustme

from tests.conftest import StartSimulator
from tests.helpers import SIZE, configured_targets, plain, screen_text, until_nodes, wait_for
from wa_tui.api.auth import Credentials
from wa_tui.simulator import SimulatorServer
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.deployment_switcher import DeploymentSwitcher
from wa_tui.ui.login_screen import LoginScreen
from wa_tui.ui.node_table import NodeTable
from wa_tui.ui.status_bar import StatusBar
from wa_tui.watch import targets
from wa_tui.watch.poller import Poller


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def two_deployments(tmp_path: Path, server: SimulatorServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[defaults]
interval = 0.3
timeout = 2

[deployments.healthy]
url = "{server.url}"
username = "{server.username}"
password_env = "WA_HEALTHY_PASSWORD"

[deployments.down]
url = "http://127.0.0.1:{closed_port()}"
token_env = "WA_DOWN_TOKEN"
"""
    )
    return path


@pytest.mark.slow
async def test_two_deployments_switch_and_the_down_one_backs_off(
    simulator: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WA_HEALTHY_PASSWORD", simulator.password)
    monkeypatch.setenv("WA_DOWN_TOKEN", "t")
    found = configured_targets(two_deployments(tmp_path, simulator))
    app = WaTuiApp(found)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(NodeTable)
        down = app.watchers["down"]
        await wait_for(pilot, lambda: table.row_count == 12 and down.poller.failures >= 3)
        assert "+1 other: 1 ✖ (s)" in plain(app.query_one(StatusBar))
        assert down.poller.next_delay() > 0.3  # backing off, not hammering

        await pilot.press("s")
        assert isinstance(app.screen, DeploymentSwitcher)
        listing = screen_text(app)
        assert "healthy" in listing and "down" in listing and "cannot reach" in listing
        await pilot.press("down", "enter")
        assert app.current == "down"
        status = plain(app.query_one(StatusBar))
        assert "cannot reach http://127.0.0.1" in status
        assert "retry in" in status or "refreshing" in status
        assert table.row_count == 0
        assert "+1 other: OK" in status

        await pilot.press("s", "up", "enter")
        await wait_for(pilot, lambda: table.row_count == 12)
        assert app.current == "healthy"


def test_backoff_grows_with_jitter_is_capped_and_resets() -> None:
    import random

    poller = Poller(client=None, interval=2.0, rng=random.Random(1))  # type: ignore[arg-type]
    delays = []
    for failures in range(1, 10):
        poller.failures = failures
        delays.append(poller.next_delay())
    assert delays[0] == 2.0 and delays[2] > delays[1] > 2.0
    assert max(delays) <= 60 * 1.2
    poller.failures = 0
    assert poller.next_delay() == 2.0


@pytest.mark.slow
async def test_login_screen_asks_for_a_missing_password_and_never_shows_it(
    simulator: SimulatorServer,
) -> None:
    from wa_tui.config import DeploymentSettings

    target = targets.Target(
        "asks",
        simulator.url,
        Credentials(username=simulator.username),
        DeploymentSettings(url=simulator.url, interval=30),
        verify=True,
    )
    assert target.needs_password
    app = WaTuiApp([target])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        await pilot.press(*simulator.password)
        assert simulator.password not in screen_text(app)
        await pilot.press("enter")
        await until_nodes(pilot)
        assert simulator.password not in screen_text(app)
        assert simulator.logins == 1


@pytest.fixture
def tls_server(start_simulator: StartSimulator) -> tuple[SimulatorServer, trustme.CA]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return start_simulator(ssl_context=context), authority


@pytest.mark.parametrize("how", ["ca-bundle", "insecure", "verified-without-ca"])
async def test_tls_settings_in_the_app(
    tls_server: tuple[SimulatorServer, trustme.CA],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    server, authority = tls_server
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("WA_TUI_USERNAME", server.username)
    monkeypatch.setenv("WA_TUI_PASSWORD", server.password)
    overrides = targets.Overrides(
        insecure=how == "insecure", ca_bundle=str(bundle) if how == "ca-bundle" else None
    )
    app = WaTuiApp([targets.from_url(server.url, overrides)])
    async with app.run_test(size=SIZE) as pilot:
        if how == "verified-without-ca":
            await wait_for(pilot, lambda: app.watcher.status.error is not None)
            assert "CERTIFICATE_VERIFY_FAILED" in app.watcher.status.error
            return
        await until_nodes(pilot)
        badge = "⚠ TLS NOT VERIFIED" in plain(app.query_one(StatusBar))
        assert badge is (how == "insecure")
