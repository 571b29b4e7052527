"""`wa-tui check`: a monitoring plugin's one line and exit code (0/1/2/3)."""

from __future__ import annotations

import argparse

from wa_tui.cli.common import (
    Commands,
    last_recorded,
    one_shot_options,
    read_once_from,
    recording_options,
)


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    check = commands.add_parser(
        "check",
        parents=[connection],
        help="monitoring-plugin check: one line, exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)",
    )
    one_shot_options(check)
    recording_options(check)
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from wa_tui.core.errors import RecordingError
    from wa_tui.outputs.check import CheckStatus, check_line, unknown_line

    try:
        recorded = last_recorded(args)
    except RecordingError as exc:
        print(unknown_line(str(exc)))
        return CheckStatus.UNKNOWN
    if recorded is not None and recorded.stale is not None:
        print(unknown_line(recorded.stale))
        return CheckStatus.UNKNOWN
    if recorded is not None:
        result, settings = recorded.result, recorded.settings
    else:
        target, result = read_once_from(args)
        settings = target.settings
    expiry_days = settings.thresholds.expiry_warning_days
    if result.snapshot is None:
        print(unknown_line(str(result.error)))
        return CheckStatus.UNKNOWN
    line, status = check_line(result, expiry_days)
    print(line)
    return status
