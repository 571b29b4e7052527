"""Trusting a self-signed webapp, SSH-style (`wa-tui trust`), against the simulator's own
TLS: first contact, the pin kept in the user's file as written, a certificate in the
middle refused before anything is sent, a rotation, and bad input."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import WA_TUI
from wa_tui.simulator import SimulatorServer
from wa_tui.simulator.webapp_tls import WebappTLS, webapp_tls

CONFIG = """\
# the on-call team's deployments
[defaults]
interval = 5   # seconds

# the lab, behind its own certificate
[deployments.lab]
url = "{url}"   # the webapp
username = "admin"
password_env = "LAB_PASSWORD"
"""


def _serving(start_simulator: StartSimulator) -> tuple[SimulatorServer, WebappTLS]:
    tls = webapp_tls()
    return start_simulator(ssl_context=tls.context), tls


def _run(*args: str, server: SimulatorServer | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if server is not None:
        env |= {"LAB_PASSWORD": server.password, "WA_TUI_USERNAME": server.username}
        env |= {"WA_TUI_PASSWORD": server.password}
    return subprocess.run(
        [*WA_TUI, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


@pytest.mark.slow
def test_first_contact_names_trust_and_trust_keeps_the_pin_in_the_users_file(
    start_simulator: StartSimulator, config: Path
) -> None:
    server, tls = _serving(start_simulator)
    config.write_text(CONFIG.format(url=server.url))
    first = _run(
        "check", "--profile", "lab", "--config", str(config), "--no-recorder", server=server
    )
    assert first.returncode == 3 and "`wa-tui trust`" in first.stdout, first.stdout
    assert server.logins == 0  # the password was never sent

    trusted = _run("trust", "--profile", "lab", "--config", str(config), "--yes")
    assert trusted.returncode == 0, trusted.stderr
    assert f"fingerprint  {tls.fingerprint}" in trusted.stdout
    written = config.read_text()
    assert written.startswith(CONFIG.format(url=server.url))  # comments and layout kept
    assert written.endswith(f'tls_fingerprint = "{tls.fingerprint}"\n')
    (pem,) = config.parent.glob("lab-*.pem")
    assert pem.read_text().startswith("-----BEGIN CERTIFICATE-----")

    ok = _run("check", "--profile", "lab", "--config", str(config), "--no-recorder", server=server)
    assert ok.returncode == 0 and ok.stdout.startswith("WA-TUI OK"), ok.stdout

    added = _run("config", "add", "lab", "--url", server.url, "--config", str(config))
    assert added.returncode == 0 and tls.fingerprint in config.read_text()  # the pin stays


@pytest.mark.slow
def test_another_certificate_in_the_middle_is_refused_before_anything_is_sent(
    start_simulator: StartSimulator, config: Path
) -> None:
    server, tls = _serving(start_simulator)
    middle, other = _serving(start_simulator)
    config.write_text(CONFIG.format(url=middle.url) + f'tls_fingerprint = "{tls.fingerprint}"\n')
    refused = _run(
        "check", "--profile", "lab", "--config", str(config), "--no-recorder", server=middle
    )
    assert refused.returncode == 2, refused.stdout  # CRITICAL: loud
    assert refused.stdout.startswith("WA-TUI CRITICAL")
    assert other.fingerprint in refused.stdout and tls.fingerprint in refused.stdout
    assert middle.requests == {} and middle.logins == 0  # nothing reached it

    # A rotation is trusted again the same way: old and new both shown.
    rotated = _run("trust", "--profile", "lab", "--config", str(config), "--yes")
    assert rotated.returncode == 0, rotated.stderr
    assert f"trusted now  {tls.fingerprint}" in rotated.stdout
    assert f"fingerprint  {other.fingerprint}" in rotated.stdout
    assert tls.fingerprint not in config.read_text() and other.fingerprint in config.read_text()
    assert server.requests == {}


@pytest.mark.slow
def test_a_pin_wins_over_ca_checks_and_insecure_over_all(
    start_simulator: StartSimulator, config: Path
) -> None:
    server, tls = _serving(start_simulator)
    config.write_text(
        CONFIG.format(url=server.url)
        + f'verify_tls = true\ntls_fingerprint = ["{tls.fingerprint}", "sha256:{"0" * 64}"]\n'
    )
    pinned = _run(
        "check", "--profile", "lab", "--config", str(config), "--no-recorder", server=server
    )
    assert pinned.returncode == 0, pinned.stdout
    by_flag = _run(
        "check", "--url", server.url, "--tls-fingerprint", tls.fingerprint, server=server
    )
    assert by_flag.returncode == 0, by_flag.stdout
    openssl_style = tls.fingerprint.removeprefix("sha256:").upper()
    pairs = ":".join(openssl_style[i : i + 2] for i in range(0, 64, 2))
    as_printed = _run("check", "--url", server.url, "--tls-fingerprint", pairs, server=server)
    assert as_printed.returncode == 0, as_printed.stdout
    wrong = f"sha256:{'1' * 64}"
    insecure = _run(
        "check", "--url", server.url, "--tls-fingerprint", wrong, "--insecure", server=server
    )
    assert insecure.returncode == 0, insecure.stdout


@pytest.mark.slow
def test_trust_refuses_what_it_cannot_trust_and_writes_nothing(
    start_simulator: StartSimulator, config: Path
) -> None:
    server, tls = _serving(start_simulator)
    config.write_text(CONFIG.format(url=server.url))
    before = config.read_text()
    for args, said in (
        (("--expect", f"sha256:{'a' * 64}"), "is not the one expected"),
        (("--expect", "sha256:12"), "not a SHA-256 fingerprint"),
        ((), "confirm with --yes, or --expect"),  # no terminal to ask at
    ):
        done = _run("trust", "--profile", "lab", "--config", str(config), *args)
        assert done.returncode == 2 and said in done.stderr, (args, done.stderr)
        assert config.read_text() == before and not list(config.parent.glob("*.pem"))
    matching = _run(
        "trust", "--profile", "lab", "--config", str(config), "--expect", tls.fingerprint
    )
    assert matching.returncode == 0 and tls.fingerprint in config.read_text()

    for url, said in (
        ("http://127.0.0.1:9", "plain HTTP"),
        ("https://127.0.0.1:9", "cannot read the certificate"),
    ):
        done = _run("trust", "--url", url, "--yes")
        assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr

    config.write_text(CONFIG.format(url=server.url) + 'tls_fingerprint = "sha256:nope"\n')
    bad = _run("config", "check", "--config", str(config))
    assert bad.returncode == 2 and "not a SHA-256 fingerprint" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_simulate_tls_prints_the_certificate_it_made(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*WA_TUI, "simulate", "--tls", "--no-story"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        said = [process.stdout.readline() for _ in range(5)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert said[0].startswith("url: https://127.0.0.1:")
    assert said[4].startswith("certificate: sha256:")
