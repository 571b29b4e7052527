"""Trusting a self-signed webapp as SSH trusts a host: the certificate it presents,
checked once by a person (`wa-tui trust`) and kept as its SHA-256 fingerprint.

A pinned deployment is reached over aiohttp's pool, which checks the fingerprint on the
handshake, before any request is sent (the login carries the password): a certificate
that matches connects whatever its chain or name; any other is refused, both
fingerprints named (wa_tui/api/aiohttp_transport.py). Several pins are allowed (webapps
behind a pass-through balancer each present their own). The config reads fingerprints
here, so the handshake's modules (ssl, socket, cryptography) are imported when asked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")


class Pins(tuple[str, ...]):
    """The fingerprints a deployment's certificate may have, each `sha256:<64 hex>`."""

    def said(self) -> str:
        return ", ".join(self)


def fingerprint(text: str) -> str:
    """`text` as a fingerprint: `sha256:` then 64 hex digits, colons and case as
    `openssl x509 -fingerprint -sha256` prints them allowed; ValueError otherwise."""
    digits = text.strip()
    if digits.lower().startswith(PREFIX):
        digits = digits[len(PREFIX) :]
    digits = digits.replace(":", "").lower()
    if not _HEX.fullmatch(digits):
        raise ValueError(
            f"not a SHA-256 fingerprint: expected {PREFIX} and 64 hex digits "
            "(as `wa-tui trust` prints it)"
        )
    return PREFIX + digits


def fingerprint_of(der: bytes) -> str:
    """The fingerprint of a certificate in DER (what a TLS handshake presents)."""
    return PREFIX + hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class PresentedCertificate:
    """What a webapp presents on a handshake, to be shown before it is trusted."""

    der: bytes
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.der)

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    def pem(self) -> str:
        import ssl

        return ssl.DER_cert_to_PEM_cert(self.der)


def presented_certificate(url: str, timeout: float = 10.0) -> PresentedCertificate:
    """The certificate the server at `url` presents, unverified (it is to be checked by
    a person); OSError or ssl.SSLError when there is none to read. Blocking: for the
    `trust` command, which does nothing else meanwhile."""
    import socket
    import ssl
    from urllib.parse import urlsplit

    from cryptography import x509

    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the server presented no certificate")
    certificate = x509.load_der_x509_certificate(der)
    return PresentedCertificate(
        der,
        certificate.subject.rfc4514_string() or "(empty)",
        certificate.issuer.rfc4514_string() or "(empty)",
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
    )
