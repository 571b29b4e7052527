"""`F`: every deployment at a glance, worst first; the start screen when several are
configured. `enter` opens one's dashboard, `escape` goes back, `/` filters by name.

Rows come from the app's watchers or, with `--prometheus URL`, from what exporters
recorded; the table (a line-API table, ui/line_table.py) is brought up to date once a
second, and only the rows whose cells changed are drawn again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input

from wa_tui.core.freshness import FRESH, LATE, STOPPED
from wa_tui.core.text import visible
from wa_tui.keys import FLEET, FLEET_LIST
from wa_tui.model.judgement import Severity
from wa_tui.outputs.fleet import FleetRow, state_counts
from wa_tui.ui.badges import severity_mark
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.line_table import LineTable
from wa_tui.ui.redraw import Block

COLUMNS = (
    ("mark", "!"),
    ("name", "Deployment"),
    ("kind", "Kind"),
    ("nodes", "Nodes"),
    ("shards", "Shards"),
    ("shards_down", "Shards down"),
    ("down", "Sockets down"),
    ("finding", "Top finding"),
    ("queue", "Callback queue"),
    ("expiry", "Expires in"),
    ("age", "Data age"),
)


def _mark(row: FleetRow) -> Text:
    if row.state == "waiting":
        return Text("…", style="dim")
    if row.severity is None or row.severity is Severity.INFO:
        return Text("✔", style="green")
    return severity_mark(row.severity)


def _number(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.0f}{suffix}"


def _expiry_cell(row: FleetRow) -> Text:
    """Days to the first build's expiry as its poll counted them; yellow when the
    deployment's own finding says so (its thresholds)."""
    return Text(_number(row.days_to_expiry, " d"), style="yellow" if row.expiry_warned else "")


# How each word of core/freshness.py reads in the fleet.
AGE_STYLES = {FRESH: "dim", LATE: "bold yellow", STOPPED: "bold red"}


def _age_said(row: FleetRow) -> tuple[str, str]:
    """The word for its data's age, and its style; a stopped source's age in whole
    minutes (a cell that ticked every second would be drawn again every second,
    hundreds of rows)."""
    age = row.freshness()
    if age is None or age.age is None:
        return "—", "dim"
    said = age.word
    if age.stopped:
        said += f" · {int(age.age // 60)} min" if age.age >= 60 else " · <1 min"
    return said, AGE_STYLES[age.word]


def _age_cell(row: FleetRow) -> Text:
    return Text(*_age_said(row))


def cells(row: FleetRow) -> dict[str, Text]:
    """One row's cells, by column key; server strings made visible."""
    shards = "—" if row.shards_total is None else f"{row.shards_owned}/{row.shards_total}"
    finding = row.top_finding or (visible(row.error, limit=50) if row.error else "")
    return {
        "mark": _mark(row),
        "name": Text(visible(row.deployment, limit=40), style="bold"),
        "kind": Text(row.kind),
        "nodes": Text(_number(row.nodes)),
        "shards": Text(shards),
        "shards_down": Text(_number(row.shards_down), style="bold red" if row.shards_down else ""),
        "down": Text(_number(row.sockets_down), style="bold red" if row.sockets_down else ""),
        "finding": Text(
            finding, style="red" if row.state in ("critical", "unreadable") else "yellow"
        ),
        "queue": Text(_number(row.callback_queue)),
        "expiry": _expiry_cell(row),
        "age": _age_cell(row),
    }


def _shown(row: FleetRow) -> tuple[object, ...]:
    """What a row's cells show, cheap to compare: the row (the very same object while
    its deployment was not read again), and what the clock moves as its cells say it
    (the age grows every second; its cell changes a few times, then once a minute)."""
    return (row, _age_said(row))


def fleet_line(rows: Sequence[FleetRow], source: str) -> Text:
    counts = state_counts(rows)
    return Text.assemble(
        (" FLEET ", "bold reverse"),
        f" {len(rows)} deployments  ",
        (f"✔ {counts['ok']} OK  ", "green"),
        (f"▲ {counts['warning']} WARNING  ", "yellow"),
        (f"✖ {counts['critical']} CRITICAL  ", "red"),
        (f"? {counts['unreadable']} unreadable", "magenta"),
        (f"  │  {source}", "dim"),
    )


# Below this many columns the table keeps what says what is wrong, under short labels.
WIDE_WIDTH = 120
NARROW_HIDDEN = ("kind", "nodes", "shards")


class FleetTable(LineTable):
    """One row per deployment, keyed by its name."""

    COLUMNS = COLUMNS
    SHORT_LABELS: ClassVar[dict[str, str]] = {
        "shards_down": "Shards↓",
        "down": "Down",
        "queue": "Queue",
        "expiry": "Expires",
        "age": "Age",
    }
    BINDINGS: ClassVar[list[BindingType]] = bindings(FLEET_LIST)

    def set_narrow(self, narrow: bool) -> bool:
        """Fewer columns and short labels, or all of them; True if that changed (the
        rows are then made again at the next `show`)."""
        return self.set_variant(
            tuple(key for key, _ in COLUMNS if not (narrow and key in NARROW_HIDDEN)), narrow
        )

    def show(self, rows: Sequence[FleetRow]) -> None:
        """Bring the table to `rows`, in their order; only rows whose cells changed are
        drawn again."""
        changed = [row.deployment for row in rows if self._put_row(row)]
        self.arrange_rows([row.deployment for row in rows], changed)

    def _put_row(self, row: FleetRow) -> bool:
        shown = _shown(row)
        return self.put(row.deployment, shown, lambda: shown, lambda: cells(row))


class FleetScreen(DismissOnce, Screen[str | None]):
    """Dismissed with the name of the deployment to open, or None (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(FLEET)
    HELP_GROUPS = (("Fleet", FLEET), ("Deployment list", FLEET_LIST))

    def __init__(self, rows: Callable[[], list[FleetRow]], source: str) -> None:
        super().__init__()
        self._rows = rows
        self._source = source
        self._filter = ""
        # Made here, not queried: a key or a tick may come while the screen is still
        # being composed or already taken down (`F q` in one read).
        self._status = Block(id="fleet-status")
        self._status_said = ""
        self._field = Input(placeholder="filter by name (escape clears)", id="fleet-filter")
        self._table = FleetTable(id="fleet")

    def compose(self) -> ComposeResult:
        yield self._status
        yield self._field
        yield self._table
        yield Footer()

    def on_mount(self) -> None:
        self._field.display = False
        self._table.set_narrow(self.app.size.width < WIDE_WIDTH)
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows)
        self.set_focus(self._table)

    def on_resize(self) -> None:
        # The terminal's width, not the event's: a late Resize may carry an old size.
        if self._table.set_narrow(self.app.size.width < WIDE_WIDTH):
            self.refresh_rows()

    def refresh_rows(self) -> None:
        """Bring the status line and the table to the rows now, worst first."""
        every = sorted(self._rows(), key=lambda row: row.rank)
        wanted = [r for r in every if self._filter.lower() in r.deployment.lower()]
        line = fleet_line(every, self._source)
        if line.plain != self._status_said:  # asked every second: repainted on a change
            self._status_said = line.plain
            self._status.update(line, layout=False)  # one line, always
        self._table.show(wanted)

    @property
    def selected(self) -> str | None:
        return self._table.selected_key

    @on(FleetTable.Selected, "#fleet")
    def _row_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.selected is not None:
            self.dismiss_once(self.selected)

    def action_back(self) -> None:
        field = self._field
        if field.display:
            field.value, field.display, self._filter = "", False, ""
            self.set_focus(self._table)
            self.refresh_rows()
            return
        self.dismiss_once(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # in the filter, `/` is a character like any other
            return not self._field.has_focus
        return True

    def action_filter(self) -> None:
        field = self._field
        field.display = True
        # At once (Widget.focus waits for a refresh): the letters typed in the same
        # read as `/` are the filter's.
        self.set_focus(field)

    @on(Input.Changed, "#fleet-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._filter = event.value
        self.refresh_rows()

    @on(Input.Submitted, "#fleet-filter")
    def _filter_done(self) -> None:
        self.set_focus(self._table)
