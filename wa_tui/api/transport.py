"""The connections under the client: httpx's own transport, or aiohttp's pool
(wa_tui/api/aiohttp_transport.py), with the same TLS settings and keep-alive either way.

Which one is chosen once, where the watchers are made (wa_tui/watch/watcher.py,
`watchers_for`): aiohttp's
when nothing waits on the import (the exporter) or when many deployments are polled
(each request costs less than half the CPU: benchmarks/README.md); httpx's otherwise,
which imports faster, so the dashboard's first frame comes sooner.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

from wa_tui.api.pinning import Pins

# Longer than any poll interval: a connection is kept for the next poll rather than made
# anew, which costs CPU on both sides. nginx keeps idle connections 75 s by default.
KEEPALIVE_SECONDS = 75.0


def tls_context(base_url: str, verify: bool | str) -> bool | ssl.SSLContext:
    """What to verify with. For a plain-http URL nothing: httpx would otherwise load the
    system CA store, a slow read, for a context it never uses. A verifying context is
    made once per CA file (as it is on disk) and shared: the exporter and the recorder
    make clients on their one loop, which a CA store read would hold up."""
    if not base_url.startswith("https://") or verify is False:
        return False
    if isinstance(verify, str):
        return _verifying(verify, os.stat(verify).st_mtime_ns)
    return _verifying(None, 0)


@functools.lru_cache(maxsize=16)
def _verifying(cafile: str | None, _modified: int) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile) if cafile else httpx.create_ssl_context()


def make_transport(
    base_url: str, verify: bool | str | Pins, aiohttp: bool
) -> httpx.AsyncBaseTransport:
    """One deployment's connection pool; `verify`: True, False, a CA bundle's path, or
    the pinned fingerprints (checked by aiohttp on the handshake: wa_tui/api/pinning.py)."""
    if isinstance(verify, Pins):
        from wa_tui.api.aiohttp_transport import AiohttpTransport, PinnedCertificate

        return AiohttpTransport(PinnedCertificate(verify), KEEPALIVE_SECONDS)
    tls = tls_context(base_url, verify)
    if aiohttp:
        from wa_tui.api.aiohttp_transport import AiohttpTransport  # slow to import: if used

        return AiohttpTransport(tls, KEEPALIVE_SECONDS)
    return httpx.AsyncHTTPTransport(
        verify=tls, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
    )
