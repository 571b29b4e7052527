"""One start of wa-tui: the command line, read once, and the config file it names,
parsed at most once. Every command's handler is given a `Start` and asks it; nothing
below the command line reads an option or the config file again."""

from __future__ import annotations

import argparse
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wa_tui.config import ConfigFile, DeploymentConfig, DeploymentSettings, PrometheusConfig
    from wa_tui.watch.targets import Overrides, Target


class Start:
    """What this start was asked: `args` (the options), and the config file's contents,
    each read when first asked and kept (a SIGHUP asks `configured_anew()`)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def option(self, name: str, default: object = None) -> object:
        """An option the command may not declare (the connection options of `config`)."""
        return getattr(self.args, name, default)

    @cached_property
    def config_path(self) -> Path:
        """--config, else WA_TUI_CONFIG, else the platform's config directory."""
        from wa_tui.core.config_file import config_path

        return config_path(getattr(self.args, "config", None))

    @property
    def has_config(self) -> bool:
        return self.config_path.exists()

    @cached_property
    def _document(self) -> ConfigFile:
        """The file, validated (ConfigError when it is not there or not right)."""
        from wa_tui.config import parse

        return parse(self.config_path)

    @cached_property
    def keymap(self) -> dict[str, str]:
        """The config's `[keys]`, checked (wa_tui/keys.py); none without a file. Read
        alone, without the config's models: a follower's first frame needs no more."""
        from wa_tui.core.config_file import read_raw
        from wa_tui.keys import keymap_of

        if not self.has_config:
            return {}
        return keymap_of(read_raw(self.config_path).get("keys", {}), self.config_path)

    @cached_property
    def prometheus(self) -> PrometheusConfig:
        """The config's `[prometheus]`; its defaults without a file."""
        from wa_tui.config import PrometheusConfig

        return self._document.prometheus if self.has_config else PrometheusConfig()

    @cached_property
    def deployments(self) -> list[DeploymentConfig]:
        """The config's deployments, [defaults] applied."""
        from wa_tui.config import deployments

        return deployments(self._document, self.config_path)

    def settings_by_recording(self) -> dict[str, DeploymentSettings]:
        """The deployments' settings, by the name of their recording's file (--follow);
        none without a config file."""
        from wa_tui.recording.format import recording_path

        if not self.has_config:
            return {}
        return {recording_path(Path(), d.name).stem: d for d in self.deployments}

    @cached_property
    def overrides(self) -> Overrides:
        """What the connection options change of every deployment's settings."""
        from wa_tui.watch.targets import ENV_TLS_FINGERPRINT, Overrides

        return Overrides(
            timeout=self.option("timeout"),  # type: ignore[arg-type]
            interval=self.option("interval"),  # type: ignore[arg-type]
            insecure=bool(self.option("insecure", False)),
            ca_bundle=self.option("ca_bundle"),  # type: ignore[arg-type]
            tls_fingerprint=self.option("tls_fingerprint")  # type: ignore[arg-type]
            or os.environ.get(ENV_TLS_FINGERPRINT)
            or None,
        )

    def configured(self, profile: str | None = None) -> list[Target]:
        """The config's deployments as targets (`profile`: that one alone)."""
        from wa_tui.watch import targets

        return targets.configured(self.deployments, self.config_path, profile, self.overrides)

    def configured_anew(self) -> list[Target]:
        """The config file read again (SIGHUP): the deployments it names now (--profile's
        alone, when given)."""
        return Start(self.args).configured(self.option("profile"))  # type: ignore[arg-type]
