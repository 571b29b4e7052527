"""What a connection refused for its certificate says, between the transport that
refuses it (wa_tui/api/aiohttp_transport.py) and the client that words it."""

from __future__ import annotations

import httpx

from wa_tui.api.pinning import Pins


class PinMismatch(httpx.ConnectError):
    """A handshake that presented a certificate no pin names: nothing was sent."""

    def __init__(self, presented: str, pins: Pins) -> None:
        super().__init__(f"presented {presented}, trusted {pins.said()}")
        self.presented, self.pins = presented, pins
