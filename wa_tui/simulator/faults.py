"""Faults the simulator can inject into `/v1/support` and `/v1/health` answers.

A `FaultPlan` says which request gets which fault: the next few requests (`push`), every
request (`always`), or a random share of them (`rate`, for soak tests). Tests and
`wa-tui simulate --fault NAME [--fault-rate R]` drive it.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from enum import StrEnum


class Fault(StrEnum):
    LATENCY = "latency"  # answers, but `latency` seconds late
    HANG = "hang"  # never answers (past any client timeout)
    RESET = "reset"  # the connection is reset (TCP RST)
    HTTP_500 = "500"  # API error body: 1014 Internal error
    HTML_502 = "502-html"  # a reverse proxy's nginx-style HTML page
    HTTP_503 = "503"  # API error body: 1011 Service not ready
    HTML_503 = "503-html"  # a balancer with no healthy webapp behind it
    PROXY_500 = "500-proxy"  # a provider's gateway: {"meta": {"httpCode", "developerMessage"}}
    ERRORS_200 = "errors-200"  # HTTP 200 whose body is the API's `errors` alone
    HTML_504 = "504-html"  # a reverse proxy's gateway timeout page
    RATE_LIMITED = "429"  # error 1015 with Retry-After
    MALFORMED = "malformed"  # JSON cut in the middle of a token
    TRUNCATED = "truncated"  # Content-Length promises more than is sent
    EMPTY = "empty"  # 200 with no body
    WRONG_SHAPE = "wrong-shape"  # 200, valid JSON, not the documented shape
    REVOKED = "revoked"  # every token revoked: 401 in the middle of a session
    HUGE = "huge"  # tens of MB
    DRIP = "drip"  # the body a byte at a time


class FaultPlan:
    def __init__(
        self,
        *,
        rate: float = 0.0,
        choices: tuple[Fault, ...] = tuple(Fault),
        latency: float = 1.0,
        retry_after: int = 7,
        seed: int | None = None,
    ) -> None:
        self.rate = rate
        self.choices = choices
        self.latency = latency
        self.retry_after = retry_after
        self.always: Fault | None = None
        self.injected: list[Fault] = []
        self._queue: deque[Fault] = deque()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # tests push from their thread, the server takes

    def push(self, *faults: Fault) -> None:
        """The next requests get these faults, one each, in order."""
        with self._lock:
            self._queue.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.always = None
            self.rate = 0.0

    def take(self) -> Fault | None:
        """The fault for the request being answered, if any."""
        with self._lock:
            if self._queue:
                fault: Fault | None = self._queue.popleft()
            elif self.always is not None:
                fault = self.always
            elif self.rate and self._rng.random() < self.rate:
                fault = self._rng.choice(self.choices)
            else:
                fault = None
            if fault is not None:
                self.injected.append(fault)
            return fault
