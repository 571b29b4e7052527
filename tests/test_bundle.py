"""`wa-tui bundle`: one tar.gz to hand over, with nothing secret inside."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import SECRETS, WA_TUI, every_value_of, record_polls
from wa_tui.recording.reader import RecordingFile
from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story

pytestmark = pytest.mark.slow  # each test drives an app, a terminal or a process

PHONE = "+15550100123"


def _run(*args: str, server: SimulatorServer | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if server is not None:
        env |= {"WA_TUI_USERNAME": server.username, "WA_TUI_PASSWORD": server.password}
    return subprocess.run([*WA_TUI, *args], capture_output=True, text=True, env=env, timeout=60)


def _unpacked(bundle: Path, into: Path) -> dict[str, str]:
    into.mkdir()
    subprocess.run(["tar", "-xzf", str(bundle), "-C", str(into)], check=True)
    return {
        str(path.relative_to(into)).split("/", 1)[1]: path.read_bytes().decode("utf-8", "replace")
        for path in into.rglob("*")
        if path.is_file()
    }


def test_a_live_bundle_holds_no_secret(simulator: SimulatorServer, tmp_path: Path) -> None:
    output = tmp_path / "handover.tar.gz"
    config = tmp_path / "config.toml"
    config.write_text(
        '[deployments.lab]\nurl = "http://127.0.0.1:9"\nusername = "admin"\n'
        'password_command = "pass show wa/lab"\n'
    )
    done = _run(
        "bundle",
        "--url",
        simulator.url,
        "--output",
        str(output),
        "--config",
        str(config),
        server=simulator,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(output.resolve())
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    files = _unpacked(output, tmp_path / "out")
    assert {"MANIFEST", "versions.txt", "findings.txt", "answers/v1-support.json"} <= set(files)
    everything = "\n".join(files.values())
    assert not any(secret in everything for secret in SECRETS)
    assert simulator.password not in everything
    assert "pass show wa/lab" not in files["config.toml"]
    manifest = files["MANIFEST"]
    for name in ("WA_DB_PASSWORD=… masked", "WA_API_KEY=… masked", "DATA_SOURCE_NAME=… masked"):
        assert name in manifest
    assert "phone numbers are kept" in manifest and PHONE in files["answers/v1-support.json"]
    assert "API v2.45.1" in files["versions.txt"]


def test_the_folder_inside_is_the_name_without_tgz(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    output = tmp_path / "b.tgz"
    done = _run("bundle", "--url", simulator.url, "--output", str(output), server=simulator)
    assert done.returncode == 0, done.stderr
    with tarfile.open(output) as tar:
        assert {name.split("/")[0] for name in tar.getnames()} == {"b"}


async def test_b_in_replay_hands_over_the_poll_on_screen_and_the_minutes_up_to_it(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    from tests.helpers import SIZE, wait_for
    from wa_tui.core.secrets import mask_tree
    from wa_tui.recording.reader import RecordingFile
    from wa_tui.recording.replay import ReplayWatcher
    from wa_tui.ui.replay_app import ReplayApp

    deployment = SimDeployment.multiconnect(8, spares=2)
    server = start_simulator(deployment, story=demo_story(deployment), step_seconds=3600)
    recording = tmp_path / "story.db"
    await record_polls(server, recording, steps=8)
    watcher = ReplayWatcher.open(recording)
    app = ReplayApp(watcher)
    folder = Path(os.environ["XDG_DATA_HOME"]) / "wa-tui"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: watcher.position == 0)
        watcher.go(4)
        await pilot.press("b")
        await wait_for(pilot, lambda: any(folder.glob("*.tar.gz")))
    bundle = next(folder.glob("*.tar.gz"))
    assert bundle.name.startswith("wa-tui-bundle-demo-")
    files = _unpacked(bundle, tmp_path / "out")
    shown = watcher.recording.poll(4).answers
    assert shown is not None
    expected = mask_tree(json.loads(shown.support))
    assert json.loads(files["answers/v1-support.json"]) == expected
    assert json.loads(files["summary.json"])["nodes"] == 12
    handed = RecordingFile(next((tmp_path / "out").glob("*/recording.db")))
    assert handed.ats == watcher.recording.ats[:5]


def test_a_bundle_asked_to_mask_phones_carries_none_anywhere_and_the_recorders_judgement(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    deployment = SimDeployment.multiconnect(8, spares=2)
    server = start_simulator(deployment, story=demo_story(deployment), step_seconds=3600)
    recording = tmp_path / "story.db"
    judged_with = {"expiry_warning_days": 900}
    asyncio.run(record_polls(server, recording, 12, judged_with=judged_with, interval=5.0))
    assert any(PHONE[1:] in text for _, text in every_value_of(recording))  # it was recorded
    output = tmp_path / "masked.tar.gz"
    done = _run(
        "bundle", "--from-recording", str(recording), "--redact-phone", "--output", str(output)
    )
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    files = _unpacked(output, out)
    assert "role changed" in files["changes.txt"]
    assert "phone number masked (--redact-phone)" in files["MANIFEST"]
    with tarfile.open(output) as tar:
        assert all(member.mode == 0o600 for member in tar.getmembers())
    bundled = next(out.glob("*/recording.db"))
    everything = [*files.items(), *every_value_of(bundled), ("raw", bundled.read_bytes().hex())]
    for where, text in everything:
        assert PHONE[1:] not in text, f"a phone number in {where}"
        assert PHONE[1:].encode().hex() not in text, f"a phone number in {where}"
        for secret in (*SECRETS, server.password):
            assert secret not in text, f"a secret in {where}"
    # The copy says what the recorder said: its settings, and each poll's judgement
    # (BUILD_EXPIRING at 900 days, which a reader's default of 14 would not raise).
    source, copy = RecordingFile(recording), RecordingFile(bundled)
    assert copy.meta["interval"] == "5"
    assert len(copy) == len(source)
    for index in range(len(copy)):
        judged, recorded = copy.judgement(index), source.judgement(index)
        assert judged is not None and recorded is not None
        assert judged["check"] == recorded["check"]
        assert [f[0] for f in judged["findings"]] == [f[0] for f in recorded["findings"]]
    assert any(f[0] == "BUILD_EXPIRING" for f in copy.judgement(0)["findings"])  # type: ignore[index]


def test_a_bundle_from_a_recording_holds_no_secret_even_unasked(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    recording = tmp_path / "plain.db"
    asyncio.run(record_polls(server, recording, steps=0))
    output = tmp_path / "plain.tar.gz"
    done = _run("bundle", "--from-recording", str(recording), "--output", str(output))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    files = _unpacked(output, out)
    bundled = next(out.glob("*/recording.db"))
    everything = [*files.items(), *every_value_of(bundled), ("raw", bundled.read_bytes().hex())]
    for where, text in everything:
        for secret in (*SECRETS, server.password):
            assert secret not in text and secret.encode().hex() not in text, where
    assert any(PHONE in text for _, text in every_value_of(bundled))  # kept, unasked
