"""6. Recording: a 36-node deployment (32 shards, 2 masters, 2 spares) polled every 5 s
for 24 hours of simulated time, its logs growing and its counters moving, its stats
and metrics read with every poll: size on disk and the recorder's CPU per poll, against
the same answers each compressed whole with zlib (what "save every answer" would take),
in the same run.

Then the replay of that day: opening it and moving to any poll or event (the vitals'
30 minutes and the change log rebuilt), against the same file opened as format 1 (its
`derived` and `events` dropped: read whole, as recordings made before format 2 are), in
the same run.

Simulated time: the answers come straight from the simulator's deployment (no HTTP),
its clock moved 5 s per poll, so a day takes a few minutes. The deployment lives its
demo story meanwhile (a step every 5 minutes), so there are events to jump to."""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks.common import QUICK, deployment, figure, report
from wa_tui.api.answers import Answers
from wa_tui.api.endpoints import APP_STATS, DB_STATS, METRICS
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.recording.writer import Recorder
from wa_tui.simulator import demo_story
from wa_tui.watch.reader import Reader

INTERVAL = 5.0
HOURS = float(sys.argv[1]) if len(sys.argv) > 1 else (1.0 if QUICK else 24.0)
TARGET_BYTES = 50 * 10**6


def main() -> None:
    polls = int(HOURS * 3600 / INTERVAL)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    seconds = [0.0]
    with (
        mock.patch("wa_tui.core.clock.monotonic", lambda: seconds[0]),
        mock.patch("wa_tui.core.clock.now", lambda: start + timedelta(seconds=seconds[0])),
        tempfile.TemporaryDirectory() as directory,
    ):
        served = deployment(36).go_live()
        story = demo_story(served)
        watcher = Reader()  # what the watcher makes of each poll, handed to the recorder
        path = Path(directory) / "day.db"
        recorder = Recorder(path, "bench", "http://127.0.0.1:1")
        recording_cpu = whole_bytes = 0.0
        for poll in range(polls):
            seconds[0] = poll * INTERVAL
            if poll % 60 == 59:
                next(story)
            bodies = {
                "support": json.dumps(served.support_payload()).encode(),
                "health": json.dumps(served.health_payload()).encode(),
                APP_STATS: json.dumps(served.app_stats_payload()).encode(),
                METRICS: json.dumps(served.metrics_payload()).encode(),
            }
            if poll % 12 == 0:  # stats/db every minute
                bodies[DB_STATS] = json.dumps(served.db_stats_payload()).encode()
            stats = {p: b for p, b in bodies.items() if p.startswith("/")}
            answers = Answers(
                bodies["support"],
                bodies["health"],
                start + timedelta(seconds=seconds[0]),
                None,
                stats,
                seconds[0],
            )
            result = watcher.read(answers)
            began = time.process_time()
            recorder.record(answers.fetched_at, seconds[0], answers, None, result)
            recording_cpu += time.process_time() - began
            whole_bytes += sum(len(zlib.compress(body, 6)) for body in bodies.values())
        recorder.close()
        size = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob("day.db-*") if p.exists()
        )
        replay = _replay(path)
        accounting = _report(path)
        with sqlite3.connect(path) as db:  # as a recorder of format 1 wrote it
            db.execute("DROP TABLE derived")
            db.execute("DROP TABLE events")
        format_1 = _replay(path)
    per_poll = recording_cpu / polls
    report(
        f"Recording, 36 nodes every {INTERVAL:g} s for {HOURS:g} h ({polls:,} polls)",
        [
            ("baseline: every answer compressed whole (zlib)", f"{whole_bytes / 1e6:.1f} MB"),
            ("recording on disk (target < 50 MB a day)", f"{size / 1e6:.1f} MB"),
            ("ratio to the baseline", f"{size / whole_bytes:.2f}x"),
            ("per poll on disk", f"{size / polls:,.0f} bytes"),
            ("recorder CPU per poll", f"{per_poll * 1000:.2f} ms"),
            ("recorder CPU at a 5 s interval (target < 1%)", f"{per_poll / INTERVAL:.2%}"),
        ],
    )
    rows = []
    for what, target, key in (
        ("open", "< 1 s", "open"),
        ("jump to a poll, median / worst of 20", "< 200 ms", "jumps"),
        ("next event, median / worst of 20", "< 200 ms", "events"),
        ("RSS after the jumps", "—", "rss"),
    ):
        rows.append((f"{what}: format 1, the baseline", format_1[key]))
        rows.append((f"{what}: format 2 (target {target})", replay[key]))
    rows.append(("events found", f"{replay['count']} (format 1: {format_1['count']})"))
    report(f"Replaying it ({polls:,} polls)", rows)
    report(f"`wa-tui report` on it ({polls:,} polls)", accounting[0])
    day = f"{HOURS:g} h of 36 nodes at {INTERVAL:g} s"
    figure(
        f"recording on disk, a day (from {day})",
        size / 1e6 * 24 / HOURS,
        "MB",
        ("every answer compressed whole", whole_bytes / 1e6 * 24 / HOURS),
        "< 50 MB",
        size * 24 / HOURS < TARGET_BYTES,
    )
    for what, key in (("replay opens", "open"), ("jump to a poll, median", "jumps")):
        figure(
            f"{what}, {day}",
            replay[f"{key}_s"],
            "s",
            ("format 1, read whole", format_1[f"{key}_s"]),
            "< 1 s" if key == "open" else "< 200 ms",
            replay[f"{key}_s"] < (1.0 if key == "open" else 0.2),
        )
    took, floor = accounting[1]
    figure(
        f"`wa-tui report`, {day}",
        took,
        "s",
        ("every derived row read back", floor),
        "< 10 s (a day)",
        took < 10,
    )


def _report(path: Path) -> tuple[list[tuple[str, str]], tuple[float, float]]:
    """`wa-tui report` as a person runs it (its own process, wall time), beside the
    floor: every derived row read back (zlib and JSON), nothing counted."""
    began = time.perf_counter()
    with sqlite3.connect(path) as db:
        for (body,) in db.execute("SELECT body FROM derived"):
            json.loads(zlib.decompress(body))
    floor = time.perf_counter() - began
    rows = [("floor: every derived row read back", f"{floor:.2f} s")]
    for what, extra in (("JSON on stdout", ["--format", "json"]), ("DIR with charts", None)):
        with tempfile.TemporaryDirectory() as folder:
            arguments = extra or ["--output", folder]
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "wa_tui", "report", str(path), *arguments],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            took = time.perf_counter() - began
        rows.append((f"report, {what} (target < 10 s)", f"{took:.2f} s ({took / floor:.1f}x)"))
    return rows, (took, floor)


def _replay(path: Path) -> dict[str, Any]:
    """Open the recording, jump to 20 random polls, then 20 events on."""
    began = time.perf_counter()
    watcher = ReplayWatcher.open(path)
    watcher.go(0)
    opened = time.perf_counter() - began
    rng = random.Random(7)
    jumps = []
    for _ in range(20):
        began = time.perf_counter()
        watcher.go(rng.randrange(len(watcher)))
        jumps.append(time.perf_counter() - began)
    watcher.go(0)
    events = []
    for _ in range(20):
        began = time.perf_counter()
        event = watcher.event_from(watcher.position, True)
        if event is None:
            break
        watcher.go(event.index)
        events.append(time.perf_counter() - began)
    return {
        "open_s": opened,
        "jumps_s": statistics.median(jumps),
        "open": f"{opened:.2f} s",
        "jumps": _median_worst(jumps),
        "events": _median_worst(events),
        "rss": f"{_rss_mb():.0f} MB",
        "count": str(len(watcher.events)),
    }


def _median_worst(seconds: list[float]) -> str:
    if not seconds:
        return "—"
    return f"{statistics.median(seconds) * 1000:.0f} / {max(seconds) * 1000:.0f} ms"


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
