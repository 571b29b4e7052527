"""The configuration file: deployments, how to authenticate to each, thresholds.

TOML at `platformdirs.user_config_path("wa-tui") / "config.toml"`, or `WA_TUI_CONFIG`, or
`--config PATH`. Read with tomllib, validated with pydantic; every mistake becomes one
`ConfigError` line naming the file, the key and what is expected. Plain Python.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wa_tui.analysis import Thresholds
from wa_tui.analysis.forecast import ForecastThresholds
from wa_tui.analysis.vitals import VitalsThresholds
from wa_tui.api.pinning import Pins, fingerprint
from wa_tui.core.config_file import read_raw
from wa_tui.core.errors import ConfigError
from wa_tui.core.text import GIB
from wa_tui.core.thresholds import DEFAULT_MAX_IN_FLIGHT, DEFAULTS

ENV_RECORDER = "WA_TUI_RECORDER"


class DeploymentSettings(BaseModel):
    """Everything that can be set per deployment, or in [defaults] for all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_command: str | None = None
    token_env: str | None = None
    api_key_env: str | None = None
    verify_tls: bool = True
    ca_bundle: Path | None = None
    # The webapp's certificate as `wa-tui trust` kept it (its SHA-256; a list for webapps
    # behind a pass-through balancer): checked on the handshake, over verify_tls and
    # ca_bundle (wa_tui/api/pinning.py).
    tls_fingerprint: str | list[str] | None = None
    interval: float = Field(default=5.0, gt=0)
    timeout: float = Field(default=10.0, gt=0)
    expected_shards: Literal[1, 2, 4, 8, 16, 32] | None = None
    expiry_warning_days: float = Field(default=DEFAULTS["expiry_warning_days"], ge=0)
    disk_warning_gib: float = Field(default=DEFAULTS["disk_warning_gib"], ge=0)
    disk_critical_gib: float = Field(default=DEFAULTS["disk_critical_gib"], ge=0)
    db_stats_interval: float = Field(default=60.0, gt=0)
    # `/v1/stats/db` can take long on a large database: its own deadline, not `timeout`.
    db_stats_timeout: float = Field(default=30.0, gt=0)
    # Requests to the deployment at once, from this whole process (the API answers 503
    # past its concurrency capacity: a monitor must never be that load).
    max_in_flight: int = Field(default=DEFAULT_MAX_IN_FLIGHT, ge=1, le=16)
    callback_queue_warning: float = Field(default=DEFAULTS["callback_queue_warning"], ge=0)
    callback_queue_critical: float = Field(default=DEFAULTS["callback_queue_critical"], ge=0)
    callback_failing_percent: float = Field(
        default=DEFAULTS["callback_failing_percent"], ge=0, le=100
    )
    pending_messages_warning: float = Field(default=DEFAULTS["pending_messages_warning"], ge=0)
    db_errors_per_second: float = Field(default=DEFAULTS["db_errors_per_second"], ge=0)
    api_5xx_percent: float = Field(default=DEFAULTS["api_5xx_percent"], ge=0, le=100)
    # Forecasts (README "Findings"): DISK_FULL_SOON and CALLBACK_QUEUE_RISING.
    disk_forecast_warning_hours: float = Field(
        default=DEFAULTS["disk_forecast_warning_hours"], gt=0
    )
    disk_forecast_critical_hours: float = Field(
        default=DEFAULTS["disk_forecast_critical_hours"], gt=0
    )
    queue_forecast_warning_minutes: float = Field(
        default=DEFAULTS["queue_forecast_warning_minutes"], gt=0
    )
    # The application settings (README "When callbacks fail"), read this often and on `r`.
    settings_interval: float = Field(default=300.0, gt=0)
    webhook_probe: Literal["tls", "off"] = "tls"
    webhook_cert_warning_days: float = Field(default=DEFAULTS["webhook_cert_warning_days"], ge=0)
    # How to read a node's log: an argument list with {host} and {container}
    # (wa_tui/api/node_logs.py).
    logs_command: list[str] | None = None
    # A host as the API names it -> the name ssh reaches it by.
    host_aliases: dict[str, str] = {}
    # The folder `wa-tui record --dir` writes to: the dashboard, `check` and `snapshot`
    # read this deployment's recording there instead of polling (README "One recorder
    # for the on-call team"). WA_TUI_RECORDER says the same for every deployment.
    recorder: Path | None = None

    @field_validator("logs_command")
    @classmethod
    def _a_command(cls, command: list[str] | None) -> list[str] | None:
        if command is not None and (not command or not command[0].strip()):
            raise ValueError('expected a program and its arguments, e.g. ["ssh", "{host}", ...]')
        return command

    @field_validator("tls_fingerprint")
    @classmethod
    def _fingerprints(cls, pins: str | list[str] | None) -> str | list[str] | None:
        if isinstance(pins, list):
            if not pins:
                raise ValueError("an empty list: give one fingerprint or more, or none")
            return [fingerprint(pin) for pin in pins]
        return fingerprint(pins) if pins is not None else None

    @property
    def pins(self) -> Pins | None:
        """The fingerprints the webapp's certificate may have, if any are kept."""
        pins = self.tls_fingerprint
        if pins is None:
            return None
        return Pins([pins] if isinstance(pins, str) else pins)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return url.rstrip("/") if url else url

    @property
    def threshold_values(self) -> dict[str, float]:
        """Every threshold by its key (core/thresholds.py): what a recorder judges with,
        written in its recording's meta."""
        return {key: float(getattr(self, key)) for key in DEFAULTS}

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            expiry_warning_days=self.expiry_warning_days,
            disk_warning_bytes=int(self.disk_warning_gib * GIB),
            disk_critical_bytes=int(self.disk_critical_gib * GIB),
            webhook_cert_warning_days=self.webhook_cert_warning_days,
        )

    @property
    def forecast_thresholds(self) -> ForecastThresholds:
        return ForecastThresholds(
            disk_warning_hours=self.disk_forecast_warning_hours,
            disk_critical_hours=self.disk_forecast_critical_hours,
            queue_warning_minutes=self.queue_forecast_warning_minutes,
            queue_critical=self.callback_queue_critical,
        )

    @property
    def vitals_thresholds(self) -> VitalsThresholds:
        return VitalsThresholds(
            callback_queue_warning=self.callback_queue_warning,
            callback_queue_critical=self.callback_queue_critical,
            callback_failing_share=self.callback_failing_percent / 100,
            pending_messages_warning=self.pending_messages_warning,
            db_errors_per_s=self.db_errors_per_second,
            api_5xx_share=self.api_5xx_percent / 100,
        )


class DeploymentConfig(DeploymentSettings):
    """One `[deployments.NAME]` table, with [defaults] applied. Its validator, and the
    file's, are built when a file is read (`defer_build`): `--url` reads none."""

    model_config = ConfigDict(defer_build=True)  # the rest as DeploymentSettings

    name: str
    url: str  # type: ignore[assignment]  # required here


class PrometheusConfig(BaseModel):
    """The `[prometheus]` table: the Prometheus `wa-tui --prometheus` reads the fleet
    from, and how to reach it behind its own web configuration (never a password here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = None
    verify_tls: bool = True
    ca_bundle: Path | None = None
    # The webapp's certificate as `wa-tui trust` kept it (its SHA-256; a list for webapps
    # behind a pass-through balancer): checked on the handshake, over verify_tls and
    # ca_bundle (wa_tui/api/pinning.py).
    tls_fingerprint: str | list[str] | None = None
    username: str | None = None
    password_env: str | None = None
    password_command: str | None = None


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    defaults: DeploymentSettings = DeploymentSettings()
    deployments: dict[str, dict[str, Any]] = {}
    keys: dict[str, Any] = {}  # binding id -> keys (wa_tui/keys.py)
    prometheus: PrometheusConfig = PrometheusConfig()


# The keys a table may hold, by how deep it is: [defaults] and [deployments.NAME] (2),
# or the top of the file (1).
_KNOWN_KEYS: dict[int, tuple[str, ...]] = {
    1: tuple(ConfigFile.model_fields),
    2: tuple(DeploymentSettings.model_fields),
}


def recorder_folder(settings: DeploymentSettings) -> Path | None:
    """Where a recorder keeps the deployment's recording: `recorder` of its settings,
    else WA_TUI_RECORDER; None when neither says."""
    folder = settings.recorder or os.environ.get(ENV_RECORDER)
    return Path(folder).expanduser() if folder else None


def _describe(error: dict[str, Any], prefix: str = "") -> str:
    key = ".".join([prefix, *map(str, error["loc"])] if prefix else map(str, error["loc"]))
    if error["type"] == "extra_forbidden":
        from difflib import get_close_matches

        in_prometheus = not prefix and error["loc"][0] == "prometheus"
        known = (
            tuple(PrometheusConfig.model_fields)
            if in_prometheus
            else _KNOWN_KEYS.get(len(error["loc"]) + bool(prefix), ())
        )
        likely = get_close_matches(str(error["loc"][-1]), known, n=1)
        guess = f" (did you mean {likely[0]!r}?)" if likely else ""
        return f"unknown key {key!r}{guess}"
    if error["type"] == "missing":
        return f"{key!r} is required"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key!r}: {message[:1].lower()}{message[1:]} (got {error.get('input')!r})"


def _one_line(path: Path, exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first mistake, an unknown key first: a misspelt key also makes the key it
    should have been missing, and the misspelling is what the user must see."""
    errors = sorted(exc.errors(), key=lambda error: error["type"] != "extra_forbidden")
    first = _describe(errors[0], prefix)
    # The key a misspelling was meant to be is missing: not a second mistake to count.
    rest = [e for e in errors[1:] if not (e["type"] == "missing" and f"{e['loc'][-1]!r}?" in first)]
    more = f" (and {len(rest)} more)" if rest else ""
    return ConfigError(f"{path}: {first}{more}")


def parse(path: Path) -> ConfigFile:
    """The file, read and validated: once per start (wa_tui/cli/start.py keeps it)."""
    from wa_tui.keys import keymap_of

    try:
        parsed = ConfigFile.model_validate(read_raw(path))
    except ValidationError as exc:
        raise _one_line(path, exc) from None
    keymap_of(parsed.keys, path)  # checked with the rest (a follower reads it alone)
    return parsed


def deployments(document: ConfigFile, path: Path) -> list[DeploymentConfig]:
    """Every deployment in the file, in file order, with [defaults] applied."""
    defaults = document.defaults.model_dump(exclude_unset=True)
    found = []
    for name, table in document.deployments.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: 'deployments.{name}' must be a table")
        try:
            found.append(DeploymentConfig.model_validate({**defaults, **table, "name": name}))
        except ValidationError as exc:
            raise _one_line(path, exc, prefix=f"deployments.{name}") from None
    return found


def load(path: Path) -> list[DeploymentConfig]:
    """Every deployment in the file at `path` (read here: `config check`, `trust`)."""
    return deployments(parse(path), path)


def find(deployments: list[DeploymentConfig], name: str, path: Path) -> DeploymentConfig:
    for deployment in deployments:
        if deployment.name == name:
            return deployment
    known = ", ".join(d.name for d in deployments) or "none"
    raise ConfigError(f"{path}: no deployment {name!r} (configured: {known})")


def add_deployment(path: Path, name: str, url: str, username: str | None) -> None:
    """Add `[deployments.NAME]`, or set its url and username, keeping the rest of the
    file as written: its comments, its layout, the table's other keys (a pin). Never
    writes a password."""
    values: dict[str, Any] = {"url": url, **({"username": username} if username else {})}
    try:
        DeploymentConfig.model_validate({**values, "name": name})
    except ValidationError as exc:
        raise _one_line(path, exc, prefix=f"deployments.{name}") from None

    def add(document: Any) -> None:
        import tomlkit

        deployments = document.setdefault("deployments", tomlkit.table(is_super_table=True))
        table = deployments.setdefault(name, tomlkit.table())
        table.update(values)

    _edit(path, add, create=True)


def pin_certificate(path: Path, name: str, pins: list[str]) -> None:
    """Keep `tls_fingerprint` in `[deployments.NAME]` (a list for several), the rest of
    the file as written."""

    def pin(document: Any) -> None:
        table = document.get("deployments", {}).get(name)
        if table is None:
            raise ConfigError(f"{path}: no [deployments.{name}] table")
        table["tls_fingerprint"] = pins[0] if len(pins) == 1 else pins

    _edit(path, pin)


def _edit(path: Path, change: Callable[[Any], None], create: bool = False) -> None:
    """Read the file with tomlkit (which keeps comments and layout), `change` it, write
    it whole in its place (a reader never sees half a file; its mode is kept)."""
    import tomlkit

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not create:
            raise ConfigError(f"{path}: no such file") from None
        text = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    change(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = path.with_name(f".{path.name}.new")
    try:
        written.write_text(tomlkit.dumps(document), encoding="utf-8")
        if path.exists():
            os.chmod(written, path.stat().st_mode & 0o7777)
        os.replace(written, path)
    except OSError as exc:
        written.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
