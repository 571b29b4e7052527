"""Which deployments to read, and how: the config file, the command line and the
environment folded into `Target`s. Plain Python, shared by the app, `snapshot` and `check`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wa_tui.api.auth import Credentials, TokenCache, password_from_command, password_from_env
from wa_tui.api.pinning import Pins, fingerprint
from wa_tui.config import ConfigError, DeploymentConfig, DeploymentSettings, find

if TYPE_CHECKING:
    from wa_tui.api.client import WAClient

ENV_TOKEN = "WA_TUI_TOKEN"
ENV_USERNAME = "WA_TUI_USERNAME"
ENV_PASSWORD = "WA_TUI_PASSWORD"
ENV_API_KEY = "WA_TUI_API_KEY"
ENV_TLS_FINGERPRINT = "WA_TUI_TLS_FINGERPRINT"


@dataclass(frozen=True)
class Overrides:
    """Command-line options that win over the config file."""

    timeout: float | None = None
    interval: float | None = None
    insecure: bool = False
    ca_bundle: str | None = None
    tls_fingerprint: str | None = None  # --tls-fingerprint / WA_TUI_TLS_FINGERPRINT


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    credentials: Credentials
    settings: DeploymentSettings = field(hash=False)  # holds tables: not hashable
    # False: not verified; a str: the CA bundle to verify against; Pins: the certificates
    # trusted (wa_tui/api/pinning.py)
    verify: bool | str | Pins
    token_cache: TokenCache | None = None
    # Requests over aiohttp's pool (wa_tui/api/transport.py): for processes polling many.
    aiohttp_transport: bool = False

    @property
    def tls_unverified(self) -> bool:
        return self.url.startswith("https://") and self.verify is False

    @property
    def needs_password(self) -> bool:
        """A username with no password source and no token: ask the user at start."""
        creds = self.credentials
        return bool(creds.username) and creds.password is None and not creds.token

    def with_password(self, password: str) -> Target:
        username = self.credentials.username or ""
        return replace(self, credentials=Credentials.with_password(username, password))

    def client(self) -> WAClient:
        from wa_tui.api.client import WAClient

        return WAClient(
            self.url,
            self.credentials,
            timeout=self.settings.timeout,
            verify=self.verify,
            expected_shards=self.settings.expected_shards,
            token_cache=self.token_cache,
            aiohttp_transport=self.aiohttp_transport,
            max_in_flight=self.settings.max_in_flight,
            db_stats_timeout=self.settings.db_stats_timeout,
        )


def _apply(settings: DeploymentSettings, overrides: Overrides) -> DeploymentSettings:
    changes = {
        key: value
        for key, value in (("timeout", overrides.timeout), ("interval", overrides.interval))
        if value is not None
    }
    return settings.model_copy(update=changes)


def _verify(settings: DeploymentSettings, overrides: Overrides) -> bool | str | Pins:
    """--insecure over all; a pin over verify_tls and the CA bundle; then those."""
    if overrides.insecure:
        return False
    if overrides.tls_fingerprint is not None:
        try:
            return Pins([fingerprint(overrides.tls_fingerprint)])
        except ValueError as exc:
            raise ConfigError(f"--tls-fingerprint / {ENV_TLS_FINGERPRINT}: {exc}") from None
    if settings.pins is not None:
        return settings.pins
    if not settings.verify_tls:
        return False
    bundle = overrides.ca_bundle or settings.ca_bundle
    if bundle is None:
        return True
    path = Path(bundle).expanduser()
    if not path.is_file():
        raise ConfigError(f"CA bundle {path} does not exist")
    return str(path)


def from_url(url: str, overrides: Overrides) -> Target:
    """`--url`: credentials from WA_TUI_TOKEN, or WA_TUI_USERNAME and WA_TUI_PASSWORD."""
    token = os.environ.get(ENV_TOKEN)
    username = os.environ.get(ENV_USERNAME)
    has_password = bool(os.environ.get(ENV_PASSWORD))
    if not token and not (username and has_password):
        raise ConfigError(f"no credentials: set {ENV_TOKEN}, or {ENV_USERNAME} and {ENV_PASSWORD}")
    credentials = Credentials(
        username=username,
        password=password_from_env(ENV_PASSWORD) if has_password else None,
        token=token,
        api_key=os.environ.get(ENV_API_KEY) or None,
    )
    settings = _apply(DeploymentSettings(url=url), overrides)
    name = url.split("://")[-1].rstrip("/")
    return Target(
        name, url.rstrip("/"), credentials, settings, _verify(settings, overrides), TokenCache()
    )


def _from_env(deployment: DeploymentConfig, key: str) -> str | None:
    """The value of the variable a `*_env` key names; it must be set if named."""
    variable = getattr(deployment, key)
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"deployment {deployment.name!r}: {key} {variable} is not set")
    return value


def _credentials(deployment: DeploymentConfig) -> Credentials:
    token = _from_env(deployment, "token_env")
    if deployment.password_env:
        password = password_from_env(deployment.password_env)
    elif deployment.password_command:
        password = password_from_command(deployment.password_command)
    else:
        password = None
    if not token and not deployment.username:
        raise ConfigError(
            f"deployment {deployment.name!r}: set username (with password_env, "
            "password_command, or be asked at start) or token_env"
        )
    return Credentials(
        username=deployment.username,
        password=password,
        token=token,
        api_key=_from_env(deployment, "api_key_env"),
    )


def from_config(deployment: DeploymentConfig, overrides: Overrides) -> Target:
    settings = _apply(deployment, overrides)
    return Target(
        deployment.name,
        deployment.url,
        _credentials(deployment),
        settings,
        _verify(settings, overrides),
        TokenCache(),
    )


def configured(
    deployments: list[DeploymentConfig], path: Path, profile: str | None, overrides: Overrides
) -> list[Target]:
    """`--profile NAME`: that deployment; else every deployment of the file at `path`."""
    if profile is not None:
        deployments = [find(deployments, profile, path)]
    if not deployments:
        raise ConfigError(f"{path}: no [deployments.NAME] table")
    return [from_config(d, overrides) for d in deployments]


def demo(
    url: str,
    username: str,
    password: str,
    overrides: Overrides,
    logs_command: list[str] | None = None,
) -> Target:
    settings = _apply(DeploymentSettings(url=url, logs_command=logs_command), overrides)
    credentials = Credentials.with_password(username, password)
    return Target("demo", url, credentials, settings, verify=True)
