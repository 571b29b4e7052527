"""`wa-tui check`: a monitoring plugin's one line and exit code (0/1/2/3)."""

from __future__ import annotations

import argparse

from wa_tui.cli.common import Commands, one_shot_options, read_once_from


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    check = commands.add_parser(
        "check",
        parents=[connection],
        help="monitoring-plugin check: one line, exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)",
    )
    one_shot_options(check)
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from wa_tui.outputs.check import CheckStatus, check_line, unknown_line

    target, result = read_once_from(args)
    if result.snapshot is None:
        print(unknown_line(str(result.error)))
        return CheckStatus.UNKNOWN
    expiry_days = target.settings.thresholds.expiry_warning_days
    line, status = check_line(result, expiry_days)
    print(line)
    return status
