"""The command line, as a user runs it: real processes, real sockets."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import WA_TUI
from wa_tui import __version__


@pytest.fixture
def simulate_32() -> Iterator[dict[str, str]]:
    """`wa-tui simulate --shards 32 --no-story` in a process; its printed url/credentials."""
    process = subprocess.Popen(
        [*WA_TUI, "simulate", "--shards", "32", "--no-story"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    printed: dict[str, str] = {}
    while len(printed) < 3:  # url, username, password come first, one per line
        line = process.stdout.readline()
        assert line, "simulate exited before printing its url"
        key, _, value = line.partition(": ")
        printed[key] = value.strip()
    yield printed
    process.terminate()
    process.wait(timeout=10)


def test_simulate_answers_a_login_and_support_like_a_deployment(
    simulate_32: dict[str, str],
) -> None:
    url = simulate_32["url"]
    login = httpx.post(
        f"{url}/v1/users/login", auth=(simulate_32["username"], simulate_32["password"])
    )
    token = login.json()["users"][0]["token"]
    support = httpx.get(f"{url}/v1/support", headers={"Authorization": f"Bearer {token}"}).json()
    nodes = support["support"]
    assert len(nodes) == 36  # 2 masters, 32 serving coreapps, 2 spares
    owned = sorted(pair[0] for node in nodes.values() for pair in node["shards"])
    assert owned == list(range(-1, 32))


def test_version() -> None:
    out = subprocess.run([*WA_TUI, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"wa-tui {__version__}"


def test_url_without_credentials_is_one_line_and_exit_2() -> None:
    # conftest's isolated_home has removed every WA_TUI_ variable
    out = subprocess.run([*WA_TUI, "--url", "http://127.0.0.1:9"], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "wa-tui: no credentials: set WA_TUI_TOKEN, or WA_TUI_USERNAME and WA_TUI_PASSWORD"
    ]


def test_no_password_flag_exists() -> None:
    out = subprocess.run([*WA_TUI, "--help"], capture_output=True, text=True, check=True)
    assert "--password" not in out.stdout
    assert "WA_TUI_PASSWORD" in out.stdout


@pytest.mark.parametrize(
    ("argv", "name", "seconds"),
    [
        (["--interval", "2"], "interval", 2.0),
        (["--interval", "30s"], "interval", 30.0),
        (["record", "x.db", "--interval", "1m", "--keep", "7d"], "keep", 7 * 86400.0),
        (["snapshot", "--sample", "0.5", "--timeout", "1m"], "timeout", 60.0),
        (["check", "--max-age", "90m"], "max_age", 5400.0),
        (["bundle", "--last", "2h"], "last", 7200.0),
    ],
)
def test_every_length_of_time_takes_seconds_or_a_duration(
    argv: list[str], name: str, seconds: float
) -> None:
    from wa_tui.cli.main import build_parser

    assert getattr(build_parser().parse_args(argv), name) == seconds


def test_the_old_spellings_still_work() -> None:
    from wa_tui.cli.bundle import _minutes
    from wa_tui.cli.main import build_parser

    parser = build_parser()
    assert _minutes(parser.parse_args(["bundle", "--minutes", "45"])) == 45
    assert _minutes(parser.parse_args(["bundle", "--last", "1h"])) == 60
    assert _minutes(parser.parse_args(["bundle"])) == 30
    assert parser.parse_args(["report", "r.db", "--output", "out"]).output == "out"
    assert parser.parse_args(["report", "r.db", "--output-dir", "out"]).output == "out"
    bad = subprocess.run([*WA_TUI, "--interval", "soon"], capture_output=True, text=True)
    assert bad.returncode == 2 and "expected e.g. 5, 30s, 90m, 24h or 7d" in bad.stderr
