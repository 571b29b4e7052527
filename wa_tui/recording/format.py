"""Recordings: every poll's answers, stored so a replay recomputes exactly what was seen.

The file is SQLite (Python's standard library, readable by any SQLite tool):

- `meta(key, value)`: `format` (4, wa_tui/recording/read_only.py), `wa_tui_version`,
  `deployment`, `url`, `started`; a recorder's `interval`, `heartbeat` and `thresholds`
  (JSON, core/thresholds.py's keys: what it judged with, format 4).
- `blobs(id, digest, body)`: zlib-compressed JSON, stored once by content (SHA-256 of the
  uncompressed bytes): a node's support entry, less its readings (clock, free space), is
  stored again only when it changed; so is a health answer.
- `polls(id, at, received, error, support, readings, health, stats)`: one row a poll, in
  order. `at` is ISO 8601 UTC; `received` the recorder's monotonic clock (rates);
  `error` why the poll failed (then the rest is null); `support` the id of a blob
  `{"meta": ..., "shape": "keyed" | "single", "entries": {node: blob id}}`; `readings`
  zlib JSON `{node: {field: value}}`; `health` a blob id, or a string why there was none;
  `stats` zlib JSON `{path: answer | {"error": why}}`. The readings and stats are each a
  stream compressed against the poll before; every KEYFRAME_EVERY polls one stands alone.
- `derived(poll, body, changes, side)` (format 2): what the watcher made of a good poll, zlib JSON
  `{"findings": [[code, severity, message, nodes, shards]], "vitals": history point, "changes":
  [[seen_at, kind, message, severity, node]], "side": [paths], "check": [line, status]}`
  (`check`, format 3: what `wa-tui check` prints of the poll, as the recorder judged
  it); format 4 makes it the whole judgement, versioned (`"judged": 4`): also
  `"summary"` (model/judgement.py's fields), `"forecasts"` ([[node, what, seconds_left,
  per_second]]) and `"limited_since"` (ISO 8601 or null); every reader shows it, judging
  again only when asked (`--rejudge`), and says so; and `events(poll, at, what)`, the
  polls worth jumping to.
- `newest(id, poll, body)`: one row, replaced with each good poll: that poll's snapshot
  as parsed (zlib JSON of `Snapshot.document()`, wa_tui/model/snapshot.py: each node's
  typed fields, the odd fields found, the readings), masked as its answers are. With the
  poll's `derived` row it is a viewer's first frame, drawn without parsing or judging
  anything again (wa_tui/recording/first_frame.py). Files of older recorders lack it.

A replay opens from these and the polls' times alone, and reads a poll's answers only
when it shows it (starting at the keyframe before it); a report reads them without
reading an answer again. A format-1 file (no `derived`) still opens: it is read whole,
the slow way, and never rewritten.

Every poll is one transaction (WAL journal): a recorder killed at any moment leaves a
file that replays up to its last complete poll. Secrets are masked before they are
written (the screen's rule, wa_tui.core.secrets) and the file is created 0600. Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wa_tui.analysis.accounting import PollFacts, Shape
from wa_tui.analysis.forecast import Forecast
from wa_tui.analysis.vitals import HistoryPoint
from wa_tui.api.endpoints import DB_STATS, SETTINGS, WEBHOOK_CA, WEBHOOK_PROBE
from wa_tui.core.errors import ApiStatusError, RecordingError, SlowAnswer, WAError
from wa_tui.core.text import file_name_of
from wa_tui.model.judgement import (
    Change,
    Finding,
    Summary,
    change_rows,
    changes_of,
    finding_rows,
    findings_of,
)
from wa_tui.recording.read_only import JUDGED
from wa_tui.watch.reader import Judgement, PollResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
    id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS polls (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    received REAL NOT NULL,
    error TEXT,
    support INTEGER REFERENCES blobs(id),
    readings BLOB,
    health TEXT,
    stats BLOB
);
CREATE TABLE IF NOT EXISTS derived (
    poll INTEGER PRIMARY KEY, body BLOB NOT NULL, changes INTEGER NOT NULL, side TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (poll INTEGER PRIMARY KEY, at TEXT NOT NULL, what TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS newest (
    id INTEGER PRIMARY KEY CHECK (id = 1), poll INTEGER NOT NULL, body BLOB NOT NULL
);
"""


def recording_path(folder: Path, deployment: str) -> Path:
    """Where a recorder (`record --dir`) keeps a deployment's recording: its name, any
    character outside `A-Za-z0-9._-` made `_`, in `folder`."""
    return folder / (file_name_of(deployment) + ".db")


POLL_COLUMNS = "id, at, received, error, support, readings, health, stats"


# The answers a poll carries now and then that the reader keeps until the next (the
# settings every 5 minutes, the webhook's CA, a probe): a replay moving in time reads the
# last of each before the poll it shows.
SIDE_PATHS = (SETTINGS, WEBHOOK_CA, WEBHOOK_PROBE)


# And the database's stats, read once a minute: their gauges and counters carry over the
# polls between. `derived` says which of these a poll carried.
CARRIED_PATHS = (*SIDE_PATHS, DB_STATS)


@dataclass(frozen=True)
class Derived:
    """What the watcher made of one good poll, as recorded."""

    findings: tuple[Finding, ...]
    vitals: HistoryPoint | None  # what the vitals' history keeps of it
    changes: tuple[Change, ...]
    side: tuple[str, ...]  # which of CARRIED_PATHS the poll carried
    shape: Shape | None  # None in a recording made before shapes were kept
    summary: Summary | None = None  # None before format 4 (then made of the findings)
    forecasts: tuple[Forecast, ...] | None = None  # None before format 4
    limited_since: datetime | None = None
    judged: int = 3  # the judgement document's version

    def facts(self, at: datetime) -> PollFacts:
        """What an account reads of the poll."""
        return PollFacts(at, self.shape, self.findings, self.vitals)

    @property
    def judgement(self) -> Judgement:
        """How the recorder judged the poll, as a reader shows it."""
        return Judgement(
            self.findings,
            self.summary,
            self.forecasts,
            self.limited_since,
            whole=self.judged >= JUDGED,
        )


def derived_document(result: PollResult) -> dict[str, Any]:
    answers, facts = result.answers, result.facts
    limited = result.limited_since
    return {
        "judged": JUDGED,
        "findings": finding_rows(result.findings),
        "vitals": facts.vitals,
        "changes": change_rows(result.changes),
        "side": [p for p in CARRIED_PATHS if answers is not None and p in answers.stats],
        "shape": facts.shape.document() if facts.shape else None,
        "summary": result.summary.document() if result.summary else None,
        "forecasts": [f.document() for f in result.forecasts],
        "limited_since": limited.isoformat() if limited else None,
    }


def derived_of(document: Mapping[str, Any]) -> Derived:
    """A `derived` body read back (RecordingError: it is not one this wa-tui can read)."""
    try:
        return _derived_of(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecordingError(f"a poll's judgement cannot be read ({type(exc).__name__})") from None


def _derived_of(document: Mapping[str, Any]) -> Derived:
    judged = int(document.get("judged", 3))
    summary, forecasts, limited = document.get("summary"), document.get("forecasts"), None
    if judged >= JUDGED and document.get("limited_since"):
        limited = datetime.fromisoformat(document["limited_since"])
    return Derived(
        findings_of(document["findings"]),
        document.get("vitals"),
        changes_of(document["changes"]),
        tuple(document.get("side", ())),
        Shape.from_document(shape) if (shape := document.get("shape")) else None,
        Summary.from_document(summary) if summary else None,
        None if forecasts is None else tuple(Forecast.from_document(f) for f in forecasts),
        limited,
        judged,
    )


def error_document(error: WAError) -> dict[str, Any]:
    document: dict[str, Any] = {
        "message": str(error),
        "status": error.status if isinstance(error, ApiStatusError) else None,
    }
    if isinstance(error, ApiStatusError) and error.limited:
        document["limited"] = True
    if isinstance(error, SlowAnswer):
        document["slow"] = True
    return document
