"""The exporter's web configuration: the Prometheus exporter toolkit's file
(`--web.config.file`, as node_exporter and mysqld_exporter take it): TLS, client
certificates, basic auth with bcrypt hashes.

What wa-tui supports of it is read; a toolkit key it does not support is refused as "not
supported", never ignored, and an unknown key is named with the nearest known one: a
listener never starts without the protection its file asked for. Every problem is one
line (`WebConfigError`), which `wa-tui exporter` prints before exiting 2.
"""

from __future__ import annotations

import difflib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TLS_KEYS = ("cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version")
TOP_KEYS = ("tls_server_config", "basic_auth_users")
# The toolkit's keys and values wa-tui does not implement: refused by name.
UNSUPPORTED = {
    "http_server_config": "HTTP/2 and header settings",
    "rate_limit": "rate limits",
    "cipher_suites": "cipher suite lists",
    "max_version": "a maximum TLS version",
    "curve_preferences": "curve preferences",
    "prefer_server_cipher_suites": "cipher suite order",
    "client_allowed_sans": "client SAN allow lists",
    "cert": "inline certificates",
    "key": "inline keys",
    "client_ca": "an inline client CA",
}
CLIENT_AUTH = ("NoClientCert", "RequireAndVerifyClientCert")
TOOLKIT_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven")
MIN_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
BCRYPT_PREFIXES = (b"$2a$", b"$2b$", b"$2y$")


class WebConfigError(Exception):
    """What is wrong with a web configuration file, in one line."""


@dataclass(frozen=True)
class TlsSettings:
    cert_file: Path
    key_file: Path
    client_auth_type: str = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: str = "TLS12"


@dataclass(frozen=True)
class WebConfig:
    """What a web configuration file asks for: TLS (None: plain HTTP) and the users that
    may ask (none: anyone who reaches the port)."""

    tls: TlsSettings | None = None
    users: Mapping[str, bytes] = field(default_factory=dict)  # name -> bcrypt hash
    source: Path = Path("(no web configuration)")  # the file it was read from

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


def read_web_config(path: Path) -> WebConfig:
    """The file at `path`, checked whole (its certificate and key loaded once)."""
    import yaml  # only the exporter with --web-config reads YAML

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WebConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise WebConfigError(f"{path}: not valid YAML{line}") from None
    document = {} if document is None else document
    if not isinstance(document, Mapping):
        raise WebConfigError(f"{path}: expected a mapping of {', '.join(TOP_KEYS)}")
    _known(path, document, TOP_KEYS, "")
    config = WebConfig(_tls(path, document.get("tls_server_config")), _users(path, document), path)
    if config.tls is not None:
        server_context(config.tls, path)  # a certificate or key that does not load: now
    return config


def _known(path: Path, section: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in section:
        name = f"{where}{key}"
        if key in UNSUPPORTED:
            raise WebConfigError(f"{path}: {name} ({UNSUPPORTED[key]}) is not supported")
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {near[0]}?" if near else f"; known: {', '.join(known)}"
            raise WebConfigError(f"{path}: unknown key {name}{hint}")


def _tls(path: Path, section: object) -> TlsSettings | None:
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise WebConfigError(f"{path}: tls_server_config must be a mapping")
    _known(path, section, TLS_KEYS, "tls_server_config.")
    for required in ("cert_file", "key_file"):
        if not isinstance(section.get(required), str):
            raise WebConfigError(f"{path}: tls_server_config.{required} is required")
    auth = section.get("client_auth_type", "NoClientCert")
    if auth in TOOLKIT_CLIENT_AUTH:
        raise WebConfigError(f"{path}: client_auth_type {auth} is not supported")
    if auth not in CLIENT_AUTH:
        raise WebConfigError(f"{path}: client_auth_type {auth!r}: one of {', '.join(CLIENT_AUTH)}")
    ca = section.get("client_ca_file")
    if auth == "RequireAndVerifyClientCert" and not isinstance(ca, str):
        raise WebConfigError(f"{path}: RequireAndVerifyClientCert needs client_ca_file")
    version = section.get("min_version", "TLS12")
    if version not in MIN_VERSIONS:
        raise WebConfigError(f"{path}: min_version {version!r}: one of {', '.join(MIN_VERSIONS)}")
    return TlsSettings(
        _relative(path, section["cert_file"]),
        _relative(path, section["key_file"]),
        auth,
        _relative(path, ca) if isinstance(ca, str) else None,
        version,
    )


def _relative(path: Path, name: str) -> Path:
    """A file named in the config, relative to the config's folder (as the toolkit)."""
    return (path.parent / name).expanduser()


def _users(path: Path, document: Mapping[str, Any]) -> dict[str, bytes]:
    users = document.get("basic_auth_users") or {}
    if not isinstance(users, Mapping):
        raise WebConfigError(f"{path}: basic_auth_users must map user names to bcrypt hashes")
    hashes = {}
    for name, hashed in users.items():
        encoded = str(hashed).encode()
        if not encoded.startswith(BCRYPT_PREFIXES) or len(encoded) != 60:
            raise WebConfigError(f"{path}: the hash of user {name!s} is not a bcrypt hash")
        hashes[str(name)] = encoded
    return hashes


def server_context(tls: TlsSettings, path: Path) -> ssl.SSLContext:
    """A server TLS context for `tls`: its certificate, key, client CA and minimum."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    apply_tls(context, tls, path)
    return context


def apply_tls(context: ssl.SSLContext, tls: TlsSettings, path: Path) -> None:
    """Load `tls` into `context`: for a context already listening, the next handshake
    uses it (a renewed certificate served without a restart)."""
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise WebConfigError(f"{path}: the certificate or key does not load ({why})") from None
    context.minimum_version = MIN_VERSIONS[tls.min_version]
    if tls.client_auth_type == "RequireAndVerifyClientCert":
        assert tls.client_ca_file is not None
        try:
            context.load_verify_locations(cafile=tls.client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise WebConfigError(f"{path}: client_ca_file does not load ({exc})") from None
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.verify_mode = ssl.CERT_NONE
