"""A command wa-tui runs (a node's log, a password command) runs in its own process group,
so ending it ends whatever it started too (ssh, a shell's children)."""

from __future__ import annotations

import contextlib
import os
import signal


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group `pid` leads; gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
