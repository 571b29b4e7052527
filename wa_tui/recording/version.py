"""Which recordings this wa-tui reads: its format and those before it. Apart, so what
reads a recording for `check` loads nothing else (wa_tui/recording/last_poll.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from wa_tui.core.errors import RecordingError
from wa_tui.core.text import visible

# 3: each good poll's `derived` row holds the check line and status, as the recorder judged.
# 4: and the whole judgement (summary, forecasts, "limited since"), versioned ("judged"),
# with the thresholds it was judged by in the meta (`thresholds`).
FORMAT = "4"


def refuse_newer(path: Path, meta: Mapping[str, str]) -> None:
    """A recording of a format this wa-tui does not know is not misread."""
    written = meta.get("format", "1")
    if not written.isdigit() or int(written) > int(FORMAT):
        raise RecordingError(
            f"{path}: recorded in format {visible(written, limit=12)} by a newer wa-tui "
            f"(this one reads up to {FORMAT}): upgrade wa-tui to read it"
        )
