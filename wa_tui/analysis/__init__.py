"""Analysis of snapshots: findings (what is wrong) and changes (what moved), in the
vocabulary of wa_tui/model/judgement.py. No Textual."""

from wa_tui.analysis.changes import diff
from wa_tui.analysis.findings import Thresholds, analyse

__all__ = ["Thresholds", "analyse", "diff"]
