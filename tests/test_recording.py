"""Recording and replay: a simulator's story recorded over real TCP, read back, replayed
through the dashboard; a recorder killed with SIGKILL; secrets never written."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import (
    SECRETS,
    SIZE,
    every_poll,
    plain,
    record_polls,
    recorded_polls,
    row_texts,
    target_for,
    wait_for,
)
from wa_tui.api.endpoints import DB_STATS
from wa_tui.core import clock
from wa_tui.core.errors import RecordingError
from wa_tui.model.snapshot import Role
from wa_tui.recording.reader import RecordingFile
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.recording.writer import Recorder, recording_consumer
from wa_tui.simulator import SimDeployment, SimulatorServer, demo_story
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.ui.replay_app import ReplayApp
from wa_tui.watch.watcher import Watcher


@pytest.fixture
def story_server(start_simulator: StartSimulator) -> SimulatorServer:
    deployment = SimDeployment.multiconnect(8, spares=2)
    return start_simulator(deployment, story=demo_story(deployment), step_seconds=3600)


def _to_event(watcher: ReplayWatcher, forward: bool) -> bool:
    """`}` (or `{`), as the replay app moves: to the next (previous) event, if any."""
    event = watcher.event_from(watcher.position, forward)
    if event is not None:
        watcher.go(event.index)
    return event is not None


def _primary(watcher: ReplayWatcher) -> str:
    assert watcher.snapshot is not None
    return watcher.snapshot.with_role(Role.PRIMARY_MASTER)[0].id


@pytest.mark.slow
async def test_a_recorded_story_replays_its_failover_both_ways(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "story.db"
    await record_polls(story_server, path, steps=14)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    watcher = ReplayWatcher.open(path)
    assert len(watcher) == 15 and watcher.recording.stopped is None
    watcher.go(0)
    first_primary = _primary(watcher)
    while _to_event(watcher, forward=True) and _primary(watcher) == first_primary:
        pass
    failover = watcher.position
    assert _primary(watcher) != first_primary, "} never reached the failover"
    assert any("role changed" in c.kind.value for c in watcher.changes)
    _to_event(watcher, forward=False)
    assert watcher.position < failover
    assert _primary(watcher) == first_primary  # the roles as they were then
    await watcher.aclose()


def test_nothing_secret_is_written(story_server: SimulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "secret.db"
    asyncio.run(record_polls(story_server, path, steps=2))
    with sqlite3.connect(path) as db:
        bodies = [zlib.decompress(b).decode() for (b,) in db.execute("SELECT body FROM blobs")]
    recording = RecordingFile(path)
    for poll in map(recording.poll, range(len(recording))):
        assert poll.answers is not None
        bodies += [poll.answers.support.decode(), *map(repr, poll.answers.stats.values())]
    text = "\n".join(bodies) + path.read_bytes().decode("latin-1")
    assert "WA_DB_PASSWORD=••••••" in text
    assert not any(secret in text for secret in SECRETS)


def test_unchanged_entries_are_stored_once(story_server: SimulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "steady.db"
    story_server.story = None
    asyncio.run(record_polls(story_server, path, steps=0))
    with sqlite3.connect(path) as db:
        blobs_after_one = db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]

    async def more() -> None:
        recorder = Recorder(path, "demo", story_server.url)
        async with Watcher(target_for(story_server)) as watcher:
            watcher.subscribe(recording_consumer(recorder), finish=True)
            for _ in range(5):
                await watcher.poll()
            await asyncio.sleep(0.3)
        recorder.close()

    asyncio.run(more())
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM polls").fetchone()[0] == 6
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == blobs_after_one


@pytest.mark.slow
def test_a_recorder_killed_mid_poll_leaves_a_file_that_replays(
    simulator: SimulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "killed.db"
    env = dict(os.environ, WA_TUI_USERNAME=simulator.username, WA_TUI_PASSWORD=simulator.password)
    command = [sys.executable, "-m", "wa_tui", "record", str(path), "--url", simulator.url]
    recorder = subprocess.Popen(
        [*command, "--interval", "0.05"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert recorder.stdout is not None and "recording" in recorder.stdout.readline()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.exists() and sum(recorded_polls(path)) >= 10:
                break
            time.sleep(0.05)
        os.kill(recorder.pid, signal.SIGKILL)
    finally:
        recorder.wait(timeout=10)
    watcher = ReplayWatcher.open(path)
    assert len(watcher) >= 10 and watcher.recording.stopped is None
    watcher.go(len(watcher) - 1)
    assert watcher.snapshot is not None and len(watcher.snapshot.nodes) == 12
    asyncio.run(watcher.aclose())


def test_a_damaged_file_replays_what_is_readable(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "damaged.db"
    asyncio.run(record_polls(story_server, path, steps=5))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE polls SET readings = x'00ff' WHERE id = 4")
    watcher = ReplayWatcher.open(path)
    watcher.go(2)
    assert watcher.snapshot is not None and watcher.status.error is None
    watcher.go(3)  # shown as the poll that cannot be read; the last good data stays
    assert "poll 4 is damaged (ValueError)" in str(watcher.status.error)
    assert watcher.snapshot is not None
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RecordingError, match="not a wa-tui recording"):
        ReplayWatcher.open(garbage)


@pytest.mark.slow
async def test_replay_on_the_dashboard(story_server: SimulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "screen.db"
    await record_polls(story_server, path, steps=14)
    watcher = ReplayWatcher.open(path)
    app = ReplayApp(watcher)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: watcher.position == 0 and len(row_texts(app)) == 12)
        status = app.query_one("#status")
        await wait_for(pilot, lambda: "poll 1/15" in str(status.content))
        assert "REPLAY" in str(status.content)
        first = row_texts(app)[0]["id"]
        for _ in range(10):  # } event by event, until the failover
            await pilot.press("right_curly_bracket")
            await pilot.pause()
            if row_texts(app)[0]["id"] != first:
                break
        assert row_texts(app)[0]["id"] != first, "} never reached the failover"
        assert row_texts(app)[0]["role"] == "★ primary"
        await pilot.press("left_curly_bracket")
        await wait_for(pilot, lambda: row_texts(app)[0]["id"] == first)
        await pilot.press("plus", "plus", "plus", "plus", "plus")
        assert watcher.speed == 60
        await pilot.press("minus", "minus")
        assert watcher.speed == 10
        await pilot.press("space")  # at 10x, to the end
        await wait_for(pilot, lambda: watcher.position == len(watcher) - 1, 20)
        await wait_for(pilot, lambda: "poll 15/15" in str(app.query_one("#status").content))


def test_keep_drops_the_oldest_polls_and_what_stays_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from wa_tui.api.answers import Answers
    from wa_tui.api.endpoints import APP_STATS
    from wa_tui.recording import codec

    monkeypatch.setattr(codec, "KEYFRAME_EVERY", 10)
    deployment = SimDeployment.multiconnect(2)
    path = tmp_path / "kept.db"
    recorder = Recorder(path, "kept", "http://127.0.0.1:1", keep_seconds=60)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    for poll in range(60):
        at = start + timedelta(seconds=5 * poll)
        support = json.dumps(deployment.support_payload()).encode()
        health = json.dumps(deployment.health_payload()).encode()
        stats = {APP_STATS: json.dumps(deployment.app_stats_payload()).encode()}
        recorder.record(at, 5.0 * poll, Answers(support, health, at, None, stats, 5.0 * poll), None)
    recorder.close()
    kept = every_poll(path)  # none damaged
    assert 12 <= len(kept) < 12 + 10  # a minute at 5 s, from the keyframe before it
    assert kept[-1].at == start + timedelta(seconds=5 * 59)
    watcher = ReplayWatcher.open(path)
    assert watcher.recording.indexed  # what the recorder derived was pruned with the polls
    watcher.go(len(watcher) - 1)
    assert watcher.snapshot is not None and len(watcher.snapshot.nodes) == 6
    asyncio.run(watcher.aclose())


@pytest.mark.slow
async def test_replay_shows_the_change_log_as_it_was(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    from wa_tui.ui.event_log import EventLog

    path = tmp_path / "log.db"
    await record_polls(story_server, path, steps=14)
    watcher = ReplayWatcher.open(path)
    app = ReplayApp(watcher)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(EventLog)
        await wait_for(pilot, lambda: watcher.position == 0)
        watcher.go(len(watcher) - 1)
        await wait_for(pilot, lambda: len(log.plain_lines()) >= len(watcher.changes) > 0)
        shown_at_end = len(log.plain_lines())
        watcher.go(0)
        await wait_for(pilot, lambda: log.plain_lines() == [])  # nothing had changed yet
        watcher.go(len(watcher) - 1)
        await wait_for(pilot, lambda: len(log.plain_lines()) == shown_at_end)  # not twice


@pytest.mark.slow
async def test_replay_help_and_palette_list_the_dashboard_keys_too(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    from textual.command import CommandPalette

    from tests.helpers import screen_text
    from wa_tui.keys import DASHBOARD, REPLAY

    path = tmp_path / "keys.db"
    await record_polls(story_server, path, steps=2)
    app = ReplayApp(ReplayWatcher.open(path))
    async with app.run_test(size=(160, 70)) as pilot:
        await pilot.press("question_mark")
        shown = screen_text(app)
        for key in (*REPLAY, *DASHBOARD):
            assert key.description in shown, key.id
        await pilot.press("escape")
        commands = {c.title for c in app.get_system_commands(app.screen)}
        for said in ("Events", "Vitals", "Copy node", "Screenshot", "Bundle", "Fleet", "Jump"):
            assert said in commands
        assert "Refresh" not in commands and "Pause" not in commands  # nothing to poll
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)


@pytest.mark.slow
def test_recordings_are_read_replayed_and_bundled_without_the_http_client(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "light.db"
    asyncio.run(record_polls(story_server, path, steps=2))
    code = (
        "import sys; from pathlib import Path\n"
        "from wa_tui.recording.bundle import handover_of, write_bundle\n"
        "from wa_tui.recording.replay import ReplayWatcher\n"
        f"watcher = ReplayWatcher.open(Path({str(path)!r}))\n"
        "watcher.go(len(watcher) - 1)\n"
        f"write_bundle(handover_of(watcher), Path({str(tmp_path / 'b.tgz')!r}))\n"
        "heavy = ('httpx', 'aiohttp', 'textual')\n"
        "print(len(watcher), sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["3", "[]"], done.stderr


def _seen(watcher: ReplayWatcher) -> tuple[object, ...]:
    """What the dashboard would show of the poll on screen."""
    findings = tuple((f.code, f.severity, f.message) for f in watcher.findings)
    vitals = watcher.vitals.latest
    history = {name: list(points) for name, points in watcher.vitals.history.items()}
    changes = [(c.kind, c.message) for c in watcher.changes]
    return (watcher.summary, findings, vitals.callback_queue if vitals else None, history, changes)


@pytest.mark.slow
async def test_a_poll_reached_by_a_jump_shows_what_playing_up_to_it_showed(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    """Moving anywhere reads two polls and restores the rest from what the recorder wrote:
    every poll so reached shows what playing through the recording showed, and what the
    live watcher raised (the recorder wrote its findings)."""
    path = tmp_path / "story.db"
    await record_polls(story_server, path, steps=16, db_stats_every=0.2)  # every few polls
    played = ReplayWatcher.open(path)
    assert played.recording.indexed
    carried = [i for i in range(len(played)) if DB_STATS in played.recording.derived(i).side]
    assert 3 <= len(carried) < len(played) - 3  # so jumps start between them
    seen = []
    for index in range(len(played)):
        played.go(index)
        seen.append(_seen(played))
        recorded = played.recording.derived(index)
        assert recorded is not None
        assert [f.code for f in recorded.findings] == [f.code for f in played.findings]
    for index in reversed(range(len(played))):  # each one a jump (backwards: never "next")
        jumped = ReplayWatcher.open(path)
        jumped.go(index)
        assert _seen(jumped) == seen[index], f"poll {index}"


@pytest.mark.slow
async def test_a_recording_of_the_first_format_opens_the_slow_way(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "story.db"
    await record_polls(story_server, path, steps=14)
    fast = ReplayWatcher.open(path)
    seen = {}
    for index in (14, 3, 9):
        fast.go(index)
        seen[index] = _seen(fast)
    fast.recording.close()
    with sqlite3.connect(path) as db:  # what a format-1 recorder wrote
        db.execute("DROP TABLE derived")
        db.execute("DROP TABLE events")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    read = []
    slow = ReplayWatcher.open(path, progress=lambda done, total: read.append((done, total)))
    assert not slow.recording.indexed and read and read[0] == (0, 15)
    assert slow.events == fast.events and len(slow.events) >= 3
    for index in (14, 3, 9):
        slow.go(index)
        assert _seen(slow) == seen[index]
    from wa_tui.recording.bundle import handover_of, write_bundle

    slow.go(len(slow) - 1)  # a bundle of it: its minutes recorded again, as format 2
    bundle = write_bundle(handover_of(slow), tmp_path / "handed.tar.gz")
    with tarfile.open(bundle) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("recording.db"))
        (tmp_path / "handed.db").write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
    handed = ReplayWatcher.open(tmp_path / "handed.db")
    assert handed.recording.indexed and len(handed) == 15


@pytest.mark.slow
async def test_a_replay_shows_the_expiry_its_polls_saw(
    start_simulator: StartSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded 30 days ago, when the build had 3 days left: replayed today, the detail,
    the summary and the finding still say 3 days, not 27 days past."""
    path = tmp_path / "month-old.db"
    real_now = clock.now
    with monkeypatch.context() as then:
        then.setattr(clock, "now", lambda: real_now() - timedelta(days=30))
        server = start_simulator(SCENARIOS["build-expiring"]())
        await record_polls(server, path, steps=0)
    watcher = ReplayWatcher.open(path)
    app = ReplayApp(watcher)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: watcher.position == 0 and len(row_texts(app)) == 12)
        assert watcher.summary is not None and watcher.summary.expires_at is not None
        assert watcher.summary.expires_at < real_now()  # long past, today
        assert watcher.summary.days_to_expiry == pytest.approx(3, abs=0.1)
        detail = plain(app.query_one("#detail-body"))
        assert "in 3 days" in detail and "EXPIRED" not in detail
        codes = {f.code for f in watcher.findings}
        assert "BUILD_EXPIRING" in codes and "BUILD_EXPIRED" not in codes


@pytest.mark.slow
async def test_keys_in_a_burst_seek_on_from_each_other_and_the_newest_wins(
    story_server: SimulatorServer, tmp_path: Path
) -> None:
    """`]` five times in one read (slow SSH) lands five polls on, each seek read in a
    thread while the keys keep coming; `[` twice then goes back two."""
    path = tmp_path / "burst.db"
    await record_polls(story_server, path, steps=8)
    watcher = ReplayWatcher.open(path)
    app = ReplayApp(watcher)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: watcher.position == 0 and len(row_texts(app)) == 12)
        await pilot.press(*["right_square_bracket"] * 5)
        await wait_for(pilot, lambda: watcher.position == 5 and watcher.heading is None)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: watcher.position == 3 and watcher.heading is None)
        assert "poll 4/9" in str(app.query_one("#status").content)


@pytest.mark.slow
def test_max_size_keeps_the_file_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--max-size prunes by the pages in use: what it frees takes the next polls (no
    VACUUM, which needs as much free space as the file): the file stops growing, and
    what stays replays."""
    import json
    from datetime import UTC, datetime, timedelta

    from wa_tui.api.answers import Answers
    from wa_tui.recording import codec

    monkeypatch.setattr(codec, "KEYFRAME_EVERY", 10)
    deployment = SimDeployment.multiconnect(8)
    path = tmp_path / "bounded.db"
    recorder = Recorder(path, "bounded", "http://127.0.0.1:1", max_bytes=300_000)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    sizes = []
    for poll in range(400):
        at = start + timedelta(seconds=5 * poll)
        for node in deployment.nodes.values():  # every entry changes: new blobs a poll
            node.registration_id = poll
        support = json.dumps(deployment.support_payload()).encode()
        health = json.dumps(deployment.health_payload()).encode()
        recorder.record(at, 5.0 * poll, Answers(support, health, at, None, {}, 5.0 * poll), None)
        sizes.append(path.stat().st_size)
    recorder.close()
    assert max(sizes[200:]) == max(sizes[300:])  # it stopped growing
    kept = every_poll(path)  # none damaged
    assert 10 < len(kept) < 400
    assert kept[-1].at == start + timedelta(seconds=5 * 399)
