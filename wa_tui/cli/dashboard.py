"""`wa-tui` with no command: the dashboard of the deployments named (or the fleet read
from Prometheus)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui import __version__
from wa_tui.cli.common import UsageError, keymap_of, open_targets, overrides_of, positive
from wa_tui.cli.record import recorder_for

if TYPE_CHECKING:
    from wa_tui.config import PrometheusConfig
    from wa_tui.outputs.fleet import PrometheusSource


def add_options(parser: argparse.ArgumentParser) -> None:
    """The dashboard's own options, on the top-level parser."""
    parser.add_argument("--version", action="version", version=f"wa-tui {__version__}")
    parser.add_argument("--interval", type=positive, help="seconds between refreshes (default 5)")
    parser.add_argument(
        "--record", metavar="FILE", help="record every poll to FILE while watching (see replay)"
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        nargs="?",
        const="",
        help="the fleet from Prometheus (what wa-tui exporters recorded), not polled here; "
        "without URL, [prometheus] of the config file (TLS, basic auth)",
    )
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="let `x` reveal secret values in the detail pane, after a confirmation",
    )


def run(args: argparse.Namespace) -> int:
    from wa_tui.watch.poller import poll_early

    if args.prometheus is not None:
        return run_prometheus_fleet(args)
    with open_targets(args) as found:
        recorder = recorder_for(args.record, found[0]) if args.record else None
        # The deployment shown first is polled while Textual loads (a third of a second).
        first = found[0]
        early = {} if first.needs_password else {first.name: poll_early(first)}
        from wa_tui.ui.app import WaTuiApp
        from wa_tui.ui.crash import run_app

        app = WaTuiApp(
            found,
            secrets_may_be_shown=args.show_secrets,
            early_polls=early,
            settle_memory=True,
            recorder=recorder,
            keymap=keymap_of(args),
        )
        try:
            _, status = run_app(app)
        finally:
            if recorder is not None:
                recorder.close()
                print(f"recorded {recorder.polls} polls to {recorder.path}")
    return status


def run_prometheus_fleet(args: argparse.Namespace) -> int:
    """The fleet from Prometheus; a configured deployment chosen opens its dashboard, and
    quitting that comes back to the fleet."""
    from wa_tui import config
    from wa_tui.watch import targets

    path = config.config_path(getattr(args, "config", None))
    source = prometheus_source(args, config.prometheus(path))
    found = targets.configured(path, None, overrides_of(args)) if path.exists() else []
    by_name = {target.name: target for target in found}
    from wa_tui.ui.app import WaTuiApp
    from wa_tui.ui.crash import run_app
    from wa_tui.ui.fleet_app import FleetApp

    keymap = keymap_of(args)
    while True:
        name, status = run_app(FleetApp(source, by_name, keymap))
        if name is None or status:
            return status
        dashboard = WaTuiApp([by_name[name]], args.show_secrets, keymap=keymap)
        _, status = run_app(dashboard)
        if status:
            return status


def prometheus_source(args: argparse.Namespace, table: PrometheusConfig) -> PrometheusSource:
    """Where --prometheus reads: its URL or [prometheus]'s; TLS as --insecure or
    --ca-bundle say, else as the table does; basic auth as the table says."""
    from wa_tui.api.auth import password_from_command, password_from_env
    from wa_tui.outputs.fleet import PrometheusSource

    url = args.prometheus or table.url or ""
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--prometheus {url!r}: expected an http(s):// URL (or url in [prometheus])"
        )
    verify: bool | str = table.verify_tls
    if table.ca_bundle is not None:
        verify = str(table.ca_bundle.expanduser())
    if getattr(args, "ca_bundle", None):
        verify = str(Path(args.ca_bundle).expanduser())
    if getattr(args, "insecure", False):
        verify = False
    password = None
    if table.password_env:
        password = password_from_env(table.password_env)
    elif table.password_command:
        password = password_from_command(table.password_command)
    return PrometheusSource(url, verify, table.username, password)
