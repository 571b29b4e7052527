"""6. Recording: a 36-node deployment (32 shards, 2 masters, 2 spares) polled every 5 s
for 24 hours of simulated time, its logs growing and its counters moving, its stats
and metrics read with every poll: size on disk and the recorder's CPU per poll, against
the same answers each compressed whole with zlib (what "save every answer" would take),
in the same run.

Simulated time: the answers come straight from the simulator's deployment (no HTTP),
its clock moved 5 s per poll, so a day takes a minute or two."""

from __future__ import annotations

import json
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from benchmarks.common import deployment, report
from wa_tui.answers import Answers
from wa_tui.endpoints import APP_STATS, DB_STATS, METRICS
from wa_tui.recording import Recorder, read_recording

INTERVAL = 5.0
HOURS = float(sys.argv[1]) if len(sys.argv) > 1 else 24.0
TARGET_BYTES = 50 * 10**6


def main() -> None:
    polls = int(HOURS * 3600 / INTERVAL)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    seconds = [0.0]
    with (
        mock.patch("wa_tui.clock.monotonic", lambda: seconds[0]),
        mock.patch("wa_tui.clock.now", lambda: start + timedelta(seconds=seconds[0])),
        tempfile.TemporaryDirectory() as directory,
    ):
        served = deployment(36).go_live()
        path = Path(directory) / "day.db"
        recorder = Recorder(path, "bench", "http://127.0.0.1:1")
        recording_cpu = whole_bytes = 0.0
        for poll in range(polls):
            seconds[0] = poll * INTERVAL
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
            began = time.process_time()
            recorder.record(answers.fetched_at, seconds[0], answers, None)
            recording_cpu += time.process_time() - began
            whole_bytes += sum(len(zlib.compress(body, 6)) for body in bodies.values())
        recorder.close()
        size = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob("day.db-*") if p.exists()
        )
        began = time.perf_counter()
        replayable = len(read_recording(path).polls)
        reading = time.perf_counter() - began
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
            ("reading it all back", f"{reading:.1f} s for {replayable:,} polls"),
        ],
    )


if __name__ == "__main__":
    main()
