"""One browser tab's dashboard: a follower process under Textual's web driver, and the
packets it speaks over its standard input and output.

The driver's protocol (the one textual-serve speaks, version pinned in pyproject.toml):
each way, packets of a type byte, a 4-byte big-endian length and the payload: `D` the
terminal's bytes, `M` a JSON meta message (resize, quit; exit, a file to deliver), `P`
a packed tuple (a delivered file's chunk). An app starting writes `__GANGLION__` on a
line of its own first: the fleet of a folder starts one app after another in one
process, and each is told the browser's size again.

The process is started from an argument list (no shell), with an allow-listed
environment (no `WA_TUI_*`, no credentials) whose home and temporary folder are a private
folder of its own, in its own process group; it is ended (quit, then SIGTERM, then
SIGKILL to its whole group) whatever the timing, and its folder removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

STARTED = b"__GANGLION__\n"  # the driver's first line, each time an app starts
MAX_PACKET = 64 * 1024**2  # past this, what the process writes is not the protocol
GRACE_SECONDS = 2.0  # after quit, before SIGTERM; after SIGTERM, before SIGKILL
# The sizes a browser may ask for, in cells: what it asks beyond is clamped.
MIN_SIZE, MAX_SIZE = (20, 6), (500, 200)
# What a session inherits of the server's environment: the locale and the time zone;
# nothing else (no WA_TUI_* secret, no credential, no proxy setting).
INHERITED = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")

Output = tuple[Literal["started", "data", "meta", "chunk"], object]


def clamped(width: int, height: int) -> tuple[int, int]:
    """A browser's size, within what a dashboard can be drawn at."""
    return (
        min(max(width, MIN_SIZE[0]), MAX_SIZE[0]),
        min(max(height, MIN_SIZE[1]), MAX_SIZE[1]),
    )


def packet(kind: bytes, payload: bytes) -> bytes:
    return kind + len(payload).to_bytes(4, "big") + payload


@dataclass
class Delivery:
    """A file the session hands the browser (a screenshot, a bundle), chunk by chunk."""

    key: str
    file_name: str
    mime_type: str
    chunks: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)


class Session:
    """One tab's follower of `followed` (a recording, or a folder of them), with `config`
    (the text of its config file: keys alone), drawn at `size` (cells) until the browser
    says otherwise."""

    def __init__(self, followed: Path, config: str, size: tuple[int, int]) -> None:
        self.size = clamped(*size)
        self.folder = Path(tempfile.mkdtemp(prefix="wa-tui-web-"))  # 0700
        self.config_path.write_text(config, encoding="utf-8")
        self.command = follower_command(followed, self.config_path)
        self.deliveries: dict[str, Delivery] = {}
        self._spawning: asyncio.Task[asyncio.subprocess.Process] | None = None
        self._stderr_tail = b""

    @property
    def config_path(self) -> Path:
        """Its config file: in its folder, read by it alone."""
        return self.folder / "config.toml"

    def environment(self) -> dict[str, str]:
        private = {
            name: str(self.folder / name.lower())
            for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
        }
        width, height = self.size
        return {
            **{name: os.environ[name] for name in INHERITED if name in os.environ},
            **private,
            "HOME": str(self.folder),
            "TMPDIR": str(self.folder),
            "PATH": os.defpath,
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "TEXTUAL_COLOR_SYSTEM": "truecolor",
            "TERM_PROGRAM": "wa-tui-web",
            "COLUMNS": str(width),
            "ROWS": str(height),
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
        }

    async def start(self) -> None:
        """The process started (shielded: a tab closed meanwhile still finds it to end)."""
        self._spawning = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.environment(),
                cwd=self.folder,
                start_new_session=True,
            )
        )
        await asyncio.shield(self._spawning)

    @property
    def process(self) -> asyncio.subprocess.Process:
        assert self._spawning is not None and self._spawning.done()
        return self._spawning.result()

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _send(self, kind: bytes, payload: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(packet(kind, payload))
        await stdin.drain()

    async def send_input(self, text: str) -> None:
        await self._send(b"D", text.encode("utf-8", "replace"))

    async def send_meta(self, meta: dict[str, object]) -> None:
        await self._send(b"M", json.dumps(meta).encode())

    async def resize(self, width: int, height: int) -> None:
        self.size = clamped(width, height)
        await self.send_meta({"type": "resize", "width": self.size[0], "height": self.size[1]})

    async def output(self) -> AsyncIterator[Output]:
        """What the process writes, packet by packet, until it ends: a delivered chunk
        goes to its delivery's queue, and is also yielded."""
        stdout = self.process.stdout
        assert stdout is not None
        stderr_reading = asyncio.ensure_future(self._read_stderr())
        try:
            while True:
                kind = await stdout.read(1)
                if not kind:
                    return
                if kind == b"_" or kind not in b"DMP":
                    line = kind + await stdout.readline()
                    if line == STARTED:
                        yield ("started", None)
                    else:  # not the protocol: a line printed around the apps
                        log.debug("session %s wrote %r", self.pid, line[:200])
                    continue
                size = int.from_bytes(await stdout.readexactly(4), "big")
                if size > MAX_PACKET:
                    log.warning("session %s: a packet of %s bytes: ended", self.pid, size)
                    return
                payload = await stdout.readexactly(size)
                if kind == b"D":
                    yield ("data", payload)
                elif kind == b"M":
                    yield ("meta", json.loads(payload))
                else:
                    yield ("chunk", self._chunk(payload))
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            return
        finally:
            stderr_reading.cancel()

    def _chunk(self, payload: bytes) -> tuple[str, bytes] | None:
        """A delivered file's chunk, put in its delivery's queue (empty: the end)."""
        try:
            kind, key, chunk = unpacked(payload)
        except ValueError:
            return None
        delivery = self.deliveries.get(str(key)) if kind == "deliver_chunk" else None
        if delivery is None:
            return None
        data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk  # text delivered
        if not isinstance(data, bytes):
            return None
        delivery.chunks.put_nowait(data)
        return delivery.key, data

    async def _read_stderr(self) -> None:
        """Its last words kept (a crash's line for the server's log), never piling up."""
        stderr = self.process.stderr
        assert stderr is not None
        while data := await stderr.read(4096):
            self._stderr_tail = (self._stderr_tail + data)[-4096:]

    @property
    def last_words(self) -> str:
        lines = self._stderr_tail.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    async def stop(self) -> int | None:
        """Ended, whatever it was doing: asked to quit, then SIGTERM, then SIGKILL, each
        to its whole process group after a grace; its folder removed. Its exit status."""
        try:
            if self._spawning is None:
                return None
            try:
                process = await self._spawning
            except OSError:
                return None
            if process.returncode is None:
                with contextlib.suppress(OSError, RuntimeError, AssertionError):
                    await asyncio.wait_for(self.send_meta({"type": "quit"}), GRACE_SECONDS)
                for ending in (signal.SIGTERM, signal.SIGKILL):
                    if await _ended(process, GRACE_SECONDS):
                        break
                    _signal_group(process.pid, ending)
                await process.wait()
            _signal_group(process.pid, signal.SIGKILL)  # anything it left in its group
            return process.returncode
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


async def _ended(process: asyncio.subprocess.Process, seconds: float) -> bool:
    try:
        await asyncio.wait_for(process.wait(), seconds)
    except TimeoutError:
        return False
    return True


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def unpacked(payload: bytes) -> tuple[object, ...]:
    """A packed tuple of strings and bytes, as the web driver writes a delivered file's
    chunk (`t` … `e`; `s<n>:` a string, `<n>:` bytes). ValueError for anything else."""
    if not payload.startswith(b"t") or not payload.endswith(b"e"):
        raise ValueError("not a packed tuple")
    items: list[object] = []
    position, end = 1, len(payload) - 1
    while position < end:
        is_text = payload[position : position + 1] == b"s"
        position += is_text
        colon = payload.index(b":", position)
        length = int(payload[position:colon])
        value = payload[colon + 1 : colon + 1 + length]
        if len(value) != length:
            raise ValueError("a packed value cut short")
        items.append(value.decode("utf-8") if is_text else value)
        position = colon + 1 + length
    return tuple(items)


def follower_command(path: Path, config: Path) -> list[str]:
    """The session's process: this Python, wa-tui following `path` (a recording, or a
    folder of them), with its own config file (keys alone)."""
    return [sys.executable, "-m", "wa_tui", "--config", str(config), "--follow", str(path)]
