"""`wa-tui trust`: keep the certificate a self-signed webapp presents, SSH-style: shown,
checked by a person (or against a fingerprint read on the webapp's host), kept as its
fingerprint in the profile and as a file beside the config (wa_tui/api/pinning.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.cli.options import (
    Commands,
    UsageError,
    duration,
)
from wa_tui.cli.start import Start

if TYPE_CHECKING:
    from wa_tui.api.pinning import PresentedCertificate


def add_parser(commands: Commands, connection: argparse.ArgumentParser) -> None:
    trust = commands.add_parser(
        "trust",
        help="trust a self-signed webapp's certificate (SSH-style)",
        description="Connect, show the certificate the webapp presents (subject, issuer, "
        "validity, SHA-256 fingerprint) and, once confirmed, keep it: tls_fingerprint in "
        "the profile, the certificate beside the config file. The pin is checked on every "
        "handshake, before anything is sent; a certificate rotated is trusted again the "
        "same way. With --url, nothing is written: the fingerprint to pass is printed.",
    )
    source = trust.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", metavar="NAME", help="a deployment of the config file")
    source.add_argument("--url", help="a webapp's https:// URL (nothing is written)")
    trust.add_argument("--config", metavar="PATH", help="the config file to write")
    decide = trust.add_mutually_exclusive_group()
    decide.add_argument("--yes", action="store_true", help="trust it without asking")
    decide.add_argument(
        "--expect",
        metavar="sha256:…",
        help="trust it only if its fingerprint is this one (read on the webapp's host: "
        "openssl x509 -in CERT -noout -fingerprint -sha256)",
    )
    trust.add_argument(
        "--add",
        action="store_true",
        help="keep the fingerprints trusted before too (webapps behind a pass-through "
        "balancer each present their own)",
    )
    trust.add_argument(
        "--timeout", type=duration, default=10.0, help="how long to connect (seconds, or 1m)"
    )
    trust.set_defaults(run=run)


def run(start: Start) -> int:
    args = start.args
    from wa_tui import config
    from wa_tui.api.pinning import fingerprint

    path, url, pinned = None, args.url, []
    if args.profile is not None:
        path = start.config_path
        deployment = config.find(start.deployments, args.profile, path)
        url, pinned = deployment.url, list(deployment.pins or [])
    if not url.startswith("https://"):
        raise UsageError(f"{url} is plain HTTP: there is no certificate to trust")
    try:
        expected = fingerprint(args.expect) if args.expect else None
    except ValueError as exc:
        raise UsageError(f"--expect: {exc}") from None
    presented = _presented(url, args.timeout)
    print(_described(presented, url, pinned))
    if presented.fingerprint in pinned:
        print("This certificate is trusted already: nothing to do.")
        return 0
    _confirm(presented, expected, args.yes)
    if path is None:
        print(f"Trusted. Pass --tls-fingerprint {presented.fingerprint}")
        print(f"or set WA_TUI_TLS_FINGERPRINT={presented.fingerprint}")
        return 0
    kept = [*pinned, presented.fingerprint] if args.add else [presented.fingerprint]
    certificate = _keep_certificate(path, args.profile, presented)
    config.pin_certificate(path, args.profile, kept)
    print(f"{path}: deployment {args.profile!r} trusts {', '.join(kept)}")
    print(f"{certificate}: the certificate, for reference")
    return 0


def _presented(url: str, timeout: float) -> PresentedCertificate:
    import ssl

    from wa_tui.api.pinning import presented_certificate

    try:
        return presented_certificate(url, timeout)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise UsageError(f"cannot read the certificate of {url}: {exc}") from None


def _described(presented: PresentedCertificate, url: str, pinned: list[str]) -> str:
    from wa_tui.core.text import visible

    lines = [
        f"{url} presents:",
        f"  subject      {visible(presented.subject, limit=200)}",
        f"  issuer       {visible(presented.issuer, limit=200)}"
        + ("  (self-signed)" if presented.self_signed else ""),
        f"  valid        {presented.not_before:%Y-%m-%d} to {presented.not_after:%Y-%m-%d}",
        f"  fingerprint  {presented.fingerprint}",
    ]
    if pinned and presented.fingerprint not in pinned:
        lines += [f"  trusted now  {pin}" for pin in pinned]
        lines.append("  It is not the certificate trusted now: rotated, or someone in between.")
    return "\n".join(lines)


def _confirm(presented: PresentedCertificate, expected: str | None, yes: bool) -> None:
    """Trusted by --yes, by --expect matching, or by `yes` typed at the prompt."""
    if expected is not None:
        if expected != presented.fingerprint:
            raise UsageError(
                f"the certificate presented ({presented.fingerprint}) is not the one "
                f"expected ({expected}): nothing written"
            )
        return
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("nothing written: confirm with --yes, or --expect the fingerprint")
    print("Compare the fingerprint with the webapp's own (on its host: openssl x509 -in")
    print("CERT -noout -fingerprint -sha256).")
    answer = input("Trust this certificate? Type yes to keep it: ").strip().lower()
    if answer != "yes":
        raise UsageError("not trusted: nothing written")


def _keep_certificate(path: Path, profile: str, presented: PresentedCertificate) -> Path:
    """The certificate beside the config file: `NAME-<first hex digits>.pem`."""
    from wa_tui.core.text import file_name_of

    digits = presented.fingerprint.removeprefix("sha256:")[:16]
    certificate = path.parent / f"{file_name_of(profile)}-{digits}.pem"
    try:
        certificate.write_text(presented.pem(), encoding="ascii")
    except OSError as exc:
        raise UsageError(f"cannot write {certificate}: {exc.strerror or exc}") from None
    return certificate
