"""Where the config file is, and its TOML read: plain Python, what a start needs before
the config's models load (wa_tui/config.py validates the file with pydantic; a
follower's first frame reads its `[keys]` alone: wa_tui/keys.py `keymap_of`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wa_tui.core.errors import ConfigError

ENV_CONFIG = "WA_TUI_CONFIG"


def default_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("wa-tui") / "config.toml"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else WA_TUI_CONFIG, else the platform's config directory."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    return default_path()


def read_raw(path: Path) -> dict[str, Any]:
    import tomllib  # only a config file needs it: `check --url` does not

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; `wa-tui config add NAME --url URL` makes one"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
