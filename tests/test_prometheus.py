"""The exporter, its alert rules, and a real Prometheus (Debian's `prometheus` package)
scraping it while it polls a simulator. Without the binaries a developer's run skips
with how to install them; under CI=true it fails instead."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import StartSimulator
from tests.helpers import (
    prometheus_query,
    prometheus_serving,
    require_binary,
    scrape_until,
    target_for,
    until_answered,
)
from wa_tui.outputs.exporter import Exporter
from wa_tui.outputs.fleet import PrometheusSource
from wa_tui.outputs.web_config import read_web_config
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.simulator.scenarios import SCENARIOS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"


def test_deploy_prometheus_passes_promtool_and_the_readme_web_config_too(tmp_path: Path) -> None:
    """deploy/prometheus/ as shipped, the files it names made (a CA, the exporter's
    certificate, a password), and the README's web configuration example: promtool checks
    them all, and the exporter would start on the README's."""
    promtool = require_binary("promtool")
    folder = tmp_path / "prometheus"
    shutil.copytree(DEPLOY, folder)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(folder / "wa-tui-ca.pem")
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(folder / "exporter.key")
    cert.cert_chain_pems[0].write_to_path(folder / "exporter.crt")
    (folder / "wa-tui-password").write_text("change-me\n")
    readme = (DEPLOY.parent.parent / "README.md").read_text()
    example = readme.split("# /etc/wa-tui/web.yml (paths relative to this file)\n")[1]
    (folder / "readme-web.yml").write_text(example.split("```")[0])
    for args in (
        ["check", "rules", "wa-tui-rules.yml"],
        ["test", "rules", "wa-tui-rules.test.yml"],
        ["check", "config", "prometheus.yml"],
        ["check", "web-config", "web.yml", "readme-web.yml"],
    ):
        done = subprocess.run([promtool, *args], cwd=folder, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    for name in ("web.yml", "readme-web.yml"):
        assert read_web_config(folder / name).users["prometheus"].startswith(b"$2b$12$")


@pytest.mark.usefixtures("no_slow_callbacks")
async def test_exporter_serves_state_and_findings(start_simulator: StartSimulator) -> None:
    server = start_simulator(SCENARIOS["socket-down"]())
    exporter = Exporter([target_for(server, interval=0.2, name='prod "eu"\n')])
    text, health = await scrape_until(exporter, "wa_finding")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (up,) = families["wa_up"].samples
    assert up.labels == {"deployment": 'prod "eu"\\x0a'} and up.value == 1.0
    findings = {(s.labels["code"], s.labels["severity"]) for s in families["wa_finding"].samples}
    assert ("SOCKET_DOWN", "critical") in findings
    assert {s.labels["state"] for s in families["wa_node_socket"].samples} >= {"UP", "DN"}
    owned = {s.labels["node"]: s.value for s in families["wa_node_shards_owned"].samples}
    assert sum(owned.values()) == 9  # 8 shards and the control shard
    assert "wa_last_poll_age_seconds" in families and "wa_callback_queue" in families
    assert health.startswith("ok: 1 deployments, 1 read")


def test_exporter_is_headless() -> None:
    code = "import sys, wa_tui.outputs.exporter, wa_tui.cli.main; print('textual' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


@pytest.fixture
def exporter_process(start_simulator: StartSimulator) -> Iterator[tuple[str, SimulatorServer]]:
    """`wa-tui exporter` polling a simulator whose socket is down, every half second."""
    server = start_simulator(SCENARIOS["socket-down"]())
    env = dict(os.environ, WA_TUI_USERNAME=server.username, WA_TUI_PASSWORD=server.password)
    command = [sys.executable, "-m", "wa_tui", "exporter", "--url", server.url]
    process = subprocess.Popen(
        [*command, "--listen", "127.0.0.1:0", "--interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "serving /metrics" in line, line
        yield line.split("http://")[1].split()[0], server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_prometheus_scrapes_the_exporter_and_sees_a_finding(
    exporter_process: tuple[str, SimulatorServer], tmp_path: Path
) -> None:
    require_binary("prometheus")
    exporter, _ = exporter_process
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{DEPLOY / 'wa-tui-rules.yml'}]\n"
        "scrape_configs:\n"
        f"  - job_name: wa-tui\n    static_configs: [{{targets: ['{exporter}']}}]\n"
    )
    with prometheus_serving(config, tmp_path) as port:
        query = prometheus_query(port)
        up = until_answered(lambda: query("wa_up"), 60)
        assert [r["value"][1] for r in up] == ["1"]
        finding = until_answered(lambda: query('wa_finding{code="SOCKET_DOWN"}'), 30)
        assert finding[0]["metric"]["severity"] == "critical"
        sockets = query('wa_node_socket{state="DN"}')
        assert len(sockets) >= 3  # the broken owner, the secondary master, two spares
        alerts = until_answered(lambda: query('ALERTS{alertname="WaSocketDown"}'), 30)
        assert alerts[0]["metric"]["alertstate"] in ("pending", "firing")
        until_answered(lambda: query("wa_deployment_info"), 30)
        assert asyncio.run(_fleet_from(f"http://127.0.0.1:{port}")) == [
            (exporter_process[1].url.split("://")[1], "✖", "SOCKET_DOWN", "8/8")
        ]


async def _fleet_from(url: str, source: PrometheusSource | None = None) -> list[tuple[str, ...]]:
    """`wa-tui --prometheus URL`'s fleet screen, as drawn: name, mark, finding, shards."""
    from wa_tui.outputs.fleet import PrometheusFleet
    from wa_tui.ui.fleet_app import FleetApp
    from wa_tui.ui.fleet_screen import FleetScreen, FleetTable

    app = FleetApp(PrometheusFleet(source or PrometheusSource(url), configured=()))
    async with app.run_test(size=(160, 50)) as pilot:
        deadline = time.monotonic() + 20
        while not (
            isinstance(app.screen, FleetScreen)
            and app.rows
            and app.screen.query_one(FleetTable).row_count == len(app.rows)
        ):
            assert time.monotonic() < deadline, "the fleet never filled from Prometheus"
            await pilot.pause(0.1)
        table = app.screen.query_one(FleetTable)
        columns = ("name", "mark", "finding", "shards")
        return [tuple(table.cells(name)[c].plain for c in columns) for name in table.keys]


def test_the_demo_simulator_exports_every_node(start_simulator: StartSimulator) -> None:
    """Every node of an 8-shard deployment is exported with its role."""
    server = start_simulator(SimDeployment.multiconnect(8))

    exporter = Exporter([target_for(server, interval=0.2)])
    text, _ = asyncio.run(scrape_until(exporter, "wa_node_role"))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    roles = [s.labels["role"] for s in families["wa_node_role"].samples]
    assert roles.count("primary_master") == 1 and len(roles) == 12


def test_long_running_commands_collect_garbage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder and the exporter run for months: the collector, off while wa-tui
    starts (wa_tui.core.memory), is on again before they begin their work."""
    import gc

    from wa_tui.cli import main as cli
    from wa_tui.outputs import exporter
    from wa_tui.recording import writer as recording

    collecting: dict[str, bool] = {}

    async def serve(self: Exporter, host: str, port: int, ready: asyncio.Event) -> None:
        collecting["exporter"] = gc.isenabled()
        raise OSError("stop here")

    def consumer(recorder: recording.Recorder) -> None:
        collecting["record"] = gc.isenabled()
        raise RuntimeError("stop here")

    monkeypatch.setattr(exporter.Exporter, "serve", serve)
    monkeypatch.setattr(recording, "recording_consumer", consumer)
    monkeypatch.setenv("WA_TUI_TOKEN", "t")
    url = ["--url", "http://127.0.0.1:9"]
    try:
        assert cli.main(["exporter", *url]) == cli.EXIT_USAGE
        with pytest.raises(RuntimeError, match="stop here"):
            cli.main(["record", str(tmp_path / "r.db"), *url])
    finally:
        gc.enable()
    assert collecting == {"exporter": True, "record": True}


@pytest.mark.parametrize("name", ["wa-tui-exporter.service", "wa-tui-recorder.service"])
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path, name: str) -> None:
    """deploy/systemd/'s units, pointed at this install's wa-tui: systemd finds no fault."""
    analyze = require_binary("systemd-analyze", "systemd")
    unit = (DEPLOY.parent / "systemd" / name).read_text()
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
    here = Path(sys.executable).parent / "wa-tui"
    local = tmp_path / name
    local.write_text(unit.replace("/usr/local/bin/wa-tui", str(here)))
    done = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True)
    assert done.returncode == 0 and name not in done.stderr, done.stderr
