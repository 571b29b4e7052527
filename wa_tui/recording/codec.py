"""How a recording packs what changes little from poll to poll: a stream of JSON values,
each compressed against the one before it, a keyframe every KEYFRAME_EVERY; and an
answer's bytes as stored (JSON, or the text that was not JSON)."""

from __future__ import annotations

import json
import zlib
from typing import Any

KEYFRAME_EVERY = 120  # polls: a readings or stats stream starts afresh this often
KEYFRAME, DELTA = b"K", b"D"  # a frame's first byte: alone, or against the one before
# Whether a poll's readings start a stream, in SQL (a replay starts reading there).
IS_KEYFRAME = f"substr(readings, 1, 1) = X'{KEYFRAME.hex().upper()}'"


class Packer:
    """A stream of JSON values, each compressed against the one before it (zlib's preset
    dictionary): a poll's counters differ from the last poll's in a few digits. Every
    KEYFRAME_EVERY values one stands alone, so a replay can start there."""

    def __init__(self) -> None:
        self._previous: bytes | None = None
        self._count = 0

    def pack(self, value: object) -> bytes:
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        previous, self._previous = self._previous, raw
        self._count += 1
        if previous is None or self._count % KEYFRAME_EVERY == 1:
            return KEYFRAME + zlib.compress(raw, 6)
        packer = zlib.compressobj(6, zdict=previous)
        return DELTA + packer.compress(raw) + packer.flush()


class Unpacker:
    def __init__(self) -> None:
        self._previous: bytes | None = None

    def unpack(self, body: bytes) -> Any:
        """The value; ValueError for a delta whose predecessor was not read."""
        return json.loads(self.advance(body))

    def advance(self, body: bytes) -> bytes:
        """The value's JSON, not parsed: enough to read the frame after it."""
        if body[:1] == KEYFRAME:
            raw = zlib.decompress(body[1:])
        elif body[:1] != DELTA:
            raise ValueError("not a frame of this format")
        elif self._previous is None:
            raise ValueError("a delta without the poll before it")
        else:
            unpacker = zlib.decompressobj(zdict=self._previous)
            raw = unpacker.decompress(body[1:]) + unpacker.flush()
        self._previous = raw
        return raw


def deflated(value: object) -> bytes:
    """A blob or `derived` body: JSON, zlib-compressed."""
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)


def inflated(body: bytes) -> Any:
    """A blob or `derived` body read back (zlib.error, ValueError: it is damaged)."""
    return json.loads(zlib.decompress(body))


def encode_answer(value: object) -> bytes:
    if isinstance(value, dict) and set(value) == {"__raw__"}:
        return str(value["__raw__"]).encode()
    return json.dumps(value, ensure_ascii=False).encode()
