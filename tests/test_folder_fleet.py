"""`wa-tui --follow DIR`: a recorder's folder as a fleet, read from what it judged."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import StartSimulator
from tests.helpers import record_polls, wait_for
from wa_tui.core import clock
from wa_tui.recording.folder import RecordingsFolder
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.ui.fleet_app import FleetApp
from wa_tui.ui.fleet_screen import FleetScreen, FleetTable, cells


@pytest.fixture
def folder(start_simulator: StartSimulator, tmp_path: Path) -> Path:
    """A recorder's folder: a healthy deployment, one with a socket down (judged by a
    recorder warning 90 days before expiry), and a file that is no recording."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name, scenario, judged_with in (
        ("alpha", "healthy-multiconnect", None),
        ("bravo", "socket-down", {"expiry_warning_days": 90}),
    ):
        server = start_simulator(SCENARIOS[scenario]())
        asyncio.run(record_polls(server, folder / f"{name}.db", 0, judged_with=judged_with))
        with sqlite3.connect(folder / f"{name}.db") as db:  # each named as its file
            db.execute("UPDATE meta SET value = ? WHERE key = 'deployment'", (name,))
    (folder / "notes.db").write_text("not a recording\n" * 50)
    return folder


def _by_name(source: RecordingsFolder) -> dict[str, dict[str, str]]:
    return {row.deployment: {k: c.plain for k, c in cells(row).items()} for row in source.look()}


def test_each_row_is_what_its_recorder_judged(folder: Path) -> None:
    source = RecordingsFolder(folder)
    rows = _by_name(source)
    assert set(rows) == {"alpha", "bravo", "notes"}
    assert rows["alpha"]["mark"] == "✔" and rows["alpha"]["shards"] == "8/8"
    # The recorder's thresholds: BUILD_EXPIRING at 90 days, which a reader's 14 would not.
    assert rows["bravo"]["mark"] == "✖" and rows["bravo"]["finding"] == "SOCKET_DOWN"
    assert rows["bravo"]["expiry"] and "yellow" in str(cells(source.look()[1])["expiry"].style)
    notes = next(row for row in source.look() if row.deployment == "notes")
    assert rows["notes"]["mark"] == "✖" and "not a wa-tui recording" in (notes.error or "")
    assert all(rows[n]["age"] == "fresh" for n in ("alpha", "bravo"))
    assert source.path_of("bravo") == folder / "bravo.db"
    asyncio.run(source.aclose())


def test_a_stopped_recorder_is_said_and_its_age_counted(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = RecordingsFolder(folder)
    source.look()
    later = clock.now_precise() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now_precise", lambda: later)
    monkeypatch.setattr(clock, "now", lambda: later.replace(microsecond=0))
    rows = _by_name(source)
    assert rows["alpha"]["mark"] == "✖" and rows["alpha"]["finding"] == "recorder stopped"
    assert {row.state for row in source.look()} == {"unreadable"}
    assert rows["alpha"]["age"].startswith("stopped · 5 min")
    asyncio.run(source.aclose())


@pytest.mark.slow
async def test_enter_on_a_row_opens_that_deployment(folder: Path) -> None:
    source = RecordingsFolder(folder)
    app = FleetApp(source)
    async with app.run_test(size=(120, 32)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen) and len(app.rows) == 3)
        table = app.screen.query_one(FleetTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        await pilot.pause()
        first = table.selected_key
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == first and source.path_of(first) is not None
