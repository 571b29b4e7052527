"""`wa-tui check`: a monitoring plugin's one line and exit code (0/1/2/3)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.options import Commands, one_shot_options, recording_options
from wa_tui.cli.start import Start
from wa_tui.cli.targets import RECORDERS, last_recorded, read_once_from, recording_asked

if TYPE_CHECKING:
    from wa_tui.config import DeploymentSettings
    from wa_tui.watch.reader import PollResult


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    check = commands.add_parser(
        "check",
        parents=[connection],
        help="monitoring-plugin check: one line, exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)",
    )
    one_shot_options(check)
    recording_options(check)
    check.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    path, settings = recording_asked(start)
    if path is not None:
        return from_recording(path, settings, args.max_age, args.rejudge)
    target, result = read_once_from(start)
    return judged(result, target.settings)


def from_recording(
    path: Path, settings: DeploymentSettings | None, max_age: float | None, rejudge: bool
) -> int:
    """The last recorded poll's line, as the recorder judged and stored it (format 3);
    from an older recording, or asked to (`rejudge`), the poll read and judged here,
    which the line says. UNKNOWN when the recorder's last sign of life is older than
    `max_age`."""
    from wa_tui.core.errors import RecordingError
    from wa_tui.outputs.plugin import CheckStatus, unknown_line
    from wa_tui.recording.last_poll import last_poll

    try:
        last = last_poll(path)
        if (stale := last.stale(max_age)) is not None:
            print(unknown_line(f"{path}: {stale}"))
            return CheckStatus.UNKNOWN
        if last.line is not None and not rejudge:
            print(last.line)
            return last.status
        if last.error is not None:
            print(unknown_line(f"{last.error} — as recorded"))
            return CheckStatus.UNKNOWN
        recorded = last_recorded(path, settings, max_age, rejudge)
    except RecordingError as exc:
        print(unknown_line(str(exc)))
        return CheckStatus.UNKNOWN
    return judged(recorded.result, recorded.settings, recorded.source.judged)


def judged(result: PollResult, settings: DeploymentSettings, by: str | None = None) -> int:
    """The poll's line printed, its status returned: UNKNOWN when it was not read. `by`:
    whose judgement it is, said after the status when not the recorder's."""
    from wa_tui.core.errors import CertificateRefused
    from wa_tui.core.text import visible
    from wa_tui.outputs.check import check_line
    from wa_tui.outputs.plugin import CheckStatus, unknown_line

    if isinstance(result.error, CertificateRefused):  # someone may be in between: loud
        print(f"WA-TUI CRITICAL - {visible(str(result.error), limit=300)}")
        return CheckStatus.CRITICAL
    if result.snapshot is None:
        print(unknown_line(str(result.error)))
        return CheckStatus.UNKNOWN
    line, status = check_line(result, settings.thresholds.expiry_warning_days)
    if by is not None and by != RECORDERS:  # "WA-TUI WARNING - (re-judged …) CODE …"
        head, _, rest = line.partition(" - ")
        line = f"{head} - ({by}) {rest}"
    print(line)
    return status
