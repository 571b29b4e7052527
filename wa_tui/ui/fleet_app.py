"""`wa-tui --prometheus URL`: the fleet screen filled from Prometheus's query API (what
the exporters recorded) instead of polling every deployment; `enter` on a configured
deployment opens its live dashboard (`q` there comes back to the fleet)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from pathlib import Path

from textual.app import App

from wa_tui.core.errors import WAError
from wa_tui.core.text import visible
from wa_tui.outputs.fleet import FleetRow, PrometheusSource, rows_from_prometheus
from wa_tui.ui.fleet_screen import FleetScreen
from wa_tui.ui.guards import GuardedApp

REFRESH_SECONDS = 5.0


class FleetApp(GuardedApp, App[str | None]):
    """Exits with the name of a configured deployment to open, or None."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "wa-tui fleet"

    def __init__(
        self,
        source: PrometheusSource,
        configured: Collection[str],
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.set_keymap(dict(keymap or {}))
        self.source = source
        self.url = source.url.rstrip("/")
        self.configured = set(configured)
        self.rows: list[FleetRow] = []
        self.failure: str | None = None

    def on_mount(self) -> None:
        self._show()
        self.run_worker(self._follow(), exit_on_error=False)

    def _show(self) -> None:
        screen = FleetScreen(lambda: self.rows, f"from Prometheus {visible(self.url, limit=60)}")
        self.push_screen(screen, self._chosen)

    async def _follow(self) -> None:
        try:
            client = await self.source.client()
        except WAError as error:  # the password's source failed: said, nothing to read
            self.failure = str(error)
            self.notify(self.failure, severity="error", timeout=30)
            return
        async with client:
            while True:
                try:
                    self.rows = await rows_from_prometheus(client)
                    self.failure = None
                except WAError as error:
                    if str(error) != self.failure:
                        self.failure = str(error)
                        self.notify(self.failure, severity="error", timeout=10)
                if isinstance(self.screen, FleetScreen):
                    self.screen.refresh_rows()
                await asyncio.sleep(REFRESH_SECONDS)

    def _chosen(self, name: str | None) -> None:
        if name is None:
            self.exit(None)
        elif name in self.configured:
            self.exit(name)
        else:
            self.notify(
                f"{visible(name, limit=60)} is not configured here: add it with "
                "`wa-tui config add` to open its dashboard",
                severity="warning",
            )
            self._show()
