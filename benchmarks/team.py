"""7. One recorder for the team (#29): what attaching to a recorder costs a viewer, against
floors measured in the same run.

- The attached first data frame: `wa-tui --follow FILE` of a 30-minute recording of a
  32-shard deployment (36 nodes, a poll every 5 s, its heartbeat fresh), process start ->
  the node list showing the primary master; beside a minimal Textual app's first frame.
- `check` from the recorder (`--from-recording`) beside a direct `check --url`.
- CPU of a viewer following a live recorder at 5 s, beside `wa-tui --url` watching the
  same deployment at 5 s, both in real 160x50 terminals over the same minute.
- The recorder with `--listen` for 200 deployments of 12 nodes at 15 s (vitals
  included), beside the exporter alone, each for a minute.

- `--follow DIR` of 500 recordings (made here): the fleet's first frame and idle CPU.

`python -m benchmarks.team [--only NAME]`: NAME is frame, check, follow, listen or folder.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

from benchmarks.cli import wall
from benchmarks.common import (
    MINIMAL_APP,
    PYTHON,
    QUICK,
    deployment,
    figure,
    in_pty,
    median_of,
    process_cpu_seconds,
    recording_live,
    report,
    simulator,
)
from benchmarks.first_frame import first_frame
from benchmarks.fleet import INTERVAL as FLEET_INTERVAL
from benchmarks.fleet import PASSWORD, _config, _serve, exporter_run

RUNS = 3 if QUICK else 7
# The minimal app after importing what `wa-tui --follow` imports before its first frame
# (the command line, the first frame's reader, the dashboard's widgets), nothing read.
WITH_OUR_CODE = (
    "import wa_tui.cli.main, wa_tui.cli.dashboard, wa_tui.recording.first_frame\n"
    "import wa_tui.ui.follow_app, wa_tui.ui.crash\n" + MINIMAL_APP
)
POLLS = 360  # 30 minutes at 5 s
SECONDS = 30.0 if QUICK else 60.0


def recording_of_half_an_hour(path: Path) -> None:
    """A recorder's 30 minutes of a 36-node deployment, ending now, as written live: the
    simulator's clock moved 5 s a poll, so logs grow and counters climb between polls."""
    from wa_tui.api.answers import Answers
    from wa_tui.api.endpoints import APP_STATS, DB_STATS, METRICS
    from wa_tui.core import clock
    from wa_tui.recording.writer import Recorder

    now, started = clock.now(), clock.monotonic()
    elapsed = [0.0]
    with mock.patch.object(clock, "monotonic", lambda: started + elapsed[0]):
        served = deployment(36).go_live()
        recorder = Recorder(path, "bench", "http://127.0.0.1:1", interval=5.0)
        for poll in range(POLLS):
            elapsed[0] = 5.0 * poll
            at = now - timedelta(seconds=5 * (POLLS - 1 - poll))
            payloads = {APP_STATS: served.app_stats_payload, METRICS: served.metrics_payload}
            if poll % 12 == 0:  # the database's stats once a minute, as the poller asks
                payloads[DB_STATS] = served.db_stats_payload
            stats = {path: json.dumps(payload()).encode() for path, payload in payloads.items()}
            support = json.dumps(served.support_payload()).encode()
            health = json.dumps(served.health_payload()).encode()
            answers = Answers(support, health, at, 32, stats, started + elapsed[0])
            recorder.record(at, started + elapsed[0], answers, None)
    recorder.beat(clock.now())
    recorder.close()


def attached_first_frame(path: Path) -> float:
    with in_pty([PYTHON, "-m", "wa_tui", "--follow", str(path)]) as run:
        return run.read_until("★ primary".encode())


def frame(rows: list[tuple[str, str]], folder: Path) -> None:
    path = folder / "bench.db"
    recording_of_half_an_hour(path)
    attached_first_frame(path)  # warm the OS file cache for both
    first_frame(MINIMAL_APP)
    baseline = median_of(RUNS, lambda: first_frame(MINIMAL_APP))
    floor = median_of(RUNS, lambda: first_frame(WITH_OUR_CODE))
    ours = median_of(RUNS, lambda: attached_first_frame(path))
    rows += [
        ("minimal Textual app, first frame", f"{baseline * 1000:.0f} ms"),
        ("the same after importing what --follow imports (no data)", f"{floor * 1000:.0f} ms"),
        ("wa-tui --follow, primary master on screen", f"{ours * 1000:.0f} ms"),
        ("--follow / the app with its imports (the floor that stops 1.2x)", f"{ours / floor:.2f}x"),
    ]
    headline = "attached first data frame, 36 nodes, 30 min recorded"
    against(rows, headline, ours * 1000, "ms", ("minimal Textual app", baseline * 1000), 1.2)


def check(rows: list[tuple[str, str]], folder: Path) -> None:
    path = folder / "bench.db"
    if not path.exists():
        recording_of_half_an_hour(path)
    recorded = [PYTHON, "-m", "wa_tui", "check", "--from-recording", str(path), "--max-age", "1d"]
    with simulator("--shards", "32", "--no-story") as sim:
        direct = wall([PYTHON, "-m", "wa_tui", "check", "--url", sim.url], sim.env)
        from_recording = wall(recorded)
    floor = wall([PYTHON, "-c", "import sqlite3, zlib, json"])
    rows += [
        ("wa-tui check --url (direct)", f"{direct * 1000:.0f} ms"),
        ("wa-tui check --from-recording", f"{from_recording * 1000:.0f} ms"),
        ('python -c "import sqlite3, zlib, json"', f"{floor * 1000:.0f} ms"),
    ]
    headline = "`check` from the recorder, 36 nodes"
    against(rows, headline, from_recording * 1000, "ms", ("a direct check", direct * 1000), 0.35)


def follow(rows: list[tuple[str, str]], folder: Path) -> None:
    with (
        simulator("--shards", "32") as sim,
        recording_live(sim, folder / "live") as (recorder, path),
    ):
        viewer = [PYTHON, "-m", "wa_tui", "--follow", str(path)]
        direct = [PYTHON, "-m", "wa_tui", "--url", sim.url, "--interval", "5"]
        with in_pty(viewer) as following, in_pty(direct, sim.env) as watching:
            following.read_until("★ primary".encode())
            watching.read_until("★ primary".encode())
            for run in (following, watching):
                run.drain(6.0)  # past the first poll's extras (stats a second later)
            before = [run.cpu_seconds() for run in (following, watching)]
            end = time.perf_counter() + SECONDS
            while time.perf_counter() < end:
                following.read(0.02)
                watching.read(0.02)
            after = [run.cpu_seconds() for run in (following, watching)]
        recorder_cpu = process_cpu_seconds(recorder.pid)
    viewer_share, direct_share = ((b - a) / SECONDS for a, b in zip(before, after, strict=True))
    reading = reading_cpu(path)
    rows += [
        (
            "floor: a poll read from the recording and read as a watcher reads it",
            f"{reading * 1000:.2f} ms of CPU",
        ),
        ("wa-tui --url at 5 s (a direct watcher)", f"{direct_share:.2%} of a core"),
        ("wa-tui --follow, its recorder at 5 s", f"{viewer_share:.2%} of a core"),
        ("the recorder itself, since it started", f"{recorder_cpu:.1f} s of CPU"),
    ]
    headline = "a viewer following at 5 s, 36 nodes (real terminal)"
    watcher = ("wa-tui --url at 5 s", direct_share * 100)
    against(rows, headline, viewer_share * 100, "% of a core", watcher, 0.7)


def reading_cpu(path: Path, polls: int = 60) -> float:
    """CPU seconds a viewer spends on one poll of the recording: read back (decompressed,
    its answers made again) and read as the watcher reads it (validated, analysed)."""
    from wa_tui.recording.reader import RecordingFile
    from wa_tui.watch.reader import Reader

    recording, reader = RecordingFile(path), Reader()
    first = max(len(recording) - polls, 0)
    started = time.process_time()
    for index in range(first, len(recording)):
        answers = recording.poll(index).answers
        if answers is not None:
            reader.read(answers)
    return (time.process_time() - started) / max(len(recording) - first, 1)


def listen(rows: list[tuple[str, str]], folder: Path, count: int = 200) -> None:
    ours, theirs = multiprocessing.Pipe()
    host = multiprocessing.Process(target=_serve, args=(count, theirs), daemon=True)
    host.start()
    urls = ours.recv()
    env = dict(os.environ, BENCH_PW=PASSWORD)
    try:
        config = _config(urls, folder)
        exporter, _ = exporter_run(config, env, SECONDS)
        record = ("record", "--dir", str(folder / "team"))
        recorder, oldest = exporter_run(config, env, SECONDS, command=record)
    finally:
        ours.send(None)
        host.join(timeout=60)
    rows += [
        (f"exporter alone, {count} deployments", f"{exporter:.2%} of a core"),
        (f"recorder --listen, {count} deployments", f"{recorder:.2%} of a core"),
        (f"oldest data served by the recorder (interval {FLEET_INTERVAL:g} s)", f"{oldest:.1f} s"),
    ]
    headline = f"recorder --listen, {count} deployments of 12 nodes at {FLEET_INTERVAL:g} s"
    alone = ("the exporter alone", exporter * 100)
    against(rows, headline, recorder * 100, "% of a core", alone, 1.5)


def against(
    rows: list[tuple[str, str]],
    what: str,
    value: float,
    unit: str,
    floor: tuple[str, float],
    most: float,
) -> None:
    """The ratio of `value` to the floor measured in the same run, shown and kept for the
    one table, against its target (at most `most` times the floor)."""
    ratio = value / floor[1]
    rows.append((f"{what}: ratio to {floor[0]} (target <= {most:g}x)", f"{ratio:.2f}x"))
    figure(what, value, unit, floor, f"<= {most:g}x", ratio <= most)


FOLDER_RECORDINGS = 500
FOLDER_INTERVAL = 30.0  # the recorders' interval: alive (heartbeats fresh) for 90 s


def recorded_folder(folder: Path, count: int = FOLDER_RECORDINGS) -> None:
    """`count` recordings of 12-node deployments, three polls each, as a recorder of the
    folder writes them (format 4: each poll judged and stored), heartbeats fresh."""
    from wa_tui.api.answers import Answers
    from wa_tui.api.endpoints import APP_STATS, METRICS
    from wa_tui.core import clock
    from wa_tui.recording.writer import Recorder
    from wa_tui.simulator import SimDeployment

    folder.mkdir(parents=True, exist_ok=True)
    served = SimDeployment.multiconnect(8, spares=2).go_live()
    now, started = clock.now(), clock.monotonic()
    for number in range(count):
        path = folder / f"deployment-{number:03d}.db"
        recorder = Recorder(path, path.stem, "http://127.0.0.1:1", interval=FOLDER_INTERVAL)
        for poll in range(3):
            at = now - timedelta(seconds=FOLDER_INTERVAL * (2 - poll))
            payloads = {APP_STATS: served.app_stats_payload, METRICS: served.metrics_payload}
            stats = {path: json.dumps(payload()).encode() for path, payload in payloads.items()}
            support = json.dumps(served.support_payload()).encode()
            health = json.dumps(served.health_payload()).encode()
            received = started + FOLDER_INTERVAL * poll
            recorder.record(at, received, Answers(support, health, at, 8, stats, received), None)
        recorder.beat(clock.now_precise())
        recorder.close()


def folder_fleet(rows: list[tuple[str, str]], folder: Path) -> None:
    """`--follow DIR` of 500 recordings: the fleet's first frame and its idle CPU."""
    recordings = folder / "fleet"
    recorded_folder(recordings)
    marker = f"{FOLDER_RECORDINGS} deployments".encode()
    first_frame(MINIMAL_APP)
    baseline = median_of(RUNS, lambda: first_frame(MINIMAL_APP))
    with in_pty([PYTHON, "-m", "wa_tui", "--follow", str(recordings)]) as run:
        shown = run.read_until(marker, timeout=60.0)
        run.drain(2.0)
        before = run.cpu_seconds()
        run.drain(SECONDS)
        idle = (run.cpu_seconds() - before) / SECONDS
        rss = run.peak_rss_bytes()
    rows += [
        ("minimal Textual app, first frame", f"{baseline * 1000:.0f} ms"),
        (f"--follow DIR of {FOLDER_RECORDINGS} recordings, fleet on screen", f"{shown:.2f} s"),
        (f"the same, idle over {SECONDS:g} s", f"{idle:.2%} of a core"),
        ("the same, peak RSS", f"{rss / 2**20:.0f} MiB"),
    ]
    figure(
        f"--follow DIR of {FOLDER_RECORDINGS}: first frame",
        shown * 1000,
        "ms",
        ("minimal Textual app", baseline * 1000),
        "<= 2 s",
        shown <= 2.0,
    )
    figure(
        f"--follow DIR of {FOLDER_RECORDINGS}: idle CPU",
        idle * 100,
        "% of a core",
        ("minimal Textual app's first frame, ms", baseline * 1000),
        "<= 2%",
        idle <= 0.02,
    )


PARTS = {
    "frame": frame,
    "check": check,
    "follow": follow,
    "listen": listen,
    "folder": folder_fleet,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team", description=__doc__)
    parser.add_argument("--only", choices=PARTS, action="append")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or PARTS:
            PARTS[name](rows, Path(folder))
    report("One recorder for the team", rows)


if __name__ == "__main__":
    main()
