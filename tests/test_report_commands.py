"""`wa-tui snapshot` and `wa-tui check` as scripts and monitoring systems run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import StartSimulator
from tests.helpers import run
from wa_tui.simulator import SimulatorServer
from wa_tui.simulator.scenarios import SCENARIOS


@pytest.mark.slow
def test_snapshot_demo_json_is_the_documented_document() -> None:
    out = run(["snapshot", "--demo", "--format", "json"])
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert set(document) == {
        "deployment",
        "url",
        "fetched_at",
        "kind",
        "summary",
        "nodes",
        "findings",
        "vitals",
        "settings",
        "webhook",
    }
    summary = document["summary"]
    assert summary["nodes"] == len(document["nodes"]) and summary["severity"] is None
    assert summary["shards_owned"] == summary["shards"] and summary["shards_unassigned"] == 0
    assert document["vitals"]["callback_queue"] is not None
    assert document["vitals"]["callbacks_per_second"] is None  # one read gives no rate
    assert document["kind"] == "multiconnect" and document["fetched_at"].endswith("Z")
    node = document["nodes"][0]
    assert set(node) == {
        "id",
        "role",
        "socket_conn",
        "shards",
        "version",
        "gateway_status",
        "expire_timestamp",
        "support",
    }
    assert node["role"] == "primary_master" and node["shards"] == [-1]
    assert "WA_DB_PASSWORD=••••••" in node["support"]["env"]
    assert "Sup3r-S3cret" not in out.stdout
    assert document["findings"] == []
    assert document["settings"]["webhooks"]["url"].startswith("https://localhost:")
    assert document["webhook"] is None  # probed only with --webhook


def test_snapshot_text_lists_nodes_then_findings(start_simulator: StartSimulator) -> None:
    out = run(["snapshot"], start_simulator(SCENARIOS["socket-down"]()))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[2].split() == ["NODE", "ROLE", "SOCKET", "SHARDS", "BUILD", "GATEWAY"]
    assert "FINDINGS (1)" in lines
    assert lines[lines.index("FINDINGS (1)") + 1].startswith("CRITICAL  SOCKET_DOWN  ")


def _vitals_section(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    return lines[lines.index("VITALS") + 1 : lines.index("WEBHOOK") - 1]


@pytest.mark.slow
def test_snapshot_text_vitals_say_what_one_read_cannot_give(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SCENARIOS["callback-failing"]())
    once = _vitals_section(run(["snapshot"], server).stdout)
    rows = {line[:18].strip(): line[18:].strip() for line in once[1:9]}
    assert rows["callback ok (1m)"] == "—" and rows["callback queue"] != "—"
    assert "one read has no rate" in once[-1]
    output = run(["snapshot", "--sample", "1"], server).stdout
    sampled = _vitals_section(output)
    rows = {line[:18].strip(): line[18:].strip() for line in sampled[1:9]}
    assert rows["callback ok (1m)"].endswith("%") and rows["API requests"].endswith("/s")
    assert not any("one read has no rate" in line for line in sampled)
    # One number, one window: the line and CALLBACK_FAILING say the same share.
    failed = re.search(r"CALLBACK_FAILING\s+(\d+)% of callbacks failed in the last minute", output)
    assert failed, output
    assert int(failed[1]) + float(rows["callback ok (1m)"].rstrip("%")) == pytest.approx(100, abs=1)


def test_snapshot_text_vitals_say_when_the_build_serves_none(
    start_simulator: StartSimulator,
) -> None:
    vitals = _vitals_section(run(["snapshot"], start_simulator(SCENARIOS["old-build"]())).stdout)
    said = [line for line in vitals if "not available from this deployment (HTTP 404)" in line]
    assert {line.split(":")[0] for line in said} == {"/v1/stats/app", "/metrics", "/v1/stats/db"}


def test_snapshot_exits_3_with_one_line_when_unreadable() -> None:
    out = run(["snapshot", "--url", "http://127.0.0.1:9", "--timeout", "3"], WA_TUI_TOKEN="t")
    assert out.returncode == 3
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "cannot reach" in out.stderr


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("healthy-multiconnect", 0, "OK"),
        ("build-expiring", 1, "WARNING"),
        ("shard-unassigned", 2, "CRITICAL"),
    ],
)
def test_check_line_and_exit_status(
    start_simulator: StartSimulator, scenario: str, status: int, code: str
) -> None:
    out = run(["check"], start_simulator(SCENARIOS[scenario]()))
    assert out.returncode == status, out.stdout + out.stderr
    (line,) = out.stdout.splitlines()
    assert line.startswith(f"WA-TUI {code} - ")
    summary, perf = line.split(" | ")
    fields = dict(item.split("=") for item in perf.split())
    assert set(fields) == {
        "nodes",
        "shards",
        "shards_down",
        "shards_unassigned",
        "sockets_down",
        "days_to_expiry",
        "min_free_bytes",
        "callback_queue",  # gauges: one read is enough (rates need --sample)
        "pending_messages",
    }
    assert fields["shards"] == "8"
    if scenario == "shard-unassigned":
        assert "SHARD_UNASSIGNED" in summary and fields["shards_unassigned"].startswith("1;")


def test_check_unknown_when_login_refused(simulator: SimulatorServer) -> None:
    out = run(["check", "--url", simulator.url], WA_TUI_USERNAME="admin", WA_TUI_PASSWORD="wrong")
    assert out.returncode == 3
    assert out.stdout.startswith("WA-TUI UNKNOWN - login refused")
    assert "wrong" not in out.stdout


@pytest.mark.slow
def test_check_demo_on_a_fresh_install() -> None:
    out = run(["check", "--demo"])
    assert out.returncode == 0 and out.stdout.startswith("WA-TUI OK - multiconnect, 12 nodes")


def test_snapshot_and_check_do_not_import_textual(simulator: SimulatorServer) -> None:
    probe = (
        "import sys, runpy; sys.argv=['wa-tui','check','--url',sys.argv[1]];"
        "\ntry: runpy.run_module('wa_tui', run_name='__main__')"
        "\nexcept SystemExit: pass"
        "\nprint('TEXTUAL' if 'textual' in sys.modules else 'NO-TEXTUAL', file=sys.stderr)"
    )
    env = dict(os.environ, WA_TUI_USERNAME=simulator.username, WA_TUI_PASSWORD=simulator.password)
    out = subprocess.run(
        [sys.executable, "-c", probe, simulator.url], capture_output=True, text=True, env=env
    )
    assert out.stderr.strip().endswith("NO-TEXTUAL"), out.stderr


@pytest.mark.slow
def test_check_reads_a_profile_of_the_config_file(simulator: SimulatorServer, tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[deployments.lab]\nurl = "{simulator.url}"\nusername = "{simulator.username}"\n'
        'password_env = "LAB_PW"\n\n[deployments.other]\nurl = "http://127.0.0.1:9"\n'
        'token_env = "OTHER_TOKEN"\n'
    )
    out = run(["check", "--config", str(path), "--profile", "lab"], LAB_PW=simulator.password)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("WA-TUI OK - multiconnect, 12 nodes")
    several = run(["check", "--config", str(path)], LAB_PW="x", OTHER_TOKEN="t")
    assert several.returncode == 2
    assert "several deployments are configured (lab, other): say --profile NAME" in several.stderr


@pytest.mark.slow
def test_check_with_a_sample_carries_the_vitals_and_exits_by_their_findings(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SCENARIOS["callback-failing"]())
    out = run(["check", "--sample", "0.5"], server)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout.startswith("WA-TUI CRITICAL - CALLBACK_FAILING")
    perfdata = dict(part.split("=", 1) for part in out.stdout.split(" | ")[1].split())
    assert float(perfdata["callback_queue"]) > 0
    assert float(perfdata["callback_error_rate"]) == 1.0
    assert perfdata["pending_messages"] == "12" and perfdata["api_5xx_rate"] == "0"


@pytest.mark.slow
def test_snapshot_json_with_a_sample_has_rates(start_simulator: StartSimulator) -> None:
    server = start_simulator(SCENARIOS["api-errors"]())
    out = run(["snapshot", "--format", "json", "--sample", "0.5"], server)
    assert out.returncode == 0, out.stderr
    vitals = json.loads(out.stdout)["vitals"]
    assert vitals["api_requests_per_second"] > 0
    assert 0.4 < vitals["api_5xx_share"] < 0.6
    assert "API_ERRORS" in [f["code"] for f in json.loads(out.stdout)["findings"]]
