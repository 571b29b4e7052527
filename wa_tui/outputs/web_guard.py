"""Who may read the exporter: basic auth against the web configuration's bcrypt hashes
(wa_tui/outputs/web_config.py).

bcrypt is slow on purpose, so its cost is bounded: checks run in one thread off the event
loop, one at a time; a right password is checked once and then remembered by a keyed hash
(never the password itself); a user nobody configured costs a check like any other, so
timing tells no names; and checks get at most CHECK_BUDGET of a core: past it, or with
MAX_WAITING checks waiting, an answer is refused unchecked. A Prometheus scraping
with the right password is answered from memory, whatever the flood beside it.
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
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import bcrypt

# Of a core, over any second: a flood's HTTP and TLS handling takes about as much again,
# and the whole flood stays under a quarter of a core (benchmarks/README.md).
CHECK_BUDGET = 0.08
MAX_WAITING = 8  # checks queued behind the one running
WINDOW_SECONDS = 1.0
_COST = re.compile(rb"^\$2[aby]\$(\d\d)\$")


class BasicAuth:
    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bcrypt")
        self._key = os.urandom(32)  # the keyed hash of what was right: this process's alone
        self._spent: deque[tuple[float, float]] = deque()  # (ended, seconds) of checks
        self._waiting = 0
        self._spent_until = 0.0  # monotonic: till then the budget is spent, set by the thread
        self.use(users)

    def use(self, users: Mapping[str, bytes]) -> None:
        """New users (a reload): what was remembered goes."""
        self.users = dict(users)
        self._right: set[bytes] = set()
        costs = [int(m[1]) for h in self.users.values() if (m := _COST.match(h))]
        self._cost = max(costs, default=10)
        self._stand_in: bytes | None = None  # made in the bcrypt thread when first needed

    @property
    def required(self) -> bool:
        return bool(self.users)

    async def allows(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header names a user and their password."""
        credentials = _basic(authorization)
        if credentials is None:
            return False
        user, password = credentials
        remembered = hmac.new(self._key, user + b"\0" + password, hashlib.sha256).digest()
        if remembered in self._right:
            return True
        if self._waiting >= MAX_WAITING or time.monotonic() < self._spent_until:
            return False  # refused unchecked: not even a trip to the thread
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            hashed = self.users.get(user.decode("utf-8", "replace"))
            right = await loop.run_in_executor(self._executor, self._check, password, hashed)
        finally:
            self._waiting -= 1
        if right and hashed is not None:
            self._right.add(remembered)
            return True
        return False

    def _check(self, password: bytes, hashed: bytes | None) -> bool:
        """In the bcrypt thread: the check, unless the budget of the last second is spent.
        A user nobody configured is checked against a stand-in hash at the users' own cost:
        as slow as a known user's, and never right."""
        now = time.monotonic()
        while self._spent and self._spent[0][0] < now - WINDOW_SECONDS:
            self._spent.popleft()
        if sum(seconds for _, seconds in self._spent) >= CHECK_BUDGET * WINDOW_SECONDS:
            self._spent_until = self._spent[0][0] + WINDOW_SECONDS
            return False
        if hashed is None:
            if self._stand_in is None:
                self._stand_in = bcrypt.hashpw(b"no such user", bcrypt.gensalt(self._cost))
            hashed = self._stand_in
        started = time.thread_time()
        try:
            return bcrypt.checkpw(password, hashed)
        except ValueError:  # a hash bcrypt cannot read: refused, as a wrong password
            return False
        finally:
            self._spent.append((time.monotonic(), time.thread_time() - started))

    def close(self) -> None:
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
