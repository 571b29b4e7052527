"""What `wa-tui snapshot` and `wa-tui check` print. Plain Python, no Textual.

The JSON document and the check line are public contracts (README). Server strings are
masked and made safe for a terminal here too: the text format goes through `visible()`,
and the JSON escapes every control character, C1 included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from wa_tui.analysis.vitals import NOT_READ, VITAL_LINES, Vitals, webapps_line
from wa_tui.analysis.webhook import WEBHOOK_CODES
from wa_tui.core.secrets import mask_phones, mask_tree
from wa_tui.core.text import iso_time, visible
from wa_tui.model.judgement import Finding, Severity, Summary, worst
from wa_tui.model.snapshot import Node, Snapshot
from wa_tui.outputs.plugin import CheckStatus

if TYPE_CHECKING:
    from wa_tui.watch.reader import PollResult

_C1_AND_DEL = re.compile(r"[\x7f-\x9f]")


@dataclass(frozen=True)
class Source:
    """Which deployment a report is about."""

    deployment: str
    url: str
    # Read from a recording: whose judgement is shown, and the thresholds it is by.
    judged: str | None = None
    thresholds: Mapping[str, float] | None = None

    def judged_document(self) -> dict[str, Any]:
        if self.judged is None:
            return {}
        return {"judged": {"by": self.judged, "thresholds": self.thresholds}}


def node_document(node: Node, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": node.id,
        "role": node.role,
        "socket_conn": node.socket.value,
        "shards": list(node.shards),
        "version": node.version,
        "gateway_status": node.gateway_status,
        "expire_timestamp": iso_time(node.support.expire_timestamp),
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
        "unavailable": {path: str(unread) for path, unread in vitals.unavailable.items()},
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
        "db_errors_by_request": dict(vitals.db_errors_by_request),
        # The listen queue's size, a capacity (Meta: "Size of queue for pending connections").
        "web_queue_len": vitals.web_queue_len,
        "web_pending_connections": vitals.web_pending_connections,
        "web_max_pending_connections": vitals.web_max_pending_connections,
        "web_idle_processes": vitals.web_idle_processes,
        "web_total_processes": vitals.web_total_processes,
        "webapps": {
            "seen": [w.node for w in vitals.webapps],
            "known": vitals.webapps_known,
            "each": [asdict(w) for w in vitals.webapps],
        },
        "unknown_families": list(vitals.unknown_families),
        "problems": list(vitals.problems),
    }


def summary_document(summary: Summary) -> dict[str, Any]:
    """The numbers every view shows (wa_tui/analysis/summary.py says what each counts)."""
    return {
        "nodes": summary.nodes,
        "shards": summary.shards,
        "shards_owned": summary.shards_owned,
        "shards_unassigned": summary.shards_unassigned,
        "shards_conflicting": summary.shards_conflicting,
        "shards_owner_down": summary.shards_owner_down,
        "shards_down": summary.shards_down,
        "sockets_down": summary.sockets_down,
        "severity": summary.severity.label if summary.severity is not None else None,
        "top_finding": summary.top_finding or None,
        "days_to_expiry": summary.days_to_expiry,
        "min_free_bytes": summary.min_free_bytes,
        "callback_queue": summary.callback_queue,
        "pending_messages": summary.pending_messages,
    }


def _read(result: PollResult) -> tuple[Snapshot, Summary]:
    """What a report of a good poll reads."""
    if result.snapshot is None or result.summary is None:
        raise ValueError("a report needs a good poll")
    return result.snapshot, result.summary


def snapshot_json(source: Source, result: PollResult, redact_phone: bool = False) -> str:
    snapshot, summary = _read(result)
    document = {
        "deployment": source.deployment,
        "url": source.url,
        "fetched_at": iso_time(snapshot.fetched_at),
        "kind": snapshot.kind.value,
        "summary": summary_document(summary),
        "nodes": [node_document(n, snapshot) for n in snapshot.nodes],
        "findings": [finding_document(f) for f in result.findings],
        "vitals": vitals_document(result.vitals),
        # The application settings (secrets masked) and the last webhook probe.
        **result.webhook.document(),
        **source.judged_document(),
    }
    if redact_phone:  # every text of it: a node's support entry says the number too
        document = mask_phones(document)  # type: ignore[assignment]
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    # json escapes C0 controls but not DEL and C1 (0x9b is a CSI to some terminals).
    return _C1_AND_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def snapshot_text(source: Source, result: PollResult) -> str:
    snapshot, summary = _read(result)
    header = (
        f"{visible(source.deployment)} ({visible(source.url)}) · {summary.kind} · "
        f"{summary.nodes} nodes · {summary.shards_owned}/{summary.shards} shards owned · "
        f"fetched {iso_time(snapshot.fetched_at)}"
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
    findings = result.findings
    judged = [f"judged: {source.judged}"] if source.judged else []
    lines = [header, *judged, "", *_table(rows), "", f"FINDINGS ({len(findings)})"]
    if not findings:
        lines.append("none")
    for finding in findings:
        lines.append(
            f"{finding.severity.label.upper():<8}  {finding.code}  {visible(finding.message)}"
        )
    return "\n".join([*lines, "", *_vitals_text(result.vitals), "", *webhook_text(result)])


def webhook_text(result: PollResult) -> list[str]:
    """The WEBHOOK section: the settings, the probe, and the webhook's findings."""
    view = result.webhook
    findings = [f for f in result.findings if f.code in WEBHOOK_CODES]
    lines = ["WEBHOOK", *(visible(line.text) for line in view.lines())]
    lines += [f"{f.severity.marker} {f.code}  {visible(f.message)}" for f in findings]
    return lines


def _vitals_text(vitals: Vitals | None) -> list[str]:
    """The gauges and rates the vitals pane shows; a rate needs two reads (`--sample`)."""
    if vitals is None:
        return ["VITALS", "not read"]
    # Rates are since the read before; the callbacks' share is the last minute's, the
    # one CALLBACK_FAILING reads (its label says so).
    rows = [["VITAL", "VALUE (rates: since the read before)"]]
    rows += [[line.label, line.shown(vitals)] for line in VITAL_LINES]
    lines = ["VITALS", *_table(rows)]
    if (webapps := webapps_line(vitals)) is not None:
        lines.append(webapps)
    if vitals.callbacks_per_s is None and vitals.api_requests_per_s is None:
        lines.append(f"{NOT_READ}: one read has no rate; --sample SECONDS reads twice")
    unavailable = sorted(vitals.unavailable.items())
    lines += [f"{path}: {visible(str(why), limit=120)}" for path, why in unavailable]
    return lines


def webhook_status(result: PollResult) -> CheckStatus:
    """`wa-tui webhook`'s exit status: the webhook's findings; unknown without settings."""
    if result.webhook.settings is None:
        return CheckStatus.UNKNOWN
    return check_status([f for f in result.findings if f.code in WEBHOOK_CODES])


def check_status(findings: Sequence[Finding]) -> CheckStatus:
    return {
        Severity.CRITICAL: CheckStatus.CRITICAL,
        Severity.WARNING: CheckStatus.WARNING,
    }.get(worst(findings), CheckStatus.OK)  # type: ignore[arg-type]


def perfdata(summary: Summary, expiry_warning_days: float, vitals: Vitals | None = None) -> str:
    parts = [
        f"nodes={summary.nodes}",
        f"shards={summary.shards}",
        f"shards_unassigned={summary.shards_unassigned};;0",
        f"shards_down={summary.shards_down};;0",
        f"sockets_down={summary.sockets_down};;0",
    ]
    if (days := summary.days_to_expiry) is not None:
        parts.append(f"days_to_expiry={days:.1f};{expiry_warning_days:g}:;0:")
    if summary.min_free_bytes is not None:
        parts.append(f"min_free_bytes={summary.min_free_bytes}B")
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


def check_line(result: PollResult, expiry_warning_days: float) -> tuple[str, CheckStatus]:
    _, summary = _read(result)
    findings = result.findings
    status = check_status(findings)
    if findings:
        first = findings[0]
        more = f" (+{len(findings) - 1} more: {', '.join(f.code for f in findings[1:4])})"
        text = f"{first.code}: {visible(first.message, limit=200)}" + (
            more if len(findings) > 1 else ""
        )
    else:
        text = f"{summary.kind}, {summary.nodes} nodes, {summary.shards} shards, no findings"
    data = perfdata(summary, expiry_warning_days, result.vitals)
    return f"WA-TUI {status.name} - {text} | {data}", status
