"""What `wa-tui snapshot` and `wa-tui check` print. Plain Python, no Textual.

The JSON document and the check line are public contracts (README). Server strings are
masked and made safe for a terminal here too: the text format goes through `visible()`,
and the JSON escapes every control character, C1 included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from wa_tui.analysis import Finding, Severity, worst
from wa_tui.analysis.findings import shard_owners
from wa_tui.analysis.vitals import Vitals
from wa_tui.models import Node, Snapshot, SocketState
from wa_tui.secrets import mask_tree
from wa_tui.text import visible

_C1_AND_DEL = re.compile(r"[\x7f-\x9f]")


@dataclass(frozen=True)
class Source:
    """Which deployment a report is about."""

    deployment: str
    url: str


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def node_document(node: Node, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": node.id,
        "role": node.role,
        "socket_conn": node.socket.value,
        "shards": list(node.shards),
        "version": node.version,
        "gateway_status": node.gateway_status,
        "expire_timestamp": _iso(node.support.expire_timestamp),
        "support": mask_tree(snapshot.raw(node)),
    }


def finding_document(finding: Finding) -> dict[str, Any]:
    return {
        "severity": finding.severity.label,
        "code": finding.code,
        "message": finding.message,
        "nodes": list(finding.nodes),
        "shards": list(finding.shards),
    }


def vitals_document(vitals: Vitals | None) -> dict[str, Any] | None:
    """Totals, the queue per node, and rates (per second; null where one read could not
    give a rate: `--sample S` reads twice)."""
    if vitals is None:
        return None
    return {
        "unavailable": dict(vitals.unavailable),
        "callback_queue": vitals.callback_queue,
        "callback_queue_by_node": dict(vitals.callback_queue_by_node),
        "pending_messages": vitals.pending_messages,
        "pending_callbacks": vitals.pending_callbacks,
        "callbacks_per_second": vitals.callbacks_per_s,
        "callback_failures_per_second": vitals.callback_failures_per_s,
        "failing_callback_results": dict(vitals.failing_results),
        "messages_in_per_second": vitals.messages_in_per_s,
        "api_requests_per_second": vitals.api_requests_per_s,
        "api_requests_by_class": dict(vitals.api_by_class),
        "api_5xx_share": vitals.api_5xx_share,
        "db_write_errors_per_second": vitals.db_write_errors_per_s,
        "db_read_errors_per_second": vitals.db_read_errors_per_s,
        "web_queue_len": vitals.web_queue_len,
        "web_pending_connections": vitals.web_pending_connections,
        "unknown_families": list(vitals.unknown_families),
        "problems": list(vitals.problems),
    }


def snapshot_json(
    source: Source, snapshot: Snapshot, findings: Sequence[Finding], vitals: Vitals | None = None
) -> str:
    document = {
        "deployment": source.deployment,
        "url": source.url,
        "fetched_at": _iso(snapshot.fetched_at),
        "kind": snapshot.kind.value,
        "nodes": [node_document(n, snapshot) for n in snapshot.nodes],
        "findings": [finding_document(f) for f in findings],
        "vitals": vitals_document(vitals),
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    # json escapes C0 controls but not DEL and C1 (0x9b is a CSI to some terminals).
    return _C1_AND_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def snapshot_text(source: Source, snapshot: Snapshot, findings: Sequence[Finding]) -> str:
    header = (
        f"{visible(source.deployment)} ({visible(source.url)}) · {snapshot.kind.value} · "
        f"{len(snapshot.nodes)} nodes · {snapshot.shard_count} shards · "
        f"fetched {_iso(snapshot.fetched_at)}"
    )
    rows = [["NODE", "ROLE", "SOCKET", "SHARDS", "BUILD", "GATEWAY"]]
    for node in snapshot.nodes:
        rows.append(
            [
                visible(node.id, limit=60),
                visible(node.role or "—", limit=20),
                node.socket.value,
                ",".join(map(str, node.shards)) or "—",
                visible(node.version or "—", limit=30),
                visible(node.gateway_status or "—", limit=20),
            ]
        )
    lines = [header, "", *_table(rows), "", f"FINDINGS ({len(findings)})"]
    if not findings:
        lines.append("none")
    for finding in findings:
        lines.append(
            f"{finding.severity.label.upper():<8}  {finding.code}  {visible(finding.message)}"
        )
    return "\n".join(lines)


class CheckStatus(IntEnum):
    """Monitoring-plugin states; the value is the exit status."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def check_status(findings: Sequence[Finding]) -> CheckStatus:
    return {
        Severity.CRITICAL: CheckStatus.CRITICAL,
        Severity.WARNING: CheckStatus.WARNING,
    }.get(worst(findings), CheckStatus.OK)  # type: ignore[arg-type]


def perfdata(
    snapshot: Snapshot,
    findings: Sequence[Finding],
    expiry_warning_days: float,
    vitals: Vitals | None = None,
) -> str:
    unassigned = sum(len(f.shards) for f in findings if f.code == "SHARD_UNASSIGNED")
    down = sum(1 for n in shard_owners(snapshot) if n.socket is SocketState.DOWN)
    parts = [
        f"nodes={len(snapshot.nodes)}",
        f"shards={snapshot.shard_count}",
        f"shards_unassigned={unassigned};;0",
        f"sockets_down={down};;0",
    ]
    expiries = [n.support.expire_timestamp for n in snapshot.nodes if n.support.expire_timestamp]
    if expiries:
        days = (min(expiries) - snapshot.fetched_at).total_seconds() / 86400
        parts.append(f"days_to_expiry={days:.1f};{expiry_warning_days:g}:;0:")
    free = [v for n in snapshot.nodes for v in snapshot.free_space(n).values() if v is not None]
    if free:
        parts.append(f"min_free_bytes={min(free)}B")
    return " ".join(parts + _vitals_perfdata(vitals))


def _vitals_perfdata(vitals: Vitals | None) -> list[str]:
    """The vitals a monitoring system graphs; rates only where two reads were made."""
    if vitals is None:
        return []
    failures = vitals.callback_failures_per_s
    error_rate = 1 - vitals.callback_success if vitals.callback_success is not None else None
    values = {
        "callback_queue": vitals.callback_queue,
        "pending_messages": vitals.pending_messages,
        "callback_error_rate": error_rate if failures is not None else None,
        "api_5xx_rate": vitals.api_5xx_share,
    }
    return [f"{name}={value:g}" for name, value in values.items() if value is not None]


def check_line(
    snapshot: Snapshot,
    findings: Sequence[Finding],
    expiry_warning_days: float,
    vitals: Vitals | None = None,
) -> tuple[str, CheckStatus]:
    status = check_status(findings)
    if findings:
        first = findings[0]
        more = f" (+{len(findings) - 1} more: {', '.join(f.code for f in findings[1:4])})"
        summary = f"{first.code}: {visible(first.message, limit=200)}" + (
            more if len(findings) > 1 else ""
        )
    else:
        summary = (
            f"{snapshot.kind.value}, {len(snapshot.nodes)} nodes, "
            f"{snapshot.shard_count} shards, no findings"
        )
    data = perfdata(snapshot, findings, expiry_warning_days, vitals)
    line = f"WA-TUI {status.name} - {summary} | {data}"
    return line, status


def unknown_line(reason: str) -> str:
    return f"WA-TUI UNKNOWN - {visible(reason, limit=300)}"
