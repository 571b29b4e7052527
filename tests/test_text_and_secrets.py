"""Server strings made visible, and secrets masked by the documented rule."""

from __future__ import annotations

import pytest

from wa_tui.core.secrets import MASK, mask_env_entry, mask_tree
from wa_tui.core.text import human_bytes, visible


def test_control_characters_become_visible() -> None:
    hostile = "ubuntu\x1b[2J\x1b]0;owned\x07\r\x08\x7f\x9b"
    shown = visible(hostile)
    assert shown == "ubuntu\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x08\\x7f\\x9b"
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown)


def test_long_values_are_cut_with_an_ellipsis() -> None:
    assert visible("x" * 10_000, limit=40) == "x" * 39 + "…"


@pytest.mark.parametrize(
    "entry",
    [
        "WA_DB_PASSWORD=hunter2",
        "WA_API_KEY=abc",
        "MYSQL_ROOT_PASSWORD=root",
        "GF_SECURITY_ADMIN_PASSWORD=admin",
        "DATA_SOURCE_NAME=mysql://u:p@h/",
        "MY_SECRET=x",
        "AUTH_TOKEN=x",
        "SOME_CREDENTIALS=x",
        "PRIVATE_THING=x",
        "WA_DB_DSN=x",
    ],
)
def test_secret_looking_env_values_are_masked(entry: str) -> None:
    key = entry.partition("=")[0]
    assert mask_env_entry(entry) == f"{key}={MASK}"


def test_url_passwords_are_masked_wherever_they_are() -> None:
    assert mask_env_entry("UPSTREAM=https://bob:pa55@db.internal:5432/x") == (
        f"UPSTREAM=https://bob:{MASK}@db.internal:5432/x"
    )
    assert mask_env_entry("WA_DB_HOSTNAME=mysql.internal") == "WA_DB_HOSTNAME=mysql.internal"


def test_mask_tree_reaches_nested_values() -> None:
    tree = {"env": ["WA_DB_PASSWORD=x", "TZ=UTC"], "extra": {"api_token": "t", "n": 3}}
    assert mask_tree(tree) == {
        "env": [f"WA_DB_PASSWORD={MASK}", "TZ=UTC"],
        "extra": {"api_token": MASK, "n": 3},
    }


def test_human_bytes_reads_the_sentinel_as_unlimited() -> None:
    assert human_bytes(9223372036853727000) == "unlimited"
    assert human_bytes(14269902848) == "13.3 GiB"
    assert human_bytes(512) == "512 B"
