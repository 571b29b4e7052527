"""The floor of a refresh (#21, item 3): the CPU of the requests a refresh with vitals on
sends, over the same transport (httpx's connection pool with its default limits, as the
dashboard uses for fewer than 20 deployments), and `json.loads` of their answers; no
wa-tui code at all. Fixed: committed before the work on the watching path starts, and
not changed after, so every later figure is measured against the same thing.

`python -m benchmarks.refresh_floor URL USERNAME PASSWORD [INTERVAL]` prints the CPU per
refresh and the share of a core at INTERVAL (default 2 s); `floor(url, user, password)`
gives the seconds of CPU per refresh to the other benchmarks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time

import httpx

REFRESHES = 60
# What a refresh with vitals on asks (wa_tui/api/endpoints.py, not imported: no wa-tui code):
# support and health, the app's stats and the metrics every refresh, the database's
# stats once a minute.
EVERY_REFRESH = ("/v1/support", "/v1/health", "/v1/stats/app", "/metrics")
EVERY_MINUTE = ("/v1/stats/db",)


async def _refreshes(url: str, user: str, password: str, interval: float) -> float:
    # Requests handed straight to the pool, as wa-tui's client does (no AsyncClient).
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(keepalive_expiry=60.0))
    async with transport:

        async def send(method: str, path: str, headers: dict[str, str]) -> bytes:
            answer = await transport.handle_async_request(
                httpx.Request(method, url + path, headers=headers)
            )
            body = await answer.aread()
            if answer.headers.get("content-type", "").startswith("application/json"):
                json.loads(body)
            return body

        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        login = await send("POST", "/v1/users/login", {"Authorization": f"Basic {basic}"})
        token = json.loads(login)["users"][0]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        every_minute = max(round(60 / interval), 1)

        async def refresh(index: int) -> None:
            paths = EVERY_REFRESH + (EVERY_MINUTE if index % every_minute == 0 else ())
            await asyncio.gather(*(send("GET", path, headers) for path in paths))

        await refresh(1)  # the connection made
        start = time.process_time()
        for index in range(REFRESHES):
            await refresh(index)
        return (time.process_time() - start) / REFRESHES


def floor(url: str, user: str, password: str, interval: float = 2.0) -> float:
    """CPU seconds per refresh of the requests and their decoding alone."""
    return asyncio.run(_refreshes(url, user, password, interval))


def main() -> None:
    url, user, password = sys.argv[1:4]
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
    cpu = floor(url, user, password, interval)
    print(f"floor: {cpu * 1000:.2f} ms of CPU a refresh; {cpu / interval:.2%} of a core")


if __name__ == "__main__":
    main()
