"""The simulated webapp's TLS, as a real one sets it up: a CA of its own made at start
and a server certificate it signed, trusted by nobody (docs/wa-api.md, "What real
deployments do"). What `wa-tui trust` is for."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import trustme

from wa_tui.api.pinning import fingerprint_of


@dataclass(frozen=True)
class WebappTLS:
    """A server context presenting the certificate, and that certificate's fingerprint."""

    context: ssl.SSLContext
    fingerprint: str


def webapp_tls(name: str = "wa-web") -> WebappTLS:
    """A new CA and certificate for 127.0.0.1 and localhost (a different one each call:
    a second is "someone in between" to a client that pinned the first)."""
    authority = trustme.CA(organization_name=f"WhatsApp Business API {name} (simulated)")
    leaf = authority.issue_cert("127.0.0.1", "localhost", common_name=name)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    return WebappTLS(context, fingerprint_of(der))
