"""Analysis of snapshots: findings (what is wrong) and changes (what moved). No Textual."""

from wa_tui.analysis.changes import Change, ChangeKind, diff
from wa_tui.analysis.findings import Finding, Severity, Thresholds, analyse, node_severity, worst

__all__ = [
    "Change",
    "ChangeKind",
    "Finding",
    "Severity",
    "Thresholds",
    "analyse",
    "diff",
    "node_severity",
    "worst",
]
