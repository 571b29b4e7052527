"""The webhook probe: can the URL callbacks go to be reached, and is its certificate good?

Made from where wa-tui runs, which is not where the coreapps run: their network path may
differ (every view of a probe says so). Step by step, under one deadline: the name
resolved, a TCP connection, the TLS handshake verified against the system's CAs plus the
CA the deployment holds for its webhook; then the certificate read (from a second,
unverified handshake when the first failed, so a bad certificate is still described).
The probe sends no HTTP request: the test POST (`send_test_post`) is made only when a
person asks for it. Plain Python; httpx and cryptography are imported when used.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from wa_tui import __version__
from wa_tui.core import clock
from wa_tui.core.secrets import mask_url
from wa_tui.core.text import StatusLine, html_title, visible
from wa_tui.model.snapshot import days_between

DEADLINE_SECONDS = 5.0
SLOW_SECONDS = 1.0  # Meta's guideline: under 1% of callbacks answered slower than this
PROBE_EVERY_SECONDS = 300.0
WHERE = "probed from this machine; the coreapps' network path may differ"
USER_AGENT = f"wa-tui/{__version__}"

# Why a verification failed, from OpenSSL's verify code (X509_V_ERR_*).
_VERIFY_REASONS = {
    9: "not yet valid",
    10: "expired",
    18: "untrusted issuer",  # self-signed leaf
    19: "untrusted issuer",  # self-signed CA in the chain
    20: "untrusted issuer",  # issuer not among the trusted CAs
    21: "untrusted issuer",  # the leaf's issuer cannot be verified
    62: "name mismatch",
    64: "name mismatch",  # an IP address that does not match
}


@dataclass(frozen=True)
class Certificate:
    issuer: str
    names: tuple[str, ...]
    not_before: datetime
    not_after: datetime

    def days_left(self, at: datetime) -> float:
        return days_between(at, self.not_after)


@dataclass(frozen=True)
class PostAnswer:
    """What the webhook answered to one test POST."""

    status: int | None  # None: no answer (see error)
    seconds: float
    title: str | None = None  # an HTML page's title, when the answer is one
    error: str | None = None


@dataclass(frozen=True)
class WebhookProbe:
    """One probe's result, as the snapshot JSON, recordings and the `W` screen carry it."""

    url: str  # masked
    checked_at: datetime
    failed_step: str | None = None  # "dns", "connect", "tls"; None: every step passed
    reason: str | None = None  # why that step failed, in a few words
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds, by step
    certificate: Certificate | None = None
    ca_uploaded: bool | None = None  # the deployment holds a CA for its webhook
    post: PostAnswer | None = None

    @property
    def host(self) -> str:
        return visible(urlsplit(self.url).hostname or self.url, limit=80)

    def days_left(self) -> float | None:
        return self.certificate.days_left(self.checked_at) if self.certificate else None

    def summary(self) -> str:
        """One line: what the probe found, with its timings."""
        if self.failed_step is not None:
            return self.outcome()
        done = ", ".join(
            f"{step} {seconds * 1000:.0f} ms" for step, seconds in self.timings.items()
        )
        post = ""
        if self.post is not None:
            post = f"; test POST: {self._answered()} in {self.post.seconds:.2f}s"
        return f"reachable ({done}){post}"

    def outcome(self) -> str:
        """What the probe found, in words that change only when that does (a finding's
        advice quotes it: timings would redraw it at every probe)."""
        if self.failed_step is not None:
            return f"{self.failed_step} failed: {self.reason}"
        secure = ", its certificate valid" if self.certificate is not None else ""
        post = f"; test POST: {self._answered()}" if self.post is not None else ""
        return f"reachable{secure}{post}"

    def _answered(self) -> str:
        assert self.post is not None
        if self.post.status is not None:
            return f"HTTP {self.post.status}"
        return f"no answer ({self.post.error})"

    def steps(self) -> list[StatusLine]:
        """Each step's outcome, the certificate and the test POST, one line each."""
        lines = [
            StatusLine(f"✔ {step:<8} {seconds * 1000:.0f} ms", True)
            for step, seconds in self.timings.items()
        ]
        if self.failed_step is not None:
            lines.append(StatusLine(f"✖ {self.failed_step:<8} {self.reason}", False))
        cert = self.certificate
        if cert is not None:
            days = cert.days_left(self.checked_at)
            left = f"{days:.0f} days left" if days >= 0 else f"expired {-days:.0f} days ago"
            lines += [
                StatusLine(f"certificate  issued by {cert.issuer}"),
                StatusLine(f"             names {', '.join(cert.names) or '—'}"),
                StatusLine(
                    f"             valid until {cert.not_after:%Y-%m-%d %H:%M} UTC ({left})"
                ),
            ]
        post = self.post
        if post is not None:
            answered = (
                f"HTTP {post.status}" if post.status is not None else f"no answer ({post.error})"
            )
            page = f" ({post.title})" if post.title else ""
            lines.append(StatusLine(f"test POST    {answered}{page} in {post.seconds:.2f}s"))
        return lines

    def document(self) -> dict[str, Any]:
        """JSON-ready (times ISO 8601 UTC)."""
        document = asdict(self)
        document["checked_at"] = self.checked_at.isoformat()
        if self.certificate is not None:
            cert = document["certificate"]
            cert["not_before"] = self.certificate.not_before.isoformat()
            cert["not_after"] = self.certificate.not_after.isoformat()
            cert["days_left"] = round(self.certificate.days_left(self.checked_at), 2)
        document["where"] = WHERE
        return document

    def encoded(self) -> bytes:
        return json.dumps(self.document()).encode()

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> WebhookProbe:
        cert = document.get("certificate")
        post = document.get("post")
        return cls(
            url=str(document["url"]),
            checked_at=datetime.fromisoformat(document["checked_at"]),
            failed_step=document.get("failed_step"),
            reason=document.get("reason"),
            timings=dict(document.get("timings") or {}),
            certificate=Certificate(
                str(cert["issuer"]),
                tuple(cert["names"]),
                datetime.fromisoformat(cert["not_before"]),
                datetime.fromisoformat(cert["not_after"]),
            )
            if cert
            else None,
            ca_uploaded=document.get("ca_uploaded"),
            post=PostAnswer(**post) if post else None,
        )


@functools.lru_cache(maxsize=8)
def trust(ca_pem: bytes | None) -> ssl.SSLContext:
    """The system's CAs, plus the deployment's webhook CA when it holds one: built once
    per CA (loading the system's store takes tens of ms, more on a busy machine) and in
    a thread, never on a loop (`probe`)."""
    context = ssl.create_default_context()
    if ca_pem:
        # An unreadable CA is no CA: the handshake then says what that means.
        with contextlib.suppress(ssl.SSLError, ValueError):
            context.load_verify_locations(cadata=ca_pem.decode("ascii", "replace"))
    return context


class _Steps:
    """The steps of one probe and their timings, so a timeout names the step it ended."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.current = "dns"
        self._started = time.perf_counter()

    def begin(self, step: str) -> None:
        self.current = step
        self._started = time.perf_counter()

    def done(self) -> None:
        self.timings[self.current] = round(time.perf_counter() - self._started, 4)


async def probe(
    url: str,
    ca_pem: bytes | None,
    ca_uploaded: bool | None = None,
    deadline: float = DEADLINE_SECONDS,
) -> WebhookProbe:
    """Resolve, connect and (https) handshake with the webhook at `url`; never raises."""
    steps = _Steps()
    checked_at = clock.now()
    result: dict[str, Any] = {}
    try:
        async with asyncio.timeout(deadline):
            context = await asyncio.to_thread(trust, ca_pem)
            result = await _reach(url, context, steps)
    except TimeoutError:
        result = {"failed_step": steps.current, "reason": "timed out"}
    except OSError as exc:
        result = {"failed_step": steps.current, "reason": _os_reason(exc)}
    except ValueError as exc:  # a URL that is not one
        result = {"failed_step": "dns", "reason": visible(str(exc), limit=80)}
    return WebhookProbe(
        mask_url(url), checked_at, timings=steps.timings, ca_uploaded=ca_uploaded, **result
    )


async def _reach(url: str, context: ssl.SSLContext, steps: _Steps) -> dict[str, Any]:
    parts = urlsplit(url)
    host, https = parts.hostname, parts.scheme.lower() == "https"
    if not host:
        raise ValueError("the URL has no host")
    port = parts.port or (443 if https else 80)
    loop = asyncio.get_running_loop()
    try:
        addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return {"failed_step": "dns", "reason": "name not found"}
    steps.done()
    steps.begin("connect")
    family, _, _, _, address = addresses[0]
    reader, writer = await asyncio.open_connection(address[0], address[1], family=family)
    steps.done()
    try:
        if not https:
            return {}
        steps.begin("tls")
        try:
            await writer.start_tls(context, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            reason = _VERIFY_REASONS.get(exc.verify_code, visible(exc.verify_message, limit=60))
            certificate = await _certificate_unverified(address, family, host)
            if reason == "expired" and certificate is not None:
                reason = f"expired on {certificate.not_after:%Y-%m-%d}"
            return {"failed_step": "tls", "reason": reason, "certificate": certificate}
        except ssl.SSLError as exc:
            return {"failed_step": "tls", "reason": visible(exc.reason or str(exc), limit=60)}
        steps.done()
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return {"certificate": read_certificate(der)}
    finally:
        writer.close()
        del reader


async def _certificate_unverified(
    address: tuple[Any, ...], family: int, host: str
) -> Certificate | None:
    """The certificate a server presents, without verifying it: to describe a bad one."""
    context = _unverified()
    try:
        reader, writer = await asyncio.open_connection(
            address[0], address[1], family=family, ssl=context, server_hostname=host
        )
    except (OSError, ssl.SSLError):
        return None
    try:
        return read_certificate(writer.get_extra_info("ssl_object").getpeercert(binary_form=True))
    finally:
        writer.close()
        del reader


@functools.cache
def _unverified() -> ssl.SSLContext:
    """A client context that loads no CA (cheap: no store read) and checks nothing."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def read_certificate(der: bytes | None) -> Certificate | None:
    if not der:
        return None
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(n) for n in alternative.get_values_for_type(x509.DNSName))
        names += tuple(str(ip) for ip in alternative.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(
        visible(cert.issuer.rfc4514_string(), limit=200),
        tuple(visible(n, limit=100) for n in names),
        cert.not_valid_before_utc.astimezone(UTC),
        cert.not_valid_after_utc.astimezone(UTC),
    )


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return visible(exc.strerror or str(exc) or type(exc).__name__, limit=60)


async def send_test_post(
    url: str, ca_pem: bytes | None, deadline: float = DEADLINE_SECONDS
) -> PostAnswer:
    """One POST of a small JSON body naming wa-tui (post_body) to the webhook; never
    raises. Only ever on a person's request: it is a callback the webhook did not expect."""
    import httpx

    body = post_body()
    context = await asyncio.to_thread(trust, ca_pem)
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(verify=context, timeout=deadline) as client:
            response = await client.post(url, json=body, headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        reason = "timed out" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
        return PostAnswer(None, round(time.perf_counter() - started, 4), error=reason)
    seconds = round(time.perf_counter() - started, 4)
    title = html_title(response.text[:4096]) if response.status_code != 200 else None
    return PostAnswer(response.status_code, seconds, title)


def post_body() -> dict[str, str]:
    """What the test POST sends: it names wa-tui and the time, nothing else."""
    return {"wa_tui_probe": clock.now().isoformat()}
