"""The dashboard in a browser (`wa-tui web`: Textual's web driver runs it): read-only on
the server. It runs no command there and writes nothing there outside its private
temporary folder: what would (a node's log, secrets asked of the deployment) says so when
pressed, and is left out of the help and the palette; the screenshot and the bundle reach
the browser as downloads, the bundle's phone numbers masked (the web's audience is wider
than the recorder's group)."""

from __future__ import annotations

from textual.app import App

from wa_tui.ui.help_screen import HelpGroups

# The actions a web view does not run, and what pressing their key says.
REFUSED = {
    "logs": "not in the web view: a node's log is read by a command on the server",
    "toggle_secrets": "not in the web view: secret values are never shown in a browser",
}


def refused(app: App[object], action: str) -> str | None:
    """Why `action` does not run here (None: it does)."""
    return REFUSED.get(action) if app.is_web else None


def usable(app: App[object], groups: HelpGroups) -> HelpGroups:
    """`groups` of keys as the help and the palette list them: in a web view, without
    the keys it refuses."""
    if not app.is_web:
        return groups
    kept = ((title, tuple(k for k in keys if k.action not in REFUSED)) for title, keys in groups)
    return tuple((title, keys) for title, keys in kept if keys)
