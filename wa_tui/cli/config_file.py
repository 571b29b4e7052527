"""`wa-tui config`: where the config file is, whether it is valid, a deployment added."""

from __future__ import annotations

import argparse

from wa_tui.cli.options import Commands
from wa_tui.cli.start import Start


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    config = commands.add_parser("config", help="the config file: path, check, add")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    for action, text in (("path", "print where the config file is"), ("check", "validate it")):
        config_commands.add_parser(action, help=text).add_argument("--config", metavar="PATH")
    add = config_commands.add_parser("add", help="add a deployment (never writes a password)")
    add.add_argument("name")
    add.add_argument("--url", required=True)
    add.add_argument("--username")
    add.add_argument("--config", metavar="PATH")
    config.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    from wa_tui import config

    path = start.config_path
    if args.config_command == "path":
        print(path)
    elif args.config_command == "check":
        deployments = start.deployments
        names = ", ".join(d.name for d in deployments)
        remapped = len(start.keymap)
        print(f"{path}: {len(deployments)} deployment(s): {names}; {remapped} key(s) remapped")
    elif args.config_command == "add":
        config.add_deployment(path, args.name, args.url, args.username)
        print(f"{path}: deployment {args.name!r} written (no password is ever stored)")
    return 0
