"""`wa-tui webhook`: where callbacks go, the settings and the probe; `--post` sends one."""

from __future__ import annotations

import argparse

from wa_tui.cli.options import Commands
from wa_tui.cli.start import Start
from wa_tui.cli.targets import read_once_from


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    webhook = commands.add_parser(
        "webhook",
        parents=[connection],
        help="where callbacks go: settings, probe (exit 0/1/2/3 as check); --post sends one",
    )
    webhook.add_argument(
        "--post",
        action="store_true",
        help='send one test POST ({"wa_tui_probe": TIME}, User-Agent wa-tui/VERSION)',
    )

    webhook.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    from wa_tui.outputs.check import webhook_status, webhook_text
    from wa_tui.outputs.plugin import CheckStatus, unknown_line

    _, result = read_once_from(start, "post" if args.post else "probe")
    if result.snapshot is None:
        print(unknown_line(str(result.error)))
        return CheckStatus.UNKNOWN
    print("\n".join(webhook_text(result)))
    return webhook_status(result)
