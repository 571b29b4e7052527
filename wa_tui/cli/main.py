"""`wa-tui` command line: the parser made of each command's own, and the one place a
command's failure becomes a line and an exit status. Heavy imports (Textual, aiohttp)
happen only in the commands that need them: `snapshot` and `check` never import Textual."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from wa_tui.cli import (
    bundle,
    check,
    config_file,
    dashboard,
    exporter,
    record,
    replay,
    report,
    simulate,
    snapshot,
    trust,
    web,
    webhook,
)
from wa_tui.cli.options import UsageError, connection_options, setup_logging
from wa_tui.cli.start import Start
from wa_tui.core import memory
from wa_tui.core.errors import EXIT_USAGE

# In the order `wa-tui --help` lists them.
COMMANDS = (
    snapshot,
    check,
    webhook,
    trust,
    record,
    exporter,
    web,
    replay,
    bundle,
    report,
    simulate,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wa-tui",
        parents=[connection_options()],
        description="Terminal dashboard for WhatsApp Business API (on-premises) deployments.",
        epilog=(
            "With --url, credentials come from the environment: WA_TUI_TOKEN, or "
            "WA_TUI_USERNAME and WA_TUI_PASSWORD; with no option, the deployments of the "
            "config file (wa-tui config path). There is no password flag: it would show "
            "in the process list."
        ),
    )
    dashboard.add_options(parser)
    parser.set_defaults(run=dashboard.run)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    connection = connection_options(inherit=True)
    for command in COMMANDS:
        command.add_parser(commands, connection)
    config_file.add_parser(commands, connection)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    memory.starting()  # see wa_tui.core.memory
    # pydantic looks for plugins among every installed package's entry points on its
    # first model (~10 ms of each start); wa-tui uses none, and none is to see the
    # answers it validates (they hold phone numbers and keys).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        return _run(argv)
    finally:
        memory.resume()


def _run(argv: Sequence[str] | None) -> int:
    from wa_tui.core.errors import ConfigError, RecordingError

    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "debug", False))
    try:
        return args.run(Start(args))
    except (UsageError, ConfigError, RecordingError) as exc:
        print(f"wa-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
