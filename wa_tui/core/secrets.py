"""Which values are secrets, and how they are masked (the rule: docs/wa-api.md, "Secrets")."""

from __future__ import annotations

import re

MASK = "••••••"
# A phone number, a whole field or inside a text (a finding's message): `+` and 7 to 15
# digits (spaces, dashes or brackets between them), or 10 to 15 digits on their own.
PHONE = re.compile(r"\+\d(?:[ ()-]?\d){6,14}\b|\b\d{10,15}\b")
PHONE_MASK = "+•••••••"

_SECRET_KEY = re.compile(r"PASSWORD|PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|DSN|DATA_SOURCE", re.I)
# scheme://user:password@host — the password part is masked, the rest kept for context.
_URL_CREDENTIALS = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)", re.I)
# A query-string parameter that carries a credential (a webhook URL's `?token=`, a
# signed URL's `sig=`): its value is masked, its name kept.
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:[^=&#\s]*(?:PASSWORD|PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SIG)"
    r"[^=&#\s]*|code|access|hub\.verify_token)=)(?P<value>[^&#\s]+)",
    re.I,
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# `NAME=value` or `NAME: value` inside a line of text (a log line) whose name looks secret.
_ASSIGNED_SECRET = re.compile(
    r"(?P<head>\b[\w.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|CREDENTIAL|PRIVATE_KEY|DSN)"
    r"[\w.-]*\b\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;]+)",
    re.I,
)


# Each a substring of what _SECRET_KEY matches (PASSWORD holds PASS), lower-cased.
_MAYBE_SECRET = (b"pass", b"secret", b"token", b"key", b"credential", b"private", b"dsn")
_MAYBE_SECRET += (b"data_source", b"://")


def may_hold_secrets(raw: bytes) -> bool:
    """False when an answer cannot hold anything mask_tree would mask: no secret-looking
    word and no URL anywhere in it (a quick look spares a walk of a large answer; the
    bytes lowered once and searched for each word: several times quicker than one
    case-blind regular expression, on every answer of every poll)."""
    lowered = raw.lower()
    return any(word in lowered for word in _MAYBE_SECRET)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def mask_value(key: str, value: str) -> str:
    """The value to show for `key`: masked whole when the key looks secret, else any
    password embedded in a URL masked."""
    if is_secret_key(key):
        return MASK
    return mask_url(value)


def mask_url(text: str) -> str:
    """`text` with the passwords and query-string tokens of any URL in it masked."""
    if "://" not in text and "=" not in text:
        return text
    text = _URL_CREDENTIALS.sub(lambda m: m.group("head") + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, text) if "=" in text else text


def mask_line(line: str) -> str:
    """A line of free text (a log) with URL secrets and `secret_name=value` masked."""
    return _ASSIGNED_SECRET.sub(lambda m: m.group("head") + MASK, mask_url(line))


def mask_env_entry(entry: str) -> str:
    """`KEY=VALUE` with the value masked when it looks secret."""
    key, sep, value = entry.partition("=")
    if not sep or not _ENV_NAME.fullmatch(key):  # a URL's query is no env entry
        return mask_value("", entry)
    return f"{key}={mask_value(key, value)}"


MAX_DEPTH = 32


def mask_tree(
    value: object,
    key: str = "",
    *,
    reveal: bool = False,
    depth: int = 0,
    noted: list[str] | None = None,
    where: str = "",
) -> object:
    """A copy of a JSON value with every secret-looking value masked: values under a
    secret-looking key, `KEY=VALUE` strings with such a key, and URL passwords (`reveal`:
    none, on the user's explicit request). Nesting deeper than MAX_DEPTH is cut either
    way (no real field nests like that; a hostile one may). `noted`, if given, gets the
    place of each value masked (`where` is this value's)."""
    if depth > MAX_DEPTH and isinstance(value, dict | list):
        return f"…(nested deeper than {MAX_DEPTH} levels)"
    deeper = {"reveal": reveal, "depth": depth + 1, "noted": noted}
    if isinstance(value, dict):
        return {
            k: mask_tree(v, str(k), where=_at(where, k, noted), **deeper) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            mask_tree(item, key, where=_at(where, i, noted), **deeper)
            for i, item in enumerate(value)
        ]
    if reveal:
        return value
    if isinstance(value, str):
        masked = MASK if is_secret_key(key) else mask_env_entry(value)
    else:
        masked = MASK if is_secret_key(key) and value is not None else value
    if noted is not None and masked != value:
        noted.append(f"{where}: {_what(key, value)}")
    return masked


def _at(where: str, step: object, noted: list[str] | None) -> str:
    """The place one step deeper, spelt out only when places are noted."""
    if noted is None:
        return ""
    if isinstance(step, int):
        return f"{where}[{step}]"
    return f"{where}.{step}" if where else str(step)


def _what(key: str, value: object) -> str:
    """What a masked value was, without the value: its key, or an env entry's name."""
    if isinstance(value, str) and "=" in value and not is_secret_key(key):
        return f"{value.partition('=')[0]}=… masked"
    return f"{key or 'value'} masked"


def mask_phones(value: object, noted: list[str] | None = None, where: str = "") -> object:
    """A copy of a JSON value (or a text) with every phone number masked, the one rule
    of `--redact-phone`; `noted`, if given, gets the place of each value masked."""
    if isinstance(value, dict):
        return {k: mask_phones(v, noted, _at(where, k, noted)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_phones(v, noted, _at(where, i, noted)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    masked = PHONE.sub(PHONE_MASK, value)
    if noted is not None and masked != value:
        noted.append(f"{where}: phone number masked (--redact-phone)")
    return masked
