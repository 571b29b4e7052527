"""The floor of a one-shot read (#21, item 1): a program doing what `wa-tui check` asks of
its libraries and nothing more. It imports asyncio, httpx and pydantic, defines one
pydantic model, sends a poll's seven requests together through httpx's connection pool
with a bearer token (as check does with its cached token), `json.loads` each JSON answer
and validates the support entries with that model. No wa-tui code.

Run as a script (`python benchmarks/check_floor.py URL TOKEN`): importing the
`benchmarks` package would load wa-tui. benchmarks/cli.py times it beside `check`.
"""

import asyncio
import json
import sys

import httpx
from pydantic import BaseModel

# What check's one poll asks (wa_tui/api/endpoints.py, not imported: no wa-tui code).
PATHS = (
    "/v1/support",
    "/v1/health",
    "/v1/stats/app",
    "/metrics",
    "/v1/stats/db",
    "/v1/settings/application",
    "/v1/certificates/webhooks/ca",
)


class Entry(BaseModel):
    role: str | None = None
    socket_conn: str | None = None
    shards: list[tuple[int, int]] | None = None


async def read(url: str, token: str) -> int:
    transport = httpx.AsyncHTTPTransport()
    headers = {"Authorization": f"Bearer {token}"}
    async with transport:

        async def get(path: str) -> object:
            answer = await transport.handle_async_request(
                httpx.Request("GET", url + path, headers=headers)
            )
            body = await answer.aread()
            if answer.headers.get("content-type", "").startswith("application/json"):
                return json.loads(body)
            return body

        support, *_ = await asyncio.gather(*(get(path) for path in PATHS))
    entries = [Entry.model_validate(e) for e in support["support"].values()]  # type: ignore[index]
    return len(entries)


if __name__ == "__main__":
    print(asyncio.run(read(sys.argv[1], sys.argv[2])))
