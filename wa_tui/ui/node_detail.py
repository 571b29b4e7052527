"""The detail pane: everything one host:container reported, as readable sections.

Every field the node sent appears exactly once: the documented ones in their sections,
everything else (unknown fields included) under "Other fields". Values are server data:
they are drawn as `Text`, control characters made visible, secrets masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from wa_tui.core.secrets import mask_tree
from wa_tui.core.text import exact_duration, human_bytes, visible
from wa_tui.keys import DETAIL
from wa_tui.model.snapshot import FREE_SPACE_FIELDS, DeploymentKind, Node, Role, Snapshot
from wa_tui.ui.badges import gateway_badge, role_badge, shards_label, socket_badge
from wa_tui.ui.bindings import bindings
from wa_tui.ui.poll_view import PollView
from wa_tui.ui.redraw import Block, SizedStatic

if TYPE_CHECKING:
    from wa_tui.analysis.webhook import WebhookView

VALUE_LIMIT = 400
SKEW_TOLERANCE = 5.0  # seconds; less is "in sync"

OVERVIEW_FIELDS = (
    "role",
    "shards",
    "socket_conn",
    "debug_info",
    "description",
    "version",
    "expire_timestamp",
    "multi_connect",
    "device_iso8601",
)
SECTIONED = {*OVERVIEW_FIELDS, *FREE_SPACE_FIELDS, "schema", "e2e", "env", "db_engine", "db_info"}


def _value(value: Any) -> Text:
    """A value already masked (see render_node) as one safe line."""
    if isinstance(value, str):
        return Text(visible(value, limit=VALUE_LIMIT))
    return Text(visible(json.dumps(value, ensure_ascii=False, default=str), limit=VALUE_LIMIT))


def _grid(rows: Iterable[tuple[str, Text]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in rows:
        grid.add_row(Text(visible(key, limit=28)), value)
    return grid


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _expiry(node: Node, snapshot: Snapshot, raw_entry: Mapping[str, Any], warned: bool) -> Text:
    """The build's expiry, and the days to it from the poll's own time (a replay shows
    what its poll saw); yellow when a finding raised it (the deployment's thresholds)."""
    days = snapshot.days_to_expiry(node)
    raw = _value(raw_entry.get("expire_timestamp"))
    if days is None:
        return raw
    if days < 0:
        return raw.append(f"  EXPIRED {-days:.0f} days ago", style="bold white on red")
    return raw.append(f"  in {days:.0f} days", style="yellow" if warned else "dim")


def _overview(node: Node, snapshot: Snapshot, raw: Mapping[str, Any], warned: bool) -> Table:
    rows = [
        ("host", Text(visible(node.host or "—"))),
        ("container", Text(visible(node.container or "—"))),
        ("role", role_badge(node, snapshot.kind)),
        ("shards", Text(shards_label(node.shards))),
        ("socket", socket_badge(node)),
        ("gateway", gateway_badge(node)),
        ("phone", _value(raw.get("debug_info", "—"))),
        ("build", _value(raw.get("description", "—"))),
        ("version", _value(raw.get("version", "—"))),
        ("expires", _expiry(node, snapshot, raw, warned)),
        ("multiconnect", _value(raw.get("multi_connect", "—"))),
        ("node clock", node_clock(node, snapshot)),
    ]
    return _grid(rows)


def node_clock(node: Node, snapshot: Snapshot) -> Text:
    """The node's clock against ours when it answered: skew is what matters on call
    (tokens, TLS, logs), and unlike the raw time it does not change every second."""
    skew = snapshot.clock_skew(node, snapshot.fetched_at)
    if skew is None:
        return _value(snapshot.node_clock(node, "—"))
    if abs(skew) < SKEW_TOLERANCE:
        return Text("in sync", style="dim")
    direction = "ahead" if skew > 0 else "behind"
    return Text(f"{exact_duration(abs(skew))} {direction}", style="yellow")


def _mapping_section(title: str, value: Any) -> list[RenderableType]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [_heading(title), _grid([("(value)", _value(value))])]
    return [_heading(title), _grid((str(k), _value(v)) for k, v in value.items())]


def _env_section(env: Any) -> list[RenderableType]:
    if env is None:
        return []
    if not isinstance(env, list):
        return [_heading("Env"), _value(env)]
    lines = Text("\n").join(Text(visible(str(e), limit=VALUE_LIMIT)) for e in env)
    return [_heading(f"Env ({len(env)})"), lines]


def _database_section(raw: Mapping[str, Any]) -> list[RenderableType]:
    if "db_engine" not in raw and "db_info" not in raw:
        return []
    info = raw.get("db_info")
    rows = [("engine", _value(raw.get("db_engine", "—")))]
    if isinstance(info, list):
        rows += [(f"info[{i}]", _value(item)) for i, item in enumerate(info)]
    elif info is not None:
        rows.append(("info", _value(info)))
    return [_heading("Database"), _grid(rows)]


def _free_space(raw: Mapping[str, Any]) -> tuple[tuple[str, Text], ...]:
    """Free space as shown: in binary units (so a few KiB more logs change nothing)."""
    return tuple(
        (
            field.removeprefix("free_space_"),
            Text(human_bytes(raw[field])) if isinstance(raw[field], int) else _value(raw[field]),
        )
        for field in FREE_SPACE_FIELDS
        if field in raw
    )


def _disk_section(raw: Mapping[str, Any]) -> list[RenderableType]:
    rows = _free_space(raw)
    return [_heading("Free space"), _grid(rows)] if rows else []


def _errors_section(node: Node, snapshot: Snapshot) -> list[RenderableType]:
    lines = [Text(visible(e.summary(), limit=VALUE_LIMIT), style="red") for e in node.errors]
    problems = snapshot.problems(node)
    lines += [Text(visible(p, limit=VALUE_LIMIT), style="yellow") for p in problems]
    return [_heading("Errors and odd fields"), *lines] if lines else []


def _other_section(raw: Mapping[str, Any], health: Mapping[str, Any]) -> list[RenderableType]:
    rest = [(str(k), _value(v)) for k, v in raw.items() if k not in SECTIONED]
    rest += [(f"health.{k}", _value(v)) for k, v in health.items()]
    return [_heading("Other fields"), _grid(rest)] if rest else []


def holds_settings(node: Node, snapshot: Snapshot) -> bool:
    """The node whose detail shows the deployment's settings: the primary master (the
    node, for a single deployment). Every node shares them: they live in the database."""
    return snapshot.kind is DeploymentKind.SINGLE or node.role == Role.PRIMARY_MASTER


def _settings_section(webhook: WebhookView | None) -> list[RenderableType]:
    if webhook is None or (webhook.settings is None and webhook.note is None):
        return []
    if webhook.settings is None:
        return [_heading("Settings"), Text(visible(webhook.note or ""), style="dim")]
    rows = [(label, Text(value)) for label, value in webhook.settings.rows()]
    if webhook.probe is not None:
        rows.append(("probe", Text(visible(webhook.probe.summary(), limit=200))))
    return [_heading("Settings (every node shares them; W: the webhook)"), _grid(rows)]


def render_node(
    node: Node,
    snapshot: Snapshot,
    reveal: bool = False,
    webhook: WebhookView | None = None,
    expiry_warned: bool = False,
) -> RenderableType:
    """Every field of `node`; secret-looking values masked unless `reveal`; the
    deployment's settings under the node that `holds_settings`."""
    raw = mask_tree(snapshot.raw(node), reveal=reveal)
    health = mask_tree(asdict(node.health) if node.health else {}, reveal=reveal)
    assert isinstance(raw, dict) and isinstance(health, dict)
    return Group(
        Text(visible(node.id, limit=120), style="bold reverse"),
        _overview(node, snapshot, raw, expiry_warned),
        *_errors_section(node, snapshot),
        *_settings_section(webhook if holds_settings(node, snapshot) else None),
        *_mapping_section("Schema", raw.get("schema")),
        *_mapping_section("E2E", raw.get("e2e")),
        *_env_section(raw.get("env")),
        *_database_section(raw),
        *_disk_section(raw),
        *_other_section(raw, health),
    )


class NodeDetail(VerticalScroll):
    """Follows the node list's cursor; `enter` focuses it to scroll, `escape` goes back."""

    BINDINGS = bindings(DETAIL)

    # Without animation (an animated scroll starts from where the running one is, so
    # keys repeated faster than it runs lose distance) and at once (a deferred scroll
    # starts from where the last refresh left it, so keys that arrive in one read
    # lose all but one).
    def action_scroll_down(self) -> None:
        self.scroll_relative(y=1, animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self.scroll_relative(y=-1, animate=False, immediate=True)

    def action_page_down(self) -> None:
        self.scroll_relative(y=self.scrollable_content_region.height, animate=False, immediate=True)

    def action_page_up(self) -> None:
        self.scroll_relative(
            y=-self.scrollable_content_region.height, animate=False, immediate=True
        )

    def action_scroll_home(self) -> None:
        self.scroll_home(animate=False, immediate=True)

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False, immediate=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[object, ...] | None = None
        self._vitals_line: str | None = None
        self.reveal_secrets = False  # only after --show-secrets and the user's confirmation
        self.redraws = 0  # how often the body was rebuilt (for tests, benchmarks)

    def compose(self) -> ComposeResult:
        yield Block(id="detail-vitals")
        yield SizedStatic(Text("No node selected.", style="dim"), id="detail-body")

    def reset(self) -> None:
        """Nothing to forget: what it shows is keyed by the node's id (`show_fields`)."""

    def show(self, view: PollView) -> None:
        node, snapshot = view.node, view.snapshot
        latest = view.vitals.latest if view.vitals is not None else None
        self.show_vitals(latest.of_node(node.id) if latest and node else None)
        warned = node is not None and node.id in view.expiry_warned
        self.show_fields(node, snapshot, view.webhook, warned)

    def show_vitals(self, line: str | None) -> None:
        """The node's own vitals, one line above its fields: it changes with every poll,
        so it is drawn apart and the fields below are not drawn again for it."""
        strip = self.query_one("#detail-vitals", Static)
        if line != self._vitals_line:
            shown_before = self._vitals_line is not None
            self._vitals_line = line
            strip.display = line is not None
            if line is not None:
                strip.update(
                    Text(f"▸ {visible(line, limit=200)}", style="cyan"), layout=not shown_before
                )

    def show_fields(
        self,
        node: Node | None,
        snapshot: Snapshot | None,
        webhook: WebhookView | None = None,
        expiry_warned: bool = False,
    ) -> None:
        """Redraw only when the node or what it shows changed: its clock ticking is not a
        change (the pane shows its skew), nor a few more bytes of logs (it shows GiB)."""
        if node is None or snapshot is None:
            key: tuple[object, ...] | None = None
        else:
            readings = snapshot.readings.get(node.id, {})
            shown = (node_clock(node, snapshot).plain, *(t.plain for _, t in _free_space(readings)))
            key = (
                node.id,
                snapshot.kind,
                node.entry,
                node.health_entry,
                shown,
                self.reveal_secrets,
                webhook if holds_settings(node, snapshot) else None,
                expiry_warned,
            )
        if key == self._shown:
            return
        self._shown = key
        self.redraws += 1
        body = self.query_one("#detail-body", SizedStatic)
        if node is None or snapshot is None:
            body.show_content(Text("No node selected.", style="dim"))
        else:
            reveal = self.reveal_secrets
            body.show_content(render_node(node, snapshot, reveal, webhook, expiry_warned))
