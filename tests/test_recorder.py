"""One recorder for the on-call team (#29, its first part): `wa-tui record --dir` records
every deployment of the config in one process, each to its own file; one recorder a file;
a heartbeat every interval, while the deployment answers or not."""

from __future__ import annotations

import grp
import os
import resource
import signal
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import (
    WA_TUI,
    every_poll,
    every_value_of,
    free_port,
    http_get,
    recorded_polls,
    recorder_config,
    recorder_env,
    recording_meta,
    until,
)
from wa_tui.recording.format import recording_path
from wa_tui.simulator import SimulatorServer
from wa_tui.simulator.faults import Fault
from wa_tui.simulator.scenarios import SCENARIOS


def test_recording_names_are_safe_file_names() -> None:
    folder = Path("/srv/rec")
    assert recording_path(folder, "prod") == folder / "prod.db"
    assert recording_path(folder, "eu west/2 (main)") == folder / "eu_west_2__main_.db"
    assert recording_path(folder, "../../etc") == folder / ".._.._etc.db"  # never a path


@pytest.mark.slow
def test_record_dir_records_every_deployment_in_one_process(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    servers = {"alpha": start_simulator(), "eu west/2": start_simulator()}
    folder = tmp_path / "recordings"
    config = recorder_config(tmp_path / "config.toml", servers)
    command = [*WA_TUI, "record", "--dir", str(folder), "--config", str(config)]
    process = subprocess.Popen(
        command, env=recorder_env(servers), stdout=subprocess.PIPE, text=True
    )
    files = [folder / "alpha.db", folder / "eu_west_2.db"]
    try:
        until(lambda: all(f.exists() and recorded_polls(f)[0] >= 3 for f in files))
        second = subprocess.run(
            [*WA_TUI, "record", str(files[0]), "--config", str(config), "--profile", "alpha"],
            env=recorder_env(servers),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert second.returncode == 2
    assert (
        second.stderr.strip()
        == f"wa-tui: {files[0]}: another wa-tui is recording to it (one recorder a file)"
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path, name in zip(files, servers, strict=True):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        meta = recording_meta(path)
        assert meta["deployment"] == name and meta["interval"] == "0.3"
        assert "recorded " in out and str(path) in out
    # Each deployment polled once per interval, by one process: the simulators counted it.
    for server in servers.values():
        assert server.requests["/v1/support"] >= 3


@pytest.mark.slow
def test_the_heartbeat_goes_on_while_the_deployment_fails(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator()
    servers = {"flaky": server}
    path = tmp_path / "flaky.db"
    config = recorder_config(tmp_path / "config.toml", servers)
    command = [*WA_TUI, "record", str(path), "--config", str(config), "--timeout", "1"]
    process = subprocess.Popen(
        command, env=recorder_env(servers), stdout=subprocess.PIPE, text=True
    )
    try:
        until(lambda: path.exists() and recorded_polls(path)[0] >= 2)
        server.faults.always = Fault.HANG  # every answer hangs: polls fail at the deadline
        beat = datetime.fromisoformat(recording_meta(path)["heartbeat"])
        until(lambda: recorded_polls(path)[1] >= 2)
        until(lambda: datetime.fromisoformat(recording_meta(path)["heartbeat"]) > beat)
        assert recorded_polls(path)[1] >= 2  # the failures recorded, with their error
    finally:
        server.faults.always = None
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_record_needs_a_file_or_a_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [*WA_TUI, "record", "--url", "http://127.0.0.1:9"],
        env={**os.environ, "WA_TUI_TOKEN": "t"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "wa-tui: say where to record: FILE (one deployment) or --dir DIR (every one)"
    )


@pytest.mark.slow
def test_a_group_may_read_the_recordings_and_never_write_them(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    """`--group`: the folder 2750 (setgid: SQLite's side files get the group too), the
    files 0640, all the group's."""
    group = grp.getgrnam("daemon")
    servers = {"team": simulator}
    folder = tmp_path / "team-recordings"
    config = recorder_config(tmp_path / "config.toml", servers)
    command = [*WA_TUI, "record", "--dir", str(folder), "--group", group.gr_name]
    process = subprocess.Popen(
        [*command, "--config", str(config)],
        env=recorder_env(servers),
        stdout=subprocess.PIPE,
        text=True,
    )
    path = folder / "team.db"
    try:
        until(lambda: path.exists() and recorded_polls(path)[0] >= 2)
        sides = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(side.exists() for side in sides)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o2750
        for file in (path, *sides):
            info = file.stat()
            assert stat.S_IMODE(info.st_mode) & 0o077 == 0o040, oct(info.st_mode)
            assert info.st_gid == group.gr_gid
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


@pytest.mark.slow
def test_the_recorder_serves_the_metrics_of_its_ownrecorded_polls(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    """`--listen`: /metrics from the polls recorded; the deployment is asked once a poll."""
    servers = {"served": simulator}
    config = recorder_config(tmp_path / "config.toml", servers)
    port = free_port()
    command = [*WA_TUI, "record", "--dir", str(tmp_path / "r"), "--config", str(config)]
    process = subprocess.Popen(
        [*command, "--listen", f"127.0.0.1:{port}"],
        env=recorder_env(servers),
        stdout=subprocess.PIPE,
        text=True,
    )
    path = tmp_path / "r" / "served.db"
    try:
        until(lambda: path.exists() and recorded_polls(path)[0] >= 4)
        metrics = http_get(f"http://127.0.0.1:{port}/metrics")
        recorded = sum(recorded_polls(path))
        asked = simulator.requests["/v1/support"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert 'wa_up{deployment="served"} 1.0' in metrics
    assert recorded <= asked <= recorded + 1  # one request a poll: none for the metrics


@pytest.mark.slow
def test_sighup_reads_the_config_again_adding_and_removing_deployments(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    first, second = start_simulator(), start_simulator()
    config = tmp_path / "config.toml"
    recorder_config(config, {"first": first})
    folder = tmp_path / "r"
    env = {**recorder_env({"first": first}), "PW_1": second.password}
    process = subprocess.Popen(
        [*WA_TUI, "record", "--dir", str(folder), "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        until(
            lambda: (folder / "first.db").exists() and recorded_polls(folder / "first.db")[0] >= 2
        )
        config.write_text(
            config.read_text().replace('"first"', '"gone"', 1).split("[deployments")[0]
            + f'[deployments.second]\nurl = "{second.url}"\nusername = "{second.username}"\n'
            'password_env = "PW_1"\ninterval = 0.3\n'
        )
        process.send_signal(signal.SIGHUP)
        said = process.stderr.readline()  # type: ignore[union-attr]
        assert said.strip() == "wa-tui: config read again: +second -first"
        until(
            lambda: (folder / "second.db").exists() and recorded_polls(folder / "second.db")[0] >= 2
        )
        stopped = sum(recorded_polls(folder / "first.db"))
        until(lambda: recorded_polls(folder / "second.db")[0] >= 5)
        assert sum(recorded_polls(folder / "first.db")) == stopped  # no longer recorded
        config.write_text("not [valid toml")
        process.send_signal(signal.SIGHUP)
        assert "recording what was recorded" in process.stderr.readline()  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


@pytest.mark.slow
def test_check_from_the_recording_says_what_a_direct_check_says_until_the_recorder_stops(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    server = start_simulator(SCENARIOS["socket-down"]())
    servers = {"down": server}
    path = tmp_path / "down.db"
    config = recorder_config(tmp_path / "config.toml", servers)
    env = recorder_env(servers)
    process = subprocess.Popen(
        [*WA_TUI, "record", str(path), "--config", str(config)], env=env, stdout=subprocess.PIPE
    )
    try:
        until(lambda: path.exists() and recorded_polls(path)[0] >= 2)
        recorded = subprocess.run(
            [*WA_TUI, "check", "--from-recording", str(path), "--max-age", "30s"],
            capture_output=True,
            text=True,
        )
        # Every request the deployment had is a recorder's poll (one may be in flight).
        asked, polls = server.requests["/v1/support"], sum(recorded_polls(path))
        assert asked <= polls + 1, (asked, polls)
        direct = subprocess.run(
            [*WA_TUI, "check", "--config", str(config)], env=env, capture_output=True, text=True
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert recorded.returncode == direct.returncode == 2, recorded.stdout + direct.stdout
    assert recorded.stdout.split(" | ")[0] == direct.stdout.split(" | ")[0]  # the same line
    assert recorded.stdout.split(" | ")[1].split()[:5] == direct.stdout.split(" | ")[1].split()[:5]
    # The killed recorder's heartbeat ages (to the second, as recorded) past --max-age.
    stale: list[subprocess.CompletedProcess[str]] = []

    def unknown() -> bool:
        stale[:] = [
            subprocess.run(
                [*WA_TUI, "check", "--from-recording", str(path), "--max-age", "1s"],
                capture_output=True,
                text=True,
            )
        ]
        return stale[0].returncode == 3

    until(unknown)
    said = stale[0].stdout
    assert said.startswith(f"WA-TUI UNKNOWN - {path}: the recorder's last sign of life is")
    nothing = subprocess.run(
        [*WA_TUI, "check", "--from-recording", str(config)], capture_output=True, text=True
    )
    assert nothing.returncode == 3 and "not a wa-tui recording" in nothing.stdout


@pytest.mark.slow
def test_a_full_disk_is_said_once_polling_goes_on_and_writing_resumes(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    """The disk fills under the recorder (its file-size limit, as a full disk refuses
    writes): it says so once, polls on, and writes again once it can; what it recorded
    before, and after, replays whole."""
    server = start_simulator()
    servers = {"full": server}
    path = tmp_path / "full.db"
    config = recorder_config(tmp_path / "config.toml", servers, interval=0.2)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, resource.RLIM_INFINITY))

    process = subprocess.Popen(
        [*WA_TUI, "record", str(path), "--config", str(config)],
        env=recorder_env(servers),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=small_disk,
    )
    try:
        until(lambda: (tmp_path / "full.db-wal").exists())
        until(lambda: (tmp_path / "full.db-wal").stat().st_size >= 400_000)
        written = sum(recorded_polls(path))
        asked = server.requests["/v1/support"]
        until(lambda: server.requests["/v1/support"] >= asked + 10)  # polling goes on
        assert sum(recorded_polls(path)) == written
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, unlimited)  # room again
        until(lambda: sum(recorded_polls(path)) >= written + 5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, said = process.communicate(timeout=30)
    assert process.returncode == 0
    lines = said.splitlines()
    assert len([line for line in lines if "polling goes on" in line]) == 1, said
    assert lines.count(f"wa-tui: {path}: writing again") == 1, said
    assert len(every_poll(path)) >= written + 5  # none damaged


@pytest.mark.slow
def test_redact_phone_keeps_phone_numbers_out_of_the_recording(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    """What an on-call group may read: every answer, the phone numbers masked with
    --redact-phone (the simulator's nodes say +15550100123 in debug_info)."""
    server = start_simulator()
    servers = {"phones": server}
    config = recorder_config(tmp_path / "config.toml", servers)
    texts = {}
    for name, options in (("kept", []), ("masked", ["--redact-phone"])):
        path = tmp_path / f"{name}.db"
        command = [*WA_TUI, "record", str(path), "--config", str(config), *options]
        process = subprocess.Popen(command, env=recorder_env(servers), stdout=subprocess.PIPE)
        until(lambda path=path: path.exists() and recorded_polls(path)[0] >= 2)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        texts[name] = "\n".join(text for _, text in every_value_of(path))
    assert "+15550100123" in texts["kept"]
    assert "15550100123" not in texts["masked"] and "+•••••••" in texts["masked"]
