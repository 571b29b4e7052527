"""The deployment's vitals: what it is doing, from its stats and metrics, with rates
between polls, a bounded history, and the findings they raise.

A `VitalsTracker` lives as long as its deployment's watcher: it keeps each counter's
last value to turn counters into per-second rates (a counter that goes down is a reset:
no negative rate, and the node is said to have restarted) and the last 30 minutes of
each vital. Plain Python.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wa_tui.analysis.findings import Finding, Severity
from wa_tui.api.answers import Unread
from wa_tui.api.endpoints import APP_STATS, DB_STATS, METRICS
from wa_tui.api.metrics import Family, Labels, MetricsAnswer
from wa_tui.core.text import visible

HISTORY_SECONDS = 30 * 60
HISTORY_POINTS = 900  # the most kept per vital, whatever the interval
FAILING_WINDOW_SECONDS = 60  # the share of failed callbacks is taken over this
RESTART_REMEMBERED_SECONDS = 10 * 60  # NODE_RESTARTED stays this long after a reset
MAX_COUNTERS = 20_000  # counters tracked per deployment: label churn cannot grow memory
RESET = -1.0  # what `VitalsTracker.rate` says of a counter that went down
WRITE_REQUESTS = ("transaction", "commit", "rollback")
READ_REQUESTS = ("select", "prepare")
NOT_READ = "—"  # what a vital reads as when it was not read (or one read has no rate)


def _count(value: float | None) -> str:
    return NOT_READ if value is None else f"{value:,.0f}"


def _per_second(value: float | None) -> str:
    return NOT_READ if value is None else f"{value:,.2f}/s" if value < 10 else f"{value:,.0f}/s"


def _share(value: float | None) -> str:
    return NOT_READ if value is None else f"{value:.1%}"


@dataclass(frozen=True)
class VitalLine:
    """A vital as the pane and the text snapshot show it."""

    name: str  # the `Vitals` attribute
    label: str
    reads: Callable[[float | None], str]  # how its value reads
    raises: str | None = None  # the finding it raises, whose marker its line carries


# In the order they are shown; each is kept with its history for the sparklines.
VITAL_LINES = (
    VitalLine("callback_queue", "callback queue", _count, "CALLBACK_QUEUE_HIGH"),
    VitalLine("pending_messages", "pending messages", _count, "PENDING_MESSAGES_HIGH"),
    VitalLine("callback_success", "callback success", _share, "CALLBACK_FAILING"),
    VitalLine("api_requests_per_s", "API requests", _per_second),
    VitalLine("api_5xx_share", "API 5xx share", _share, "API_ERRORS"),
    VitalLine("db_errors_per_s", "DB errors", _per_second, "DB_ERRORS"),
    VitalLine("web_queue_len", "webapp queue", _count),
    VitalLine("web_pending_connections", "pending conns", _count),
)
CHARTED = tuple(line.name for line in VITAL_LINES)


@dataclass(frozen=True)
class VitalsThresholds:
    callback_queue_warning: float = 5_000
    callback_queue_critical: float = 50_000
    callback_failing_share: float = 0.05
    pending_messages_warning: float = 10_000
    db_errors_per_s: float = 0.1
    api_5xx_share: float = 0.05


@dataclass(frozen=True)
class Vitals:
    """One poll's vitals: gauges as read, rates since the previous poll (None on the
    first, and for what could not be read)."""

    at: datetime
    unavailable: Mapping[str, Unread]  # path -> why it is not shown
    callback_queue: float | None = None
    callback_queue_by_node: Mapping[str, float] = field(default_factory=dict)
    # node -> {"callbacks": per second, "callback_failures": per second}
    callback_rates_by_node: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    pending_messages: float | None = None
    pending_callbacks: float | None = None
    callbacks_per_s: float | None = None
    callback_failures_per_s: float | None = None
    failing_results: tuple[tuple[str, float], ...] = ()  # result code, per second
    messages_in_per_s: float | None = None
    api_requests_per_s: float | None = None
    api_by_class: Mapping[str, float] = field(default_factory=dict)  # "2xx" -> per second
    api_5xx_share: float | None = None
    db_write_errors_per_s: float | None = None
    db_read_errors_per_s: float | None = None
    web_queue_len: float | None = None
    web_pending_connections: float | None = None
    restarted: tuple[str, ...] = ()  # nodes whose counters went down this poll
    unknown_families: tuple[str, ...] = ()  # names read that wa-tui has no use for
    problems: tuple[str, ...] = ()  # families of the wrong shape, skipped

    @property
    def callback_success(self) -> float | None:
        """The share of callbacks the webhook answered well, since the previous poll."""
        failed = failure_share(self.callbacks_per_s, self.callback_failures_per_s)
        return None if failed is None else 1 - failed

    @property
    def db_errors_per_s(self) -> float | None:
        parts = [
            r for r in (self.db_write_errors_per_s, self.db_read_errors_per_s) if r is not None
        ]
        return sum(parts) if parts else None

    def value(self, name: str) -> float | None:
        return getattr(self, name)

    def of_node(self, node: str) -> str | None:
        """One line of what `node` itself is doing, if it reported anything."""
        queue = self.callback_queue_by_node.get(node)
        rates = self.callback_rates_by_node.get(node, {})
        if queue is None and not rates:
            return None
        parts = [f"callback queue {queue:,.0f}" if queue is not None else None]
        if rates.get("callbacks"):
            parts.append(f"callbacks {rates['callbacks']:,.0f}/s")
            failing = failure_share(rates["callbacks"], rates.get("callback_failures"))
            parts.append(f"{failing:.0%} failing")
        if node in self.restarted:
            parts.append("restarted now")
        return " · ".join(p for p in parts if p)


KNOWN_FAMILIES = frozenset(
    {
        "callback_queue_size",
        "callback_requests_duration_ms_count",
        "db_request_error_duration_us_count",
        "endpoint_requests",
        "in_message_from_server",
        "api_requests_duration_ms_count",
        "web_queue_len",
        "web_pending_connections",
        "web_uptime",
        "db_pending_messages",
        "db_pending_callbacks",
    }
)


def failure_share(callbacks_per_s: float | None, failures_per_s: float | None) -> float | None:
    """The share of callbacks that failed, at these rates (None: no callbacks were made):
    the vitals' "callback success", CALLBACK_FAILING and the account all read it here."""
    if not callbacks_per_s:
        return None
    return (failures_per_s or 0.0) / callbacks_per_s


# What the history keeps of one poll's vitals (JSON-ready: recordings store it): the
# charted values, callbacks and failures per second, the nodes that restarted.
HistoryPoint = dict[str, Any]


def history_point(vitals: Vitals) -> HistoryPoint:
    point: HistoryPoint = {
        "values": {n: v for n in CHARTED if (v := vitals.value(n)) is not None},
    }
    if vitals.callbacks_per_s is not None:
        point["callbacks"] = [vitals.callbacks_per_s, vitals.callback_failures_per_s or 0.0]
    if vitals.restarted:
        point["restarted"] = list(vitals.restarted)
    return point


class VitalsTracker:
    """Counters to rates, and the history of each vital, for one deployment."""

    def __init__(self, thresholds: VitalsThresholds | None = None) -> None:
        self.thresholds = thresholds or VitalsThresholds()
        self._counters: dict[tuple[str, str, Labels], float] = {}
        self._last_received: float | None = None
        self._last_uptime: dict[Labels, float] = {}
        self.history: dict[str, deque[tuple[datetime, float]]] = {
            name: deque(maxlen=HISTORY_POINTS) for name in CHARTED
        }
        self._callbacks: deque[tuple[datetime, float, float]] = deque(maxlen=HISTORY_POINTS)
        self.restarts: dict[str, datetime] = {}  # node -> when it was last seen restarting
        self.latest: Vitals | None = None

    def update(
        self,
        answers: Mapping[str, MetricsAnswer | Unread],
        at: datetime,
        received: float,
        remember: bool = True,
    ) -> Vitals:
        """The vitals of one poll: `answers` by path, each its families or why there
        are none (a path not asked this poll is absent); `at` is when they came, and
        `received` the same on the monotonic clock (rates are per second)."""
        elapsed = received - self._last_received if self._last_received is not None else None
        self._last_received = received
        read = {path: a for path, a in answers.items() if isinstance(a, MetricsAnswer)}
        unavailable = {path: a for path, a in answers.items() if isinstance(a, Unread)}
        reading = _Reading(self, elapsed)
        for path, answer in read.items():
            for node, family in answer.families():
                reading.add(path, node, family)
            reading.unknown |= answer.unparsed_names()
        vitals = reading.vitals(at, unavailable, read, self.latest)
        if remember:  # False: a replay warming the counters up (its history is restored)
            self._remember(vitals)
        self.latest = vitals
        return vitals

    def rate(
        self, key: tuple[str, str, Labels], value: float, elapsed: float | None
    ) -> float | None:
        """Per second since the last read of this counter; None on the first read, and
        RESET after a reset (the counter went down)."""
        previous = self._counters.get(key)
        if previous is None and len(self._counters) >= MAX_COUNTERS:
            return None  # past the cap, new label sets are not tracked
        self._counters[key] = value
        if previous is None or elapsed is None or elapsed <= 0:
            return None
        if value < previous:
            return RESET
        return (value - previous) / elapsed

    def uptime_dropped(self, labels: Labels, uptime: float) -> bool:
        previous = self._last_uptime.get(labels)
        self._last_uptime[labels] = uptime
        return previous is not None and uptime < previous

    def _remember(self, vitals: Vitals) -> None:
        self.remember(vitals.at, history_point(vitals))

    def remember(self, at: datetime, point: HistoryPoint) -> None:
        """Keep one poll's `point` (a recording keeps them too: a replay moving in time
        restores the last 30 minutes from them, not by reading every answer again)."""
        horizon = at.timestamp() - HISTORY_SECONDS
        values = point.get("values", {})
        for name, points in self.history.items():
            value = values.get(name)
            if value is not None:
                points.append((at, value))
            while points and points[0][0].timestamp() < horizon:
                points.popleft()
        callbacks = point.get("callbacks")
        if callbacks is not None:
            self._callbacks.append((at, callbacks[0], callbacks[1]))
        for node in point.get("restarted", ()):
            self.restarts[node] = at

    def failing_share(self, now: datetime) -> float | None:
        """Failed callbacks over all callbacks in the last FAILING_WINDOW_SECONDS."""
        recent = [
            (a, f)
            for at, a, f in self._callbacks
            if (now - at).total_seconds() <= FAILING_WINDOW_SECONDS
        ]
        return failure_share(sum(a for a, _ in recent), sum(f for _, f in recent))

    def findings(self, now: datetime) -> Iterator[Finding]:
        vitals, t = self.latest, self.thresholds
        if vitals is None:
            return
        yield from _queue_findings(vitals, t)
        share = self.failing_share(now)
        if share is not None and share >= t.callback_failing_share:
            codes = ", ".join(
                f"{visible(code, limit=20)} ({rate:.1f}/s)"
                for code, rate in vitals.failing_results[:3]
            )
            yield Finding(
                Severity.CRITICAL if share >= 0.5 else Severity.WARNING,
                "CALLBACK_FAILING",
                f"{share:.0%} of callbacks failed in the last minute (top results: "
                f"{codes or 'none now'}): check the webhook answers 200 within its timeout",
            )
        if (
            vitals.pending_messages is not None
            and vitals.pending_messages >= t.pending_messages_warning
        ):
            yield Finding(
                Severity.WARNING,
                "PENDING_MESSAGES_HIGH",
                f"{vitals.pending_messages:,.0f} outgoing messages pending: error 1016 (system "
                "overloaded) is near; slow the senders, check the coreapps' sockets",
            )
        yield from _error_findings(vitals, t)
        for node, when in sorted(self.restarts.items()):
            if (now - when).total_seconds() <= RESTART_REMEMBERED_SECONDS:
                yield Finding(
                    Severity.WARNING,
                    "NODE_RESTARTED",
                    f"{visible(node, limit=60)} restarted at {when.astimezone():%H:%M:%S} "
                    "(its counters started again): check its logs for why",
                    (node,) if ":" in node else (),
                )


def _queue_findings(vitals: Vitals, t: VitalsThresholds) -> Iterator[Finding]:
    queue = vitals.callback_queue
    if queue is None or queue < t.callback_queue_warning:
        return
    critical = queue >= t.callback_queue_critical
    worst = max(vitals.callback_queue_by_node.items(), key=lambda item: item[1], default=None)
    where = f", most on {visible(worst[0], limit=60)} ({worst[1]:,.0f})" if worst else ""
    yield Finding(
        Severity.CRITICAL if critical else Severity.WARNING,
        "CALLBACK_QUEUE_HIGH",
        f"callback queue at {queue:,.0f}{where}: error 1016 comes when it fills; check the "
        "webhook answers 200 in time, or raise webhooks.max_concurrent_requests",
        (worst[0],) if worst and ":" in worst[0] else (),
    )


def _error_findings(vitals: Vitals, t: VitalsThresholds) -> Iterator[Finding]:
    for kind, rate, what in (
        ("writes", vitals.db_write_errors_per_s, "transaction/commit/rollback"),
        ("reads", vitals.db_read_errors_per_s, "select/prepare"),
    ):
        if rate is not None and rate >= t.db_errors_per_s:
            yield Finding(
                Severity.CRITICAL if kind == "writes" else Severity.WARNING,
                "DB_ERRORS",
                f"database {kind} failing: {rate:.2f} errors/s ({what}); check the database "
                "server, its disk and its connections",
            )
    share = vitals.api_5xx_share
    if share is not None and share >= t.api_5xx_share and vitals.api_requests_per_s:
        yield Finding(
            Severity.CRITICAL if share >= 0.25 else Severity.WARNING,
            "API_ERRORS",
            f"{share:.0%} of API requests answer 5xx ({vitals.api_requests_per_s:.1f}/s in "
            "all): check the webapp's logs and the coreapps behind it",
        )


class _Reading:
    """One poll's families folded into the vitals."""

    def __init__(self, tracker: VitalsTracker, elapsed: float | None) -> None:
        self.tracker = tracker
        self.elapsed = elapsed
        self.gauges: dict[str, float] = {}
        self.rates: dict[str, float] = {}
        self.queue_by_node: dict[str, float] = {}
        self.failing: dict[str, float] = {}
        self.api_by_class: dict[str, float] = {}
        self.restarted: set[str] = set()
        self.unknown: set[str] = set()
        self.node_rates: dict[str, dict[str, float]] = {}

    def add(self, path: str, node: str, family: Family) -> None:
        if family.name not in KNOWN_FAMILIES:
            self.unknown.add(family.name)
        if family.kind == "counter":
            self._counter(path, node, family)
        elif family.name == "callback_queue_size":
            self.queue_by_node[node] = self.queue_by_node.get(node, 0.0) + family.total()
        elif family.name == "web_uptime":
            for labels, uptime in family.samples:
                if self.tracker.uptime_dropped(labels, uptime):
                    self.restarted.add(f"webapp {dict(labels).get('node', node)}")
        else:
            self.gauges[family.name] = self.gauges.get(family.name, 0.0) + family.total()

    def _counter(self, path: str, node: str, family: Family) -> None:
        for labels, value in family.samples:
            rate = self.tracker.rate((node, family.name, labels), value, self.elapsed)
            if rate is RESET:
                self.restarted.add(node)
            elif rate is not None:
                self._fold(family.name, dict(labels), rate)
                if family.name == "callback_requests_duration_ms_count":
                    self._fold_node(node, dict(labels), rate)

    def _fold_node(self, node: str, labels: dict[str, str], rate: float) -> None:
        rates = self.node_rates.setdefault(node, {"callbacks": 0.0, "callback_failures": 0.0})
        rates["callbacks"] += rate
        if labels.get("result", "?") != "success":
            rates["callback_failures"] += rate

    def _fold(self, name: str, labels: dict[str, str], rate: float) -> None:
        def add(bucket: dict[str, float], key: str) -> None:
            bucket[key] = bucket.get(key, 0.0) + rate

        if name == "callback_requests_duration_ms_count":
            add(self.rates, "callbacks")
            result = labels.get("result", "?")
            if result != "success":
                add(self.rates, "callback_failures")
                add(self.failing, result)
        elif name == "api_requests_duration_ms_count":
            add(self.rates, "api")
            status = labels.get("result", "?")
            add(self.api_by_class, f"{status[:1]}xx" if status[:1].isdigit() else status)
        elif name == "db_request_error_duration_us_count":
            request = labels.get("request", "")
            add(self.rates, "db_write_errors" if request in WRITE_REQUESTS else "db_read_errors")
        elif name == "in_message_from_server":
            add(self.rates, "messages_in")

    def vitals(
        self,
        at: datetime,
        unavailable: Mapping[str, Unread],
        read: Mapping[str, MetricsAnswer],
        previous: Vitals | None,
    ) -> Vitals:
        rates, gauges = self.rates, self.gauges
        has_rates = self.elapsed is not None
        app_read, db_read = APP_STATS in read, DB_STATS in read
        api = rates.get("api", 0.0) if has_rates and METRICS in read else None
        db_kept = previous is not None and not db_read  # stats/db is read less often
        return Vitals(
            at=at,
            unavailable=unavailable,
            callback_queue=sum(self.queue_by_node.values()) if app_read else None,
            callback_queue_by_node=self.queue_by_node,
            callback_rates_by_node=self.node_rates,
            pending_messages=gauges.get("db_pending_messages")
            if db_read
            else (previous.pending_messages if db_kept and previous else None),
            pending_callbacks=gauges.get("db_pending_callbacks")
            if db_read
            else (previous.pending_callbacks if db_kept and previous else None),
            callbacks_per_s=rates.get("callbacks", 0.0) if has_rates and app_read else None,
            callback_failures_per_s=rates.get("callback_failures", 0.0)
            if has_rates and app_read
            else None,
            failing_results=tuple(
                sorted(((c, r) for c, r in self.failing.items() if r > 0), key=lambda kv: -kv[1])
            ),
            messages_in_per_s=rates.get("messages_in", 0.0) if has_rates and app_read else None,
            api_requests_per_s=api,
            api_by_class=self.api_by_class,
            api_5xx_share=(self.api_by_class.get("5xx", 0.0) / api) if api else None,
            db_write_errors_per_s=rates.get("db_write_errors", 0.0)
            if has_rates and app_read
            else None,
            db_read_errors_per_s=rates.get("db_read_errors", 0.0)
            if has_rates and app_read
            else None,
            web_queue_len=gauges.get("web_queue_len"),
            web_pending_connections=gauges.get("web_pending_connections"),
            restarted=tuple(sorted(self.restarted)),
            unknown_families=tuple(sorted(self.unknown)),
            problems=tuple(p for answer in read.values() for p in answer.problems),
        )


def sparkline(points: deque[tuple[datetime, float]] | list[float], width: int) -> str:
    """The last `width` values as block characters, scaled from 0 to their maximum."""
    values = [p[1] if isinstance(p, tuple) else p for p in points][-width:]
    if not values:
        return ""
    top = max(values)
    blocks = " ▁▂▃▄▅▆▇█"
    if top <= 0 or math.isnan(top):
        return blocks[1] * len(values)
    return "".join(blocks[max(1, min(8, round(v / top * 8)))] for v in values)
