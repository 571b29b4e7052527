"""Every key wa-tui binds, by id: the one source the screens' bindings, the help, the
command palette, the footer and `config check` read.

An id is `scope.name` (`dashboard.refresh`, `nodes.down`, `replay.next_event`); the
`[keys]` table of the config file remaps one to a comma-separated list of keys, in
Textual's names (`r`, `ctrl+r`, `f5`, `question_mark`), as Textual's keymap does.
Plain Python: `config check` validates a keymap without Textual.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from wa_tui.core.errors import ConfigError


@dataclass(frozen=True)
class Key:
    """One binding: its id, default keys and what it does."""

    id: str
    keys: str  # Textual key names, comma-separated
    action: str
    description: str
    tooltip: str = ""
    display: str | None = None  # how the default keys read, when not as named
    show: bool = True  # in the footer
    priority: bool = False  # run before the focused widget sees the key

    @property
    def scope(self) -> str:
        return self.id.split(".", 1)[0]


def _navigation(scope: str, row: str, enter: str) -> tuple[Key, ...]:
    """The keys of a table whose rows are `row`s; `enter` says what enter does."""
    return (
        Key(f"{scope}.down", "down,j", "cursor_down", "Down", display="↓ j", show=False),
        Key(f"{scope}.up", "up,k", "cursor_up", "Up", display="↑ k", show=False),
        Key(f"{scope}.page_down", "pagedown", "page_down", "Page down", display="pgdn", show=False),
        Key(f"{scope}.page_up", "pageup", "page_up", "Page up", display="pgup", show=False),
        Key(f"{scope}.first", "home,g", "first", f"First {row}", display="home g", show=False),
        Key(f"{scope}.last", "end,G", "last", f"Last {row}", display="end G", show=False),
        Key(f"{scope}.open", "enter", "select", enter, show=False),
    )


def _scrolling(scope: str, top: str, bottom: str) -> tuple[Key, ...]:
    """The keys of a pane of text that scrolls: by a line, by a page, to either end."""
    return (
        Key(f"{scope}.down", "j,down", "scroll_down", "Scroll down", display="↓ j", show=False),
        Key(f"{scope}.up", "k,up", "scroll_up", "Scroll up", display="↑ k", show=False),
        Key(f"{scope}.page_down", "pagedown", "page_down", "Page down", display="pgdn", show=False),
        Key(f"{scope}.page_up", "pageup", "page_up", "Page up", display="pgup", show=False),
        Key(f"{scope}.top", "home,g", "scroll_home", top, display="home g", show=False),
        Key(f"{scope}.bottom", "end,G", "scroll_end", bottom, display="end G", show=False),
    )


# The footer shows, in this order, the `show` keys; help and quit come first so that a
# narrow terminal, which cuts the footer's end, still shows them.
DASHBOARD = (
    Key("dashboard.help", "question_mark", "help", "Help", "List every key", display="?"),
    Key("dashboard.quit", "q", "quit", "Quit", "Leave wa-tui"),
    Key("dashboard.refresh", "r", "refresh", "Refresh", "Poll the deployment now"),
    Key("dashboard.pause", "p", "toggle_pause", "Pause", "Stop or restart polling"),
    Key("dashboard.switch", "s", "switch", "Deployments", "Show another deployment"),
    Key("dashboard.fleet", "F", "fleet", "Fleet", "Every deployment at a glance, worst first"),
    Key(
        "dashboard.events",
        "e",
        "screen.toggle_pane('events')",
        "Events",
        "Show or hide the change log",
    ),
    Key(
        "dashboard.vitals", "v", "screen.toggle_pane('vitals')", "Vitals", "Show or hide the vitals"
    ),
    Key(
        "dashboard.screenshot",
        "w",
        "save_screenshot",
        "Screenshot",
        "Save an SVG of the screen",
        show=False,
    ),
    Key(
        "dashboard.webhook",
        "W",
        "webhook",
        "Webhook",
        "Where callbacks go: the settings, the probe, a test POST on request",
        show=False,
    ),
    Key(
        "dashboard.account",
        "i",
        "account",
        "Incident",
        "What was seen, accounted: failovers, shards down, findings, peaks, charts",
        show=False,
    ),
    Key(
        "dashboard.nodes",
        "n",
        "screen.focus_nodes",
        "Node list",
        "Move to the node list",
        show=False,
    ),
    Key(
        "dashboard.detail",
        "d",
        "screen.focus_detail",
        "Detail",
        "Move to the node detail",
        show=False,
    ),
)
# What the dashboard's screen does with the deployment and node on it (its own bindings:
# not in force on the fleet or a dialog over it). Ids keep the `dashboard.` scope.
DEPLOYMENT = (
    Key(
        "dashboard.copy_node",
        "y",
        "copy_node",
        "Copy node",
        "Copy the selected node's JSON, secrets masked (OSC 52: works over SSH)",
        show=False,
    ),
    Key(
        "dashboard.copy_findings",
        "Y",
        "copy_findings",
        "Copy findings",
        "Copy the findings, one line each, to the clipboard",
        show=False,
    ),
    Key(
        "dashboard.logs",
        "l",
        "logs",
        "Logs",
        "The selected node's log (logs_command in the config)",
        show=False,
    ),
    Key(
        "dashboard.secrets",
        "x",
        "toggle_secrets",
        "Reveal secrets",
        "Show secret values in the detail (with --show-secrets)",
        show=False,
    ),
    Key("dashboard.bundle", "b", "bundle", "Bundle", "Write a hand-over bundle", show=False),
)
NODES = _navigation("nodes", "node", "Open the detail")
# `escape`: back to the node list, from the detail or from a pane filling the screen (a
# narrow terminal); bound on the detail and on the dashboard's screen alike.
BACK = Key(
    "detail.back",
    "escape",
    "screen.back",
    "Back",
    "Back to the node list, from the detail or a pane filling the screen",
    display="esc",
)
DETAIL = (*_scrolling("detail", top="Top", bottom="Bottom"), BACK)
REPLAY = (
    Key("replay.play", "space", "play", "Play/pause", "Play or pause the recording"),
    Key("replay.back", "left_square_bracket", "step(-1)", "Back", "One poll back", display="["),
    Key("replay.on", "right_square_bracket", "step(1)", "On", "One poll on", display="]"),
    Key(
        "replay.previous_event",
        "left_curly_bracket",
        "event(False)",
        "Prev event",
        "The previous event",
        display="{",
    ),
    Key(
        "replay.next_event",
        "right_curly_bracket",
        "event(True)",
        "Next event",
        "The next event",
        display="}",
    ),
    Key("replay.jump", "t", "jump", "Jump", "Jump to a time"),
    Key("replay.faster", "plus", "speed(True)", "Faster", "Play faster", display="+", show=False),
    Key("replay.slower", "minus", "speed(False)", "Slower", "Play slower", display="-", show=False),
)
# Attached to a recorder: moving back into the recording as a replay does, and back.
FOLLOW_LIVE = Key(
    "follow.live", "space,L", "live", "Live", "Back to the newest poll, following the recorder"
)
FOLLOW = (
    FOLLOW_LIVE,
    *(key for key in REPLAY if key.action.startswith(("step", "event", "jump"))),
)
FLEET = (
    Key("fleet.back", "escape", "back", "Back"),
    # A priority binding is run as the key arrives, before the keys behind it are
    # handed to the focused widget: `/gam` in one read filters by "gam".
    Key("fleet.filter", "slash", "filter", "Filter", display="/", priority=True),
)
FLEET_LIST = _navigation("fleet_list", "deployment", "Open its dashboard")
HELP = (Key("help.close", "escape,q,question_mark", "dismiss", "Close help"),)
SWITCHER = (Key("switcher.close", "escape,s", "dismiss", "Close"),)
CONFIRM = (
    Key("confirm.yes", "y", "answer(True)", "Yes"),
    Key("confirm.no", "n,escape,enter", "answer(False)", "No"),
)
LOGIN = (Key("login.skip", "escape", "skip", "Skip this deployment"),)
JUMP = (Key("jump.cancel", "escape", "dismiss(None)", "Cancel"),)
WEBHOOK = (
    Key("webhook.close", "escape,q,W", "dismiss", "Close"),
    Key("webhook.probe", "p", "probe", "Probe again", "Probe the webhook again now"),
    Key("webhook.post", "t", "test_post", "Test POST", "Send one test POST, after a confirmation"),
)
LOGS = (
    Key("logs.close", "escape,q", "close", "Close"),
    Key("logs.follow", "f", "toggle_follow", "Follow", "Keep the newest line in view, or stop"),
    # Priority, as the fleet's filter: `/one` in one read searches for "one".
    Key("logs.search", "slash", "search", "Search", display="/", priority=True),
    Key("logs.next", "n", "next_match", "Next match", show=False),
    Key("logs.previous", "N", "previous_match", "Previous match", show=False),
    *_scrolling("logs", top="Oldest", bottom="Newest"),
)
ACCOUNT = (
    Key("account.close", "escape,q,i", "dismiss", "Close"),
    Key("account.jump", "enter", "jump", "Jump there", "In replay: go to that moment"),
)
PALETTE = (
    Key("palette.next_page", "pagedown", "page('page_down')", "Next page", show=False),
    Key("palette.previous_page", "pageup", "page('page_up')", "Previous page", show=False),
)

ALL = (DASHBOARD + DEPLOYMENT + NODES + DETAIL + REPLAY + FLEET + FLEET_LIST + HELP) + (
    SWITCHER + CONFIRM + LOGIN + JUMP + PALETTE + WEBHOOK + LOGS + ACCOUNT + (FOLLOW_LIVE,)
)
BY_ID = {key.id: key for key in ALL}

# The bindings in force together: a screen's own, its app's and the focused widget's. A
# key may be bound once in each.
IN_FORCE: tuple[tuple[tuple[Key, ...], ...], ...] = (
    (DASHBOARD, DEPLOYMENT, NODES),
    (DASHBOARD, DEPLOYMENT, DETAIL),
    (REPLAY, DASHBOARD, DEPLOYMENT, NODES),
    (REPLAY, DASHBOARD, DEPLOYMENT, DETAIL),
    (FOLLOW, DASHBOARD, DEPLOYMENT, NODES),
    (FOLLOW, DASHBOARD, DEPLOYMENT, DETAIL),
    (FLEET, FLEET_LIST, DASHBOARD),
    (HELP,),
    (SWITCHER,),
    (CONFIRM,),
    (LOGIN,),
    (JUMP,),
    (PALETTE,),
    (WEBHOOK,),
    (LOGS,),
    (ACCOUNT,),
)


# Unicode's names of these keys, and Textual's.
_RENAMED = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def key_name(key: str) -> str:
    """A key as Textual names it: `?` is `question_mark`, `/` is `slash`."""
    if len(key) == 1 and not key.isalnum():
        name = unicodedata.name(key, key).lower().replace("-", "_").replace(" ", "_")
        return _RENAMED.get(name, name)
    return key


def split_keys(keys: str) -> list[str]:
    """`"?, ctrl+r"` -> `["question_mark", "ctrl+r"]`."""
    return [key_name(key.strip()) for key in keys.split(",") if key.strip()]


def keymap_problems(keymap: Mapping[str, object]) -> list[str]:
    """What is wrong with a `[keys]` table: an unknown id (with the likeliest meant), a
    value that is not keys, a key bound twice among the bindings in force together."""
    import difflib

    problems = []
    for binding_id, value in keymap.items():
        if binding_id not in BY_ID:
            likely = difflib.get_close_matches(binding_id, BY_ID, n=1)
            guess = f" (did you mean {likely[0]!r}?)" if likely else ""
            problems.append(f"keys: unknown binding id {binding_id!r}{guess}")
        elif not isinstance(value, str) or not split_keys(value):
            problems.append(f'keys.{binding_id}: expected keys such as "r" or "f5,ctrl+r"')
    if problems:
        return problems
    for group in IN_FORCE:
        problems += _bound_twice(_with_keymap((k for keys in group for k in keys), keymap))
    return list(dict.fromkeys(problems))


def keymap_of(table: object, path: Path) -> dict[str, str]:
    """A config file's `[keys]` table checked, each value in Textual's key names
    (ConfigError: one line saying what is wrong, and how many more things are)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: keys: expected a table of binding ids")
    problems = keymap_problems(table)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{path}: {problems[0]}{more}")
    return {id: ",".join(split_keys(keys)) for id, keys in table.items()}


def keys_of(key: Key, keymap: Mapping[str, object]) -> list[str]:
    """The keys that run `key` once `keymap` is applied."""
    remapped = keymap.get(key.id)
    return split_keys(remapped if isinstance(remapped, str) else key.keys)


def _with_keymap(keys: Iterable[Key], keymap: Mapping[str, object]) -> list[tuple[str, Key]]:
    return [(name, key) for key in keys for name in keys_of(key, keymap)]


def _bound_twice(pairs: list[tuple[str, Key]]) -> list[str]:
    seen: dict[str, Key] = {}
    problems = []
    for name, key in pairs:
        other = seen.setdefault(name, key)
        if other is not key:
            problems.append(f"keys: {name!r} is bound to both {other.id} and {key.id}")
    return problems
