"""What the commands share: exit codes, option types, the connection options, logging,
which deployments the arguments name."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wa_tui.config import DeploymentSettings
    from wa_tui.outputs.check import Source
    from wa_tui.recording.replay import ReplayWatcher
    from wa_tui.watch.reader import PollResult
    from wa_tui.watch.targets import Overrides, Target

# What `add_subparsers` returns: each command's module adds its parser to it.
Commands = argparse._SubParsersAction


EXIT_USAGE = 2
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


def recording_of(target: Target) -> Path | None:
    """The recording a recorder keeps of `target`, when one is configured (`recorder =`
    of its config, or WA_TUI_RECORDER): whether it exists is the reader's to say."""
    from wa_tui.config import recorder_folder
    from wa_tui.recording.format import recording_path

    folder = recorder_folder(target.settings)
    return None if folder is None else recording_path(folder, target.name)


@dataclass(frozen=True)
class Recorded:
    """The last poll of a recording, whose deployment it was, the thresholds it is
    judged by, and why it is too old to go by (None: fresh)."""

    source: Source
    result: PollResult
    stale: str | None
    settings: DeploymentSettings


RECORDERS = "as the recorder judged it"


def last_recorded(
    path: Path,
    settings: DeploymentSettings | None,
    max_age: float | None,
    rejudge: bool = False,
) -> Recorded:
    """`snapshot` and `check` from a recorder: the last poll of the recording at `path`,
    read as the watcher then read it and shown as the recorder judged it (`rejudge`:
    judged again with `settings`), and whether the recorder is alive (younger than
    `max_age`, default three of its intervals). RecordingError when it is no recording
    or holds no poll."""
    from wa_tui.config import DeploymentSettings
    from wa_tui.core.errors import RecordingError
    from wa_tui.outputs.check import Source
    from wa_tui.recording.last_poll import last_poll
    from wa_tui.recording.replay import ReplayWatcher

    last = last_poll(path)
    stale = last.stale(max_age)
    settings = settings or DeploymentSettings()
    watcher = ReplayWatcher.open(path, settings, rejudge=rejudge)
    if not len(watcher):
        raise RecordingError(f"{path}: the recording holds no poll")
    result = watcher.read_last()
    judged = watcher.status.judged
    thresholds = settings.threshold_values if judged else watcher.recording.judged_with
    source = Source(last.deployment, last.url, judged or RECORDERS, thresholds)
    return Recorded(source, result, stale and f"{path}: {stale}", settings)


def recording_asked(args: argparse.Namespace) -> tuple[Path | None, DeploymentSettings | None]:
    """`snapshot` and `check`: the recording to read instead of polling (`--from-recording
    FILE`, or the recorder the config names, unless --no-recorder), and the settings of
    its deployment when the config says. (None, None): poll."""
    if args.from_recording:
        return Path(args.from_recording).expanduser(), _profile_settings(args)
    if args.no_recorder or getattr(args, "demo", False):
        return None, None
    with open_targets(args) as found:
        if len(found) != 1:
            return None, None  # polling says which to choose
        return recording_of(found[0]), found[0].settings


def _profile_settings(args: argparse.Namespace) -> DeploymentSettings | None:
    """`--from-recording FILE --rejudge --profile NAME`: that deployment's thresholds."""
    if not (getattr(args, "rejudge", False) and getattr(args, "profile", None)):
        return None
    with open_targets(args) as found:
        return found[0].settings if len(found) == 1 else None


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


def overrides_of(args: argparse.Namespace) -> Overrides:
    from wa_tui.watch.targets import ENV_TLS_FINGERPRINT, Overrides

    return Overrides(
        timeout=getattr(args, "timeout", None),
        interval=getattr(args, "interval", None),
        insecure=getattr(args, "insecure", False),
        ca_bundle=getattr(args, "ca_bundle", None),
        tls_fingerprint=getattr(args, "tls_fingerprint", None)
        or os.environ.get(ENV_TLS_FINGERPRINT)
        or None,
    )


@contextmanager
def open_targets(args: argparse.Namespace) -> Iterator[list[Target]]:
    """The deployments the arguments name; for --demo, a simulator that lives as long."""
    from wa_tui import config
    from wa_tui.watch import targets

    overrides = overrides_of(args)
    if getattr(args, "demo", False):
        import tempfile

        from wa_tui.simulator import start_demo

        with tempfile.TemporaryDirectory(prefix="wa-tui-demo-logs-") as folder:
            server = start_demo(Path(folder))
            assert server.node_logs is not None
            # The demo's containers are files here: `l` tails them (no ssh, no docker).
            tail = ["tail", "-n", "500", "-F", server.node_logs.template]
            try:
                yield [targets.demo(server.url, server.username, server.password, overrides, tail)]
            finally:
                server.stop()
    elif getattr(args, "url", None):
        yield [targets.from_url(args.url, overrides)]
    else:
        path = config.config_path(getattr(args, "config", None))
        if not path.exists() and not getattr(args, "profile", None):
            raise UsageError(
                "say which deployment: --url URL, --profile NAME, or --demo to try the "
                f"simulator (or configure deployments in {path})"
            )
        yield targets.configured(path, getattr(args, "profile", None), overrides)


def only_target(found: list[Target]) -> Target:
    """`snapshot` and `check` read one deployment."""
    if len(found) > 1:
        names = ", ".join(t.name for t in found)
        raise UsageError(f"several deployments are configured ({names}): say --profile NAME")
    if found[0].needs_password:
        raise UsageError(
            f"deployment {found[0].name!r} has no password source: set password_env, "
            "password_command or token_env in the config file"
        )
    return found[0]


def keymap_of(args: argparse.Namespace) -> dict[str, str]:
    """The config file's `[keys]`, checked (wa_tui/keys.py)."""
    from wa_tui import config

    return config.keymap(config.config_path(getattr(args, "config", None)))


def read_once_from(
    args: argparse.Namespace, webhook: str | None = None
) -> tuple[Target, PollResult]:
    """`snapshot`, `check` and `webhook`: the one deployment named, polled once as a
    watcher does (`webhook`: "probe" or "post", the webhook first)."""
    import asyncio

    from wa_tui.watch.watcher import read_once

    if webhook is None and getattr(args, "webhook", False):
        webhook = "probe"
    with open_targets(args) as found:
        target = only_target(found)
        return target, asyncio.run(read_once(target, getattr(args, "sample", None), webhook))


def reading_whole(done: int, total: int) -> None:
    """A recording of the first format is read whole before it replays: say how far."""
    end = "\n" if done + 200 >= total else ""
    print(
        f"\rreading a format-1 recording whole: {done / max(total, 1):4.0%}",
        end=end,
        file=sys.stderr,
    )


def replayed_to_the_end(path: Path) -> ReplayWatcher:
    from wa_tui.recording.replay import ReplayWatcher

    watcher = ReplayWatcher.open(path)
    if not len(watcher):
        raise UsageError(f"{path}: the recording holds no poll")
    watcher.go(len(watcher) - 1)
    return watcher
