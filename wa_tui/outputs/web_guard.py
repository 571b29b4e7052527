"""Who may read the exporter: basic auth against the web configuration's bcrypt hashes
(wa_tui/outputs/web_config.py).

bcrypt is slow on purpose, so its cost is bounded, and the bound never shuts out the
right user:

- a right password is checked once and then remembered by a keyed hash (never the
  password itself), across a reload that leaves that user's hash as it was;
- checks run in one thread off the event loop, one at a time, within CHECK_BUDGET of a
  core on average (a token bucket: a check at cost 12 takes ~0.28 s, so after one the
  next waits its share of time); a check waits its turn rather than being refused;
- turns go round the sources (the client's address), one check each: a client guessing
  wrong ten times a second waits behind its own guesses, never in front of another's.
  Past PER_SOURCE_WAITING checks waiting, that source's next is refused unchecked;
- a user nobody configured costs a check like any other, so timing tells no names.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import bcrypt

# Of a core, on average: a flood's HTTP and TLS handling takes about as much again, and
# the whole flood stays under a quarter of a core (benchmarks/README.md).
CHECK_BUDGET = 0.08
# What may be spent at once after a quiet while: one check at cost 12 (~0.28 s), so the
# first check after a restart or a reload is not kept waiting.
BURST_SECONDS = 0.3
PER_SOURCE_WAITING = 2  # checks of one client waiting; its next ones are refused unchecked
MAX_SOURCES = 64  # clients with checks waiting; a new one past this is refused unchecked
_COST = re.compile(rb"^\$2[aby]\$(\d\d)\$")


@dataclass
class _Check:
    password: bytes
    hashed: bytes | None
    answer: asyncio.Future[bool] = field(repr=False)


class BasicAuth:
    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bcrypt")
        self._key = os.urandom(32)  # the keyed hash of what was right: this process's alone
        self._right: dict[bytes, str] = {}  # keyed hash of a right user and password -> user
        self._waiting: OrderedDict[str, deque[_Check]] = OrderedDict()  # by source, in turn
        self._tokens = BURST_SECONDS  # seconds of bcrypt that may be spent now
        self._refilled = time.monotonic()
        self._worker: asyncio.Task[None] | None = None
        self.users: dict[str, bytes] = {}
        self.use(users)

    def use(self, users: Mapping[str, bytes]) -> None:
        """New users (a reload): what was remembered stays for a user whose hash is as
        it was, and goes for the others."""
        kept = {user for user, hashed in users.items() if self.users.get(user) == hashed}
        self._right = {digest: user for digest, user in self._right.items() if user in kept}
        self.users = dict(users)
        costs = [int(m[1]) for h in self.users.values() if (m := _COST.match(h))]
        self._cost = max(costs, default=10)
        self._stand_in: bytes | None = None  # made in the bcrypt thread when first needed

    @property
    def required(self) -> bool:
        return bool(self.users)

    async def user(self, authorization: str | None, source: str = "") -> str | None:
        """The user an `Authorization` header names with their password, or None;
        `source` is who asks (the client's address), for turns."""
        credentials = _basic(authorization)
        if credentials is None:
            return None
        user, password = credentials
        remembered = hmac.new(self._key, user + b"\0" + password, hashlib.sha256).digest()
        if remembered in self._right:
            return self._right[remembered]
        queue = self._waiting.get(source)
        if queue is None and len(self._waiting) >= MAX_SOURCES:
            return None
        if queue is not None and len(queue) >= PER_SOURCE_WAITING:
            return None  # refused unchecked: this client has enough waiting already
        name = user.decode("utf-8", "replace")
        check = _Check(password, self.users.get(name), asyncio.get_running_loop().create_future())
        self._waiting.setdefault(source, deque()).append(check)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._check_in_turn(), name="bcrypt turns")
        if await check.answer and check.hashed is not None and self.users.get(name):
            self._right[remembered] = name
            return name
        return None

    async def _check_in_turn(self) -> None:
        """Checks one at a time, a source at a time, within the budget."""
        loop = asyncio.get_running_loop()
        while self._waiting:
            source, queue = next(iter(self._waiting.items()))
            check = queue.popleft()
            del self._waiting[source]
            if queue:
                self._waiting[source] = queue  # its next check: after every other source's
            if check.answer.done():
                continue  # its client went away
            await asyncio.sleep(self._wait_for_budget())
            password, hashed = check.password, check.hashed
            right, spent = await loop.run_in_executor(self._executor, self._check, password, hashed)
            self._tokens -= spent
            if not check.answer.done():
                check.answer.set_result(right)

    def _wait_for_budget(self) -> float:
        """Seconds until the bucket is no longer in debt (CHECK_BUDGET a second refills)."""
        now = time.monotonic()
        self._tokens = min(BURST_SECONDS, self._tokens + (now - self._refilled) * CHECK_BUDGET)
        self._refilled = now
        return max(0.0, -self._tokens / CHECK_BUDGET)

    def _check(self, password: bytes, hashed: bytes | None) -> tuple[bool, float]:
        """In the bcrypt thread: the check and the CPU seconds it took. A user nobody
        configured is checked against a stand-in hash at the users' own cost: as slow as
        a known user's, and never right."""
        if hashed is None:
            if self._stand_in is None:
                self._stand_in = bcrypt.hashpw(b"no such user", bcrypt.gensalt(self._cost))
            hashed = self._stand_in
        started = time.thread_time()
        try:
            return bcrypt.checkpw(password, hashed), time.thread_time() - started
        except ValueError:  # a hash bcrypt cannot read: refused, as a wrong password
            return False, time.thread_time() - started

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _basic(authorization: str | None) -> tuple[bytes, bytes] | None:
    """(user, password) of a `Basic` Authorization header; None for anything else."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None
