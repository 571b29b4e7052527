"""The options the commands share and how they are read: exit codes, option types
(sizes, durations), the connection options, the recorder's, and logging."""

from __future__ import annotations

import argparse
import logging
import re

# What `add_subparsers` returns: each command's module adds its parser to it.
Commands = argparse._SubParsersAction


EXIT_UNREADABLE = 3


class UsageError(Exception):
    """A problem with how wa-tui was called: shown as one line, exit status 2."""


def positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


SIZES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}  # "500M", "2GiB", "100kb"


DURATIONS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}  # "90m", "24h", "7d"


AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]?)(?:i?b)?\s*", re.I)


def amount(value: str, units: dict[str, int], example: str) -> float:
    match = AMOUNT.fullmatch(value)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in units:
        raise argparse.ArgumentTypeError(f"{value!r}: expected e.g. {example}")
    if (amount := float(match.group(1)) * units[unit]) <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return amount


def size(value: str) -> int:
    return int(amount(value, SIZES, "500M or 2G"))


def duration(value: str) -> float:
    """Seconds, given as seconds (`5`, `0.5`) or a duration (`30s`, `90m`, `24h`, `7d`):
    every option of a length of time takes both."""
    return amount(value, DURATIONS, "5, 30s, 90m, 24h or 7d")


def redact_phone_printed(parser: argparse.ArgumentParser) -> None:
    """`--redact-phone` where a command shows or hands over what it read."""
    parser.add_argument(
        "--redact-phone",
        action="store_true",
        help="mask phone numbers (wa_id) in what it writes out, as secrets always are",
    )


def redact_phone_recorded(parser: argparse.ArgumentParser) -> None:
    """`--redact-phone` where a command records: masked before anything is written."""
    parser.add_argument(
        "--redact-phone",
        action="store_true",
        help="mask phone numbers (wa_id) before they are recorded, as secrets always are",
    )


def connection_options(inherit: bool = False) -> argparse.ArgumentParser:
    """The options every command that reads a deployment takes. With `inherit`, an option
    left out after the command keeps the value given before it (`wa-tui --demo check`)."""
    options = argparse.ArgumentParser(
        add_help=False, argument_default=argparse.SUPPRESS if inherit else None
    )
    source = options.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true", help="a live simulated deployment")
    source.add_argument("--url", help="the deployment's admin API, e.g. https://wa.example:9090")
    source.add_argument("--profile", metavar="NAME", help="a deployment of the config file")
    options.add_argument("--config", metavar="PATH", help="the config file to read")
    options.add_argument(
        "--timeout", type=duration, help="how long a request may take (seconds, or 1m)"
    )
    options.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    options.add_argument("--ca-bundle", metavar="PATH", help="verify TLS against this CA file")
    options.add_argument(
        "--tls-fingerprint",
        metavar="sha256:…",
        help="trust the webapp's certificate with this SHA-256 fingerprint alone (as "
        "`wa-tui trust` prints it; also WA_TUI_TLS_FINGERPRINT)",
    )
    options.add_argument("--debug", action="store_true", help="log more to the log file")
    return options


def one_shot_options(parser: argparse.ArgumentParser) -> None:
    """`snapshot` and `check`: the options both take."""
    parser.add_argument(
        "--sample",
        type=duration,
        metavar="S",
        help="read twice, S apart (seconds, or 30s), to give rates (callbacks, API errors)",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="probe the webhook too (DNS, TCP, TLS, certificate; no request is sent); "
        "without it the webhook is never probed, with or without --sample",
    )


def recording_options(parser: argparse.ArgumentParser) -> None:
    """`snapshot` and `check` read the last poll a recorder wrote, instead of polling."""
    parser.add_argument(
        "--from-recording",
        metavar="FILE",
        help="the last poll of this recording (a recorder's), no request to the deployment",
    )
    parser.add_argument(
        "--max-age",
        type=duration,
        metavar="DURATION",
        help="reading a recording: older than this, the recorder is taken as stopped "
        "(default three of its intervals)",
    )
    recorder_options(parser)


def recorder_options(parser: argparse.ArgumentParser) -> None:
    """Where a recorder may be read instead of polling: never, or judged again here."""
    parser.add_argument(
        "--no-recorder",
        action="store_true",
        help="poll the deployment here, even where a recorder is configured "
        "(recorder = in the config, or WA_TUI_RECORDER)",
    )
    parser.add_argument(
        "--rejudge",
        action="store_true",
        help="reading a recording: judge its polls again with this config's thresholds "
        "(the deployment's, or --profile's), not as the recorder judged them; said so",
    )


def setup_logging(debug: bool) -> None:
    """Log to a file, never to the terminal the UI is drawn on."""
    from platformdirs import user_log_path

    try:
        directory = user_log_path("wa-tui", ensure_exists=True)
        handler: logging.Handler = logging.FileHandler(directory / "wa-tui.log", encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=[handler])
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
