"""The monitoring-plugin convention (Nagios, Icinga, Sensu, Zabbix): the states, whose
value is the exit status, and the UNKNOWN line. Apart from outputs/check.py, which makes
the other lines, so `check` from a recorder's stored line loads nothing else."""

from __future__ import annotations

from enum import IntEnum

from wa_tui.core.text import visible


class CheckStatus(IntEnum):
    """Monitoring-plugin states; the value is the exit status."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def unknown_line(reason: str) -> str:
    return f"WA-TUI UNKNOWN - {visible(reason, limit=300)}"
