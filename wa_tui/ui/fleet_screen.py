"""`F`: every deployment at a glance, worst first; the start screen when several are
configured. `enter` opens one's dashboard, `escape` goes back, `/` filters by name.

Rows come from the app's watchers or, with `--prometheus URL`, from what exporters
recorded; the table is brought up to date at most once a second, a row's cells only
when they changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from wa_tui.analysis import Severity
from wa_tui.fleet import FleetRow, summary
from wa_tui.text import visible
from wa_tui.ui.badges import severity_mark

COLUMNS = (
    ("mark", "!"),
    ("name", "Deployment"),
    ("kind", "Kind"),
    ("nodes", "Nodes"),
    ("shards", "Shards"),
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


def cells(row: FleetRow) -> tuple[Text, ...]:
    """One row's cells, in COLUMNS order; server strings made visible."""
    shards = "—" if row.shards_total is None else f"{row.shards_owned}/{row.shards_total}"
    finding = row.top_finding or (visible(row.error, limit=50) if row.error else "")
    return (
        _mark(row),
        Text(visible(row.deployment, limit=40), style="bold"),
        Text(row.kind),
        Text(_number(row.nodes)),
        Text(shards),
        Text(_number(row.sockets_down), style="bold red" if row.sockets_down else ""),
        Text(finding, style="red" if row.state in ("critical", "unreadable") else "yellow"),
        Text(_number(row.callback_queue)),
        Text(
            _number(row.expiry_days, " d"), style="yellow" if (row.expiry_days or 99) < 14 else ""
        ),
        _age(row.age_seconds),
    )


FRESH_SECONDS = 60.0


def _age(seconds: float | None) -> Text:
    """Fresh data says so; older data counts in whole minutes. A cell that ticked every
    second on 200 rows would have the table drawn again every second."""
    if seconds is None:
        return Text("—", style="dim")
    if seconds < FRESH_SECONDS:
        return Text("fresh", style="dim")
    return Text(f"{int(seconds // 60)} min old", style="bold yellow")


def fleet_line(rows: Sequence[FleetRow], source: str) -> Text:
    counts = summary(rows)
    return Text.assemble(
        (" FLEET ", "bold reverse"),
        f" {len(rows)} deployments  ",
        (f"✔ {counts['ok']} OK  ", "green"),
        (f"▲ {counts['warning']} WARNING  ", "yellow"),
        (f"✖ {counts['critical']} CRITICAL  ", "red"),
        (f"? {counts['unreadable']} unreadable", "magenta"),
        (f"  │  {source}", "dim"),
    )


class FleetScreen(Screen[str | None]):
    """Dismissed with the name of the deployment to open, or None (escape)."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("enter", "open", "Open", show=False),
    ]

    def __init__(self, rows: Callable[[], list[FleetRow]], source: str) -> None:
        super().__init__()
        self._rows = rows
        self._source = source
        self._filter = ""
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._order: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="fleet-status")
        yield Input(placeholder="filter by name (escape clears)", id="fleet-filter")
        yield DataTable(id="fleet", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.query_one(Input).display = False
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows)
        table.focus()

    def refresh_rows(self) -> None:
        """Bring the table to the rows now: cells rewritten only where they changed;
        the order (worst first) redone only when it changed."""
        every = sorted(self._rows(), key=lambda row: row.rank)
        wanted = [r for r in every if self._filter.lower() in r.deployment.lower()]
        status = fleet_line(every, self._source)
        self.query_one("#fleet-status", Static).update(status)
        table = self.query_one(DataTable)
        order = [r.deployment for r in wanted]
        if order != self._order:
            self._rebuild(table, wanted)
            return
        for row in wanted:
            made = cells(row)
            before = self._shown.get(row.deployment)
            for (key, _), cell, old in zip(COLUMNS, made, before or made, strict=True):
                if before is None or cell.plain != old.plain or cell.style != old.style:
                    table.update_cell(row.deployment, key, cell)
            self._shown[row.deployment] = made

    def _rebuild(self, table: DataTable, rows: list[FleetRow]) -> None:
        selected = self._order[table.cursor_row] if self._order and table.row_count else None
        table.clear()
        self._shown = {}
        for row in rows:
            made = cells(row)
            table.add_row(*made, key=row.deployment)
            self._shown[row.deployment] = made
        self._order = [row.deployment for row in rows]
        if selected in self._order:
            table.move_cursor(row=self._order.index(selected))

    @property
    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        return self._order[table.cursor_row] if self._order else None

    @on(DataTable.RowSelected, "#fleet")
    def _row_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.selected is not None:
            self.dismiss(self.selected)

    def action_back(self) -> None:
        field = self.query_one(Input)
        if field.display:
            field.value, field.display, self._filter = "", False, ""
            self.query_one(DataTable).focus()
            self.refresh_rows()
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        field = self.query_one(Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#fleet-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._filter = event.value
        self.refresh_rows()

    @on(Input.Submitted, "#fleet-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()
