"""Textual bindings made from wa_tui/keys.py, and how a key reads once remapped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.keys import format_key

from wa_tui.keys import Key, keys_of


def bindings(keys: Iterable[Key]) -> list[Binding]:
    """`keys` as a BINDINGS list, each binding with its id (so a keymap can remap it)."""
    return [
        Binding(
            key.keys,
            key.action,
            key.description,
            show=key.show,
            key_display=key.display,
            priority=key.priority,
            tooltip=key.tooltip,
            id=key.id,
        )
        for key in keys
    ]


def key_display(key: Key, keymap: Mapping[str, str]) -> str:
    """How the keys that run `key` read, `[keys]` of the config file applied."""
    if key.id not in keymap and key.display:
        return key.display
    return " ".join(format_key(name) for name in keys_of(key, keymap))
