"""A node's log, read by the command the config names (`logs_command`), streamed.

The command is an argument list, run directly (no local shell), its `{host}` and
`{container}` filled from the node the API reports, through `host_aliases`. Those names
come from the server, and ssh hands its arguments to a remote shell, where a leading `-`
would be an option: a name is used only when it is plainly a name (letters, digits, `.`,
`_`, `-`, not starting with `-`; an IPv6 address in brackets), and anything else is
refused before anything runs.

The process runs with stdin closed, in a process group of its own, ended whole when the
log closes or wa-tui quits. Lines come in batches, secrets masked and control characters
made visible, as everything from a server. Plain asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import AsyncIterator, Mapping
from enum import StrEnum

from wa_tui.core.processes import signal_group
from wa_tui.core.secrets import mask_line
from wa_tui.core.text import visible
from wa_tui.model.snapshot import Node

KEPT_LINES = 10_000
LINE_LIMIT = 4_000  # characters: a longer line is cut, not kept whole
BATCH_SECONDS = 0.05  # lines that come within this are drawn together
BATCH_LINES = 2_000
SETTLE_SECONDS = 1.0  # after SIGTERM, before SIGKILL

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\]")
_ERROR = re.compile(r"\b(?:ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|error|fatal)\b")
_WARNING = re.compile(r"\b(?:WARN|WARNING|warning|warn)\b")
HOW_TO_SET = (
    "no logs_command for this deployment: set one in the config "
    '(e.g. logs_command = ["ssh", "{host}", "docker", "logs", "-f", "{container}"]; '
    "config.example.toml shows docker and kubectl too)"
)


class LogsRefused(Exception):
    """Why no log command runs for a node; `str()` is one line."""


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    OTHER = "other"


def level_of(line: str) -> Level:
    if _ERROR.search(line):
        return Level.ERROR
    if _WARNING.search(line):
        return Level.WARNING
    return Level.OTHER


def logs_command(
    template: list[str] | None, node: Node, host_aliases: Mapping[str, str] | None = None
) -> list[str]:
    """The command that reads `node`'s log; LogsRefused when there is none to run."""
    if not template:
        raise LogsRefused(HOW_TO_SET)
    host = (host_aliases or {}).get(node.host, node.host)
    names = {"host": host, "container": node.container}
    for what, value in names.items():
        if f"{{{what}}}" not in "".join(template):
            continue
        if not value:
            raise LogsRefused(f"refused: the API names no {what} for this node; nothing was run")
        if not _PLAIN_NAME.fullmatch(value):
            raise LogsRefused(
                f"refused: the {what} name {visible(value, limit=60)!r} is not a plain name "
                "(letters, digits, '.', '_', '-', not starting with '-'); nothing was run"
            )
    return [
        part.replace("{host}", names["host"]).replace("{container}", names["container"])
        for part in template
    ]


def shown_line(raw: bytes) -> str:
    """A line as the log screen shows it: secrets masked, control characters visible."""
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    return visible(mask_line(text), limit=LINE_LIMIT)


class LogStream:
    """One run of a log command. `async for batch in stream.batches()`; `stop()` ends it."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: asyncio.subprocess.Process | None = None
        self.ended: str | None = None  # how it ended, once it has

    async def batches(self) -> AsyncIterator[list[str]]:
        """The log's lines as they come, in batches; its last batch says how it ended."""
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it whole
            )
        except OSError as exc:
            self.ended = f"cannot run {visible(self.command[0])}: {exc.strerror or exc}"
            yield [f"— {self.ended} —"]
            return
        assert self.process.stdout is not None
        async for batch in _batched(self.process.stdout):
            yield batch
        status = await self.process.wait()
        self.ended = f"the log command ended (exit status {status})"
        yield [f"— {self.ended} —"]

    def stop(self) -> None:
        """End the command's process group (SIGTERM, then SIGKILL if it lingers)."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(RuntimeError):  # no loop left: the SIGTERM must do
            asyncio.get_running_loop().call_later(
                SETTLE_SECONDS, signal_group, process.pid, signal.SIGKILL
            )


async def _batched(stream: asyncio.StreamReader) -> AsyncIterator[list[str]]:
    """Lines read from `stream`, those that come within BATCH_SECONDS of the first
    together: a screen then draws a burst once, not line by line."""
    loop = asyncio.get_running_loop()
    while line := await _readline(stream):
        batch = [shown_line(line)]
        deadline = loop.time() + BATCH_SECONDS
        while len(batch) < BATCH_LINES:
            try:
                async with asyncio.timeout_at(deadline):
                    line = await _readline(stream)
            except TimeoutError:
                break
            if not line:
                break
            batch.append(shown_line(line))
        yield batch
        if not line:
            return


async def _readline(stream: asyncio.StreamReader) -> bytes:
    """A line; one longer than the stream's buffer comes in pieces, never as an error."""
    try:
        return await stream.readline()
    except ValueError:  # LimitOverrunError, wrapped: take what the buffer holds
        return await stream.read(2**16)
