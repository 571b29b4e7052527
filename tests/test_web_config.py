"""The exporter behind TLS and a password, the Prometheus way (README "Prometheus: `wa-tui
exporter`"): the toolkit's web configuration file, each bad one refused in one line, a
real Prometheus scraping over TLS with a private CA and basic auth, client certificates,
SIGHUP reloads, and `--prometheus` reading a Prometheus behind its own web configuration."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt
import httpx
import pytest

from tests.helpers import (
    PASSWORD,
    WA_TUI,
    Pki,
    free_port,
    prometheus_serving,
    require_binary,
    start_of,
    until,
)
from wa_tui.api.auth import password_from_env
from wa_tui.core.errors import WAError
from wa_tui.outputs.fleet import PrometheusSource, rows_from_prometheus
from wa_tui.simulator import SimulatorServer


@contextmanager
def exporter_running(
    server: SimulatorServer, web: Path | None, host: str = "127.0.0.1"
) -> Iterator[tuple[int, subprocess.Popen]]:
    """`wa-tui exporter` of `server` listening on `host` (with `web`, its web config),
    once its start line says where, with `https://` when it serves TLS."""
    port = free_port()
    env = {**os.environ, "WA_TUI_USERNAME": server.username, "WA_TUI_PASSWORD": server.password}
    command = [*WA_TUI, "exporter", "--url", server.url, "--interval", "0.5"]
    web_config = ["--web-config", str(web)] if web else []
    process = subprocess.Popen(
        [*command, "--listen", f"{host}:{port}", *web_config],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = process.stdout.readline()  # type: ignore[union-attr]
        scheme = "https" if web else "http"
        assert started.startswith(f"serving /metrics and /healthz on {scheme}://{host}:{port}")
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _get(
    port: int, folder: Path, password: str | None = PASSWORD, cert: Path | None = None
) -> httpx.Response:
    """/metrics over TLS (with `cert`, a client certificate), as `prometheus`."""
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    if cert is not None:
        context.load_cert_chain(cert)
    auth = ("prometheus", password) if password is not None else None
    return httpx.get(f"https://127.0.0.1:{port}/metrics", verify=context, auth=auth, timeout=30)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("tls_server_config: [unclosed", "not valid YAML"),
        ("tls_server_confg: {}\n", "unknown key tls_server_confg; did you mean tls_server_config?"),
        (
            "http_server_config: {http2: false}\n",
            "http_server_config (HTTP/2 and header settings) is not supported",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [X]\n",
            "cipher_suites (cipher suite lists) is not supported",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS13\n",
            "max_version (a maximum TLS version) is not supported",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n"
            "  client_auth_type: RequireAnyClientCert\n",
            "client_auth_type RequireAnyClientCert is not supported",
        ),
        (
            "basic_auth_users:\n  prometheus: plaintext-password\n",
            "the hash of user prometheus is not a bcrypt hash",
        ),
        (
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
            "the certificate or key does not load",
        ),
    ],
)
@pytest.mark.slow
def test_a_bad_web_config_is_one_line_and_exit_2(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "web.yml"
    path.write_text(text)
    done = subprocess.run(
        [*WA_TUI, "exporter", "--url", "http://127.0.0.1:9", "--web-config", str(path)],
        env={**os.environ, "WA_TUI_TOKEN": "t"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"wa-tui: {path}: ") and said in line, line
    assert done.stdout == ""  # no listener started


@pytest.mark.slow
def test_tls_basic_auth_and_client_certificates(simulator: SimulatorServer, pki: Pki) -> None:
    web = pki.web_config()
    with exporter_running(simulator, web) as (port, _):
        assert _get(port, pki.folder, password=None).status_code == 401
        assert _get(port, pki.folder, password="wrong").status_code == 401
        ca = ssl.create_default_context(cafile=str(pki.folder / "ca.pem"))
        healthz = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=ca)
        assert healthz.status_code == 401  # every path is behind it
        assert "wa_up" in _get(port, pki.folder).text
        with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
            # With the right password: a plain-HTTP listener would answer with metrics.
            right = base64.b64encode(f"prometheus:{PASSWORD}".encode())
            plain.sendall(
                b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n\r\n" % right
            )
            assert b"wa_up" not in plain.recv(65536)  # plain HTTP to the TLS port: no metrics
    web = pki.web_config(
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"
    )
    with exporter_running(simulator, web) as (port, _):
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            _get(port, pki.folder)  # no certificate: no HTTP answer at all
        with_cert = _get(port, pki.folder, cert=pki.folder / "client.pem")
        assert with_cert.status_code == 200 and "wa_up" in with_cert.text


def _served_serial(port: int, folder: Path) -> int:
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    from cryptography import x509

    return x509.load_der_x509_certificate(der).serial_number


@pytest.mark.slow
def test_sighup_serves_a_renewed_certificate_and_keeps_the_last_good(
    simulator: SimulatorServer, pki: Pki
) -> None:
    from cryptography import x509

    web = pki.web_config()
    with exporter_running(simulator, web) as (port, process):
        first = _served_serial(port, pki.folder)
        renewed = pki.issue("server")  # a new certificate in the same files
        serial = x509.load_pem_x509_certificate(renewed.cert_chain_pems[0].bytes()).serial_number
        process.send_signal(signal.SIGHUP)
        assert "web configuration reloaded" in process.stderr.readline()  # type: ignore[union-attr]
        assert _served_serial(port, pki.folder) == serial != first
        age = [
            float(line.split()[-1])
            for line in _get(port, pki.folder).text.splitlines()
            if line.startswith("wa_last_poll_age_seconds")
        ]
        assert age and age[0] < 2.0  # polling went on through the reload
        web.write_text("tls_server_config: [broken")
        process.send_signal(signal.SIGHUP)
        said = process.stderr.readline()  # type: ignore[union-attr]
        assert "not valid YAML" in said and "the last good web configuration stays" in said
        assert _served_serial(port, pki.folder) == serial
        assert (
            _get(port, pki.folder).status_code == 200
            and _get(port, pki.folder, password="x").status_code == 401
        )


@pytest.mark.slow
def test_prometheus_scrapes_over_tls_with_basic_auth_and_is_read_behind_its_own(
    simulator: SimulatorServer, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One real Prometheus, itself behind TLS and basic auth, scrapes the exporter over TLS
    with the private CA: the right job is up and stores wa_up, the wrong password's job is
    down with 401; `--prometheus` reads it back with the password from the environment."""
    require_binary("prometheus")
    web = pki.web_config()
    with exporter_running(simulator, web) as (port, _):
        config = pki.folder / "prometheus.yml"
        ca = pki.folder / "ca.pem"

        def job(name: str, password: str) -> str:
            return (
                f"  - job_name: {name}\n    scheme: https\n"
                f"    tls_config: {{ca_file: {ca}}}\n"
                f"    basic_auth: {{username: prometheus, password: {password}}}\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            )

        config.write_text(
            "global: {scrape_interval: 1s}\nscrape_configs:\n"
            + job("wa-tui", PASSWORD)
            + job("wrong", "not-it")
        )
        with prometheus_serving(config, pki.folder, web_config=web) as prometheus_port:
            monkeypatch.setenv("PROMETHEUS_PW", PASSWORD)
            source = PrometheusSource(
                f"https://127.0.0.1:{prometheus_port}",
                str(ca),
                "prometheus",
                password_from_env("PROMETHEUS_PW"),
            )
            rows, targets = asyncio.run(_read_back(source))
    assert [row.deployment for row in rows] == [simulator.url.split("://")[1]]
    assert rows[0].state == "ok" and rows[0].nodes == 12
    health = {t["labels"]["job"]: t for t in targets}
    assert health["wa-tui"]["health"] == "up"
    assert health["wrong"]["health"] == "down" and "401" in health["wrong"]["lastError"]


async def _read_back(source: PrometheusSource) -> tuple[list, list[dict]]:
    """The fleet's rows once Prometheus has stored a scrape, and its targets' health."""
    async with await source.client() as client:
        async with asyncio.timeout(60):
            while True:
                try:
                    rows = await rows_from_prometheus(client)
                    answer = await client.get("/api/v1/targets")
                except (WAError, httpx.HTTPError):  # not listening yet: asked again
                    await asyncio.sleep(0.5)
                    continue
                targets = answer.json()["data"]["activeTargets"]
                scraped = len([t for t in targets if t["health"] != "unknown"]) == 2
                # A scrape before the exporter's first poll stores `wa_up 0`: the next.
                if rows and scraped and all(row.nodes for row in rows):
                    return rows, targets
                await asyncio.sleep(0.5)


def test_a_wrong_prometheus_password_is_one_clear_line(pki: Pki) -> None:
    """`--prometheus` against a Prometheus that refuses the login: the fleet says so in one
    line, as a deployment's 401 is said."""
    require_binary("prometheus")
    web = pki.web_config()
    config = pki.folder / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s}\nscrape_configs: []\n")
    with prometheus_serving(config, pki.folder, web_config=web) as port:
        source = PrometheusSource(
            f"https://127.0.0.1:{port}", str(pki.folder / "ca.pem"), "prometheus", _given("nope")
        )
        said = asyncio.run(_first_error(source))
    assert said.startswith(f"Prometheus at https://127.0.0.1:{port} refused the login (HTTP 401)")


def _given(password: str):  # a PasswordSource of a literal, for the test
    from wa_tui.api.auth import Credentials

    return Credentials.with_password("prometheus", password).password


async def _first_error(source: PrometheusSource) -> str:
    from wa_tui.core.errors import WAError

    async with await source.client() as client:
        async with asyncio.timeout(60):
            while True:
                try:
                    await rows_from_prometheus(client)
                except WAError as error:
                    if "refused" in str(error):
                        return str(error)
                await asyncio.sleep(0.5)


def test_listening_beyond_this_machine_without_tls_warns_once(simulator: SimulatorServer) -> None:
    with exporter_running(simulator, None, host="0.0.0.0") as (_, process):
        warning = process.stderr.readline()  # type: ignore[union-attr]
    assert warning.startswith("wa-tui: warning: listening on 0.0.0.0 without TLS")
    assert "--web-config" in warning and "findings" in warning


def test_prometheus_reads_its_table_and_the_command_line_tls_options(tmp_path: Path) -> None:
    """`--prometheus` with no URL takes [prometheus]'s; --ca-bundle and --insecure win over
    the table's TLS; the password comes from its source, never the command line."""
    from wa_tui import config
    from wa_tui.cli.dashboard import prometheus_source

    path = tmp_path / "config.toml"
    path.write_text(
        '[prometheus]\nurl = "https://prom.example:9090"\nca_bundle = "/etc/ca.pem"\n'
        'username = "oncall"\npassword_env = "PROM_PW"\n'
    )

    def source(*argv: str) -> PrometheusSource:
        return prometheus_source(start_of("--config", str(path), "--prometheus", *argv))

    plain = source()
    assert (plain.url, plain.verify, plain.username) == (
        "https://prom.example:9090",
        "/etc/ca.pem",
        "oncall",
    )
    assert plain.password is not None and plain.password.what == "password_env PROM_PW"
    assert source("--ca-bundle", "/tmp/other.pem").verify == "/tmp/other.pem"
    assert source("--insecure").verify is False
    assert source("https://elsewhere:9090").url == "https://elsewhere:9090"
    path.write_text('[prometheus]\nurl = "https://x"\npasword_env = "P"\n')
    with pytest.raises(
        config.ConfigError,
        match=re.escape("unknown key 'prometheus.pasword_env' (did you mean 'password_env'?)"),
    ):
        start_of("--config", str(path)).prometheus  # noqa: B018 (read, to be refused)


@pytest.mark.slow
def test_wrong_guesses_from_one_client_never_shut_out_the_right_password(
    simulator: SimulatorServer, pki: Pki
) -> None:
    """Ten wrong passwords a second from one client (127.0.0.2), bcrypt at cost 12 as the
    README's hash: Prometheus with the right password, not yet remembered, waits its turn
    and is let in every time, after a SIGHUP too."""
    pki.hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()
    context = ssl.create_default_context(cafile=str(pki.folder / "ca.pem"))
    stop, guessed = threading.Event(), []

    def guess(port: int) -> None:
        transport = httpx.HTTPTransport(verify=context, local_address="127.0.0.2")
        with httpx.Client(transport=transport, timeout=30) as client:
            while not stop.wait(0.1):
                with contextlib.suppress(httpx.HTTPError):
                    url = f"https://127.0.0.1:{port}/metrics"
                    client.get(url, auth=("prometheus", f"wrong-{len(guessed)}"))
                    guessed.append(1)

    with exporter_running(simulator, pki.web_config()) as (port, process):
        flood = threading.Thread(target=guess, args=(port,), daemon=True)
        flood.start()
        try:
            until(lambda: len(guessed) >= 3)  # the guesses have spent the budget
            scrapes = [_get(port, pki.folder).status_code for _ in range(3)]
            process.send_signal(signal.SIGHUP)  # the users unchanged
            until(lambda: len(guessed) >= 6)
            scrapes += [_get(port, pki.folder).status_code for _ in range(3)]
        finally:
            stop.set()
            flood.join(timeout=60)
    assert scrapes == [200] * 6
