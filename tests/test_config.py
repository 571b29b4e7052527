"""The config file: deployments, defaults, one-line errors, and `wa-tui config`."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.helpers import WA_TUI, start_of
from wa_tui.config import ConfigError, add_deployment, load
from wa_tui.core.config_file import config_path

GOOD = """
[defaults]
username = "oncall"
timeout = 4
expiry_warning_days = 21

[deployments.prod-eu]
url = "https://wa-eu.example:9090/"
password_env = "WA_PROD_EU_PASSWORD"
expected_shards = 8
disk_warning_gib = 10

[deployments.staging]
url = "http://10.0.0.5:9090"
token_env = "WA_STAGING_TOKEN"
verify_tls = false
username = "robot"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_deployments_get_the_defaults_and_keep_their_own_values(tmp_path: Path) -> None:
    prod, staging = load(write(tmp_path, GOOD))
    assert (prod.name, prod.url, prod.username, prod.timeout) == (
        "prod-eu",
        "https://wa-eu.example:9090",
        "oncall",
        4,
    )
    assert prod.expected_shards == 8
    assert prod.thresholds.expiry_warning_days == 21
    assert prod.thresholds.disk_warning_bytes == 10 * 1024**3
    assert (staging.username, staging.verify_tls, staging.interval) == ("robot", False, 5.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[deployments.a]\nurl = "http://x"\nverfy_tls = false\n',
            "unknown key 'deployments.a.verfy_tls'",
        ),
        (
            '[deployments.a]\nurl = "http://x"\ntimeout = "slow"\n',
            "'deployments.a.timeout': input should be a valid number",
        ),
        ("[deployments.a]\nusername = 'x'\n", "'deployments.a.url' is required"),
        ('[deployments.a]\nurl = "wa.example"\n', "expected an http:// or https:// URL"),
        ("[deployments.a]\nurl = 'http://x'\nexpected_shards = 3\n", "expected_shards"),
        ("[defaults]\ninterval = 0\n", "'defaults.interval': input should be greater than 0"),
        ("[colours]\nx = 1\n", "unknown key 'colours'"),
        (  # the misspelling is named, not the key it leaves missing
            '[deployments.a]\nurll = "https://wa.example:9090"\n',
            "unknown key 'deployments.a.urll' (did you mean 'url'?)",
        ),
        ("deployments = [", "not valid TOML"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    line = str(caught.value)
    assert line.startswith(f"{path}: ") and message in line and "\n" not in line
    assert "more)" not in line  # one mistake in each: no other counted


def test_config_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_path().name == "config.toml"
    assert str(config_path()).startswith(os.environ["XDG_CONFIG_HOME"])
    monkeypatch.setenv("WA_TUI_CONFIG", str(tmp_path / "env.toml"))
    assert config_path() == tmp_path / "env.toml"
    assert config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"


def test_add_keeps_the_rest_and_never_writes_a_password(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    add_deployment(path, "prod-us", "https://wa-us.example:9090", "oncall")
    document = tomllib.loads(path.read_text())
    assert document["deployments"]["prod-us"] == {
        "url": "https://wa-us.example:9090",
        "username": "oncall",
    }
    assert document["deployments"]["prod-eu"]["password_env"] == "WA_PROD_EU_PASSWORD"
    assert document["defaults"]["expiry_warning_days"] == 21
    assert [d.name for d in load(path)] == ["prod-eu", "staging", "prod-us"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WA_TUI, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_config_commands(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    added = run("config", "add", "lab", "--url", "http://127.0.0.1:9", "--config", str(path))
    assert added.returncode == 0, added.stderr
    checked = run("config", "check", "--config", str(path))
    assert checked.returncode == 0 and "1 deployment(s): lab" in checked.stdout
    assert run("config", "path", "--config", str(path)).stdout.strip() == str(path)


def test_bad_config_key_is_one_line_on_stderr_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[deployments.a]\nurl = "http://x"\npasword_env = "P"\n')
    for args in (("config", "check", "--config", str(path)), ("check", "--config", str(path))):
        out = run(*args)
        assert out.returncode == 2
        assert out.stderr.strip().splitlines() == [
            f"wa-tui: {path}: unknown key 'deployments.a.pasword_env' "
            "(did you mean 'password_env'?)"
        ]
        assert "Traceback" not in out.stderr


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    from wa_tui.config import DeploymentConfig

    example = Path(__file__).parent.parent / "config.example.toml"
    assert [d.name for d in load(example)] == ["prod-eu", "prod-us", "staging", "lab"]
    text = example.read_text()
    for key in DeploymentConfig.model_fields:
        if key != "name":
            assert f"\n{key} = " in text or f"\n# {key} = " in text, key


@pytest.mark.slow
def test_keys_are_remapped_by_id_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, '[keys]\n"dashboard.refresh" = "f5, ?"\n"replay.next_event" = "n"\n')
    out = run("config", "check", "--config", str(path))
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "'question_mark' is bound to both dashboard.help and dashboard.refresh" in out.stderr
    assert "(and 1 more)" in out.stderr  # n: replay.next_event and dashboard.nodes
    path = write(tmp_path, '[keys]\n"dashboard.refrsh" = "f5"\n')
    out = run("config", "check", "--config", str(path))
    assert out.stderr.strip() == (
        f"wa-tui: {path}: keys: unknown binding id 'dashboard.refrsh' "
        "(did you mean 'dashboard.refresh'?)"
    )
    path = write(tmp_path, '[keys]\n"dashboard.refresh" = "f5,ctrl+r"\n"nodes.down" = "/"\n')
    keymap = start_of("--config", str(path)).keymap
    assert keymap == {"dashboard.refresh": "f5,ctrl+r", "nodes.down": "slash"}
    assert "2 key(s) remapped" in run("config", "check", "--config", str(path)).stdout


def test_the_key_ids_page_names_every_binding_id() -> None:
    from itertools import groupby

    from wa_tui.keys import ALL

    readme = (Path(__file__).parent.parent / "docs" / "keys.md").read_text()
    for scope, keys in groupby(ALL, key=lambda key: key.scope):
        line = next(line for line in readme.splitlines() if line.startswith(f"- {scope}: "))
        for key in keys:
            assert f"`{key.id.split('.', 1)[1]}` (" in line, key.id


def test_every_threshold_default_is_written_once() -> None:
    """The config's defaults are the table's, and so are the analysis' thresholds."""
    from wa_tui.config import DeploymentSettings
    from wa_tui.core.thresholds import DEFAULTS

    settings = DeploymentSettings()
    for key, value in DEFAULTS.items():
        assert getattr(settings, key) == value, key
    from wa_tui.analysis import Thresholds
    from wa_tui.analysis.forecast import ForecastThresholds
    from wa_tui.analysis.vitals import VitalsThresholds

    assert settings.thresholds == Thresholds()
    assert settings.vitals_thresholds == VitalsThresholds()
    assert settings.forecast_thresholds == ForecastThresholds()
