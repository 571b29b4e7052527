"""A fleet screen filled from a source other than this process's watchers: Prometheus's
query API (`wa-tui --prometheus URL`: what the exporters recorded) or a recorder's folder
(`wa-tui --follow DIR`: what it judged). `enter` on a deployment the source can open exits
with its name, for the command line to open its dashboard (`q` there comes back)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from textual.app import App

from wa_tui.core.errors import WAError
from wa_tui.outputs.fleet import FleetRow
from wa_tui.ui.fleet_screen import FleetScreen
from wa_tui.ui.guards import GuardedApp


class FleetSource(Protocol):
    """What the fleet app asks of where its rows come from."""

    title: str  # on the status line: "from Prometheus URL", "recorded in DIR"

    @property
    def every(self) -> float:
        """Seconds between two looks."""
        ...

    async def rows(self) -> list[FleetRow]:
        """The rows now (WAError: why not, said in one line)."""
        ...

    def cannot_open(self, deployment: str) -> str | None:
        """Why `enter` cannot open `deployment` (None: it can)."""
        ...

    async def aclose(self) -> None: ...


class FleetApp(GuardedApp, App[str | None]):
    """Exits with the name of a deployment to open, or None."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "wa-tui fleet"

    def __init__(self, source: FleetSource, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.set_keymap(dict(keymap or {}))
        self.source = source
        self.rows: list[FleetRow] = []
        self.failure: str | None = None

    def on_mount(self) -> None:
        self._show()
        self.run_worker(self._follow(), exit_on_error=False)

    def _show(self) -> None:
        self.push_screen(FleetScreen(lambda: self.rows, self.source.title), self._chosen)

    async def _follow(self) -> None:
        try:
            while True:
                try:
                    self.rows = await self.source.rows()
                    self.failure = None
                except (WAError, OSError) as error:
                    if str(error) != self.failure:
                        self.failure = str(error)
                        self.notify(self.failure, severity="error", timeout=10)
                if isinstance(self.screen, FleetScreen):
                    self.screen.refresh_rows()
                await asyncio.sleep(self.source.every)
        finally:
            await self.source.aclose()

    def _chosen(self, name: str | None) -> None:
        if name is None:
            self.exit(None)
        elif (why := self.source.cannot_open(name)) is None:
            self.exit(name)
        else:
            self.notify(why, severity="warning")
            self._show()
