"""The deployment's vitals: what it is doing, from its stats and metrics, with rates
between polls, a bounded history, and the findings they raise.

A `VitalsTracker` lives as long as its deployment's watcher: it keeps each counter
series' last value and when it was read, to turn counters into per-second rates (a
counter that goes down is a reset: no negative rate, and the node is said to have
restarted), and the last 30 minutes of each vital. Behind a load balancer each answer of
`/metrics` is one webapp's: a series is rated against its own last read, and the totals
sum the series read within the last few polls (docs/wa-api.md, "What real deployments
do"). Plain Python.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from wa_tui.api.answers import Unread
from wa_tui.api.endpoints import APP_STATS, DB_STATS, METRICS
from wa_tui.api.metrics import Family, Labels, MetricsAnswer
from wa_tui.core.text import exact_duration, visible
from wa_tui.core.thresholds import DEFAULTS
from wa_tui.model.judgement import Finding, Severity

CounterKey = tuple[str, str, str, Labels]  # path, node, family, labels
HISTORY_SECONDS = 30 * 60
HISTORY_POINTS = 900  # the most kept per vital, whatever the interval
FAILING_WINDOW_SECONDS = 60  # the share of failed callbacks is taken over this
RESTART_REMEMBERED_SECONDS = 10 * 60  # NODE_RESTARTED stays this long after a reset
MAX_COUNTERS = 20_000  # counters tracked per deployment: label churn cannot grow memory
RESET = -1.0  # what `VitalsTracker.rate` says of a counter that went down
# A counter series (a webapp behind a balancer is read every few polls) counts in the
# totals while it was read within this many polls; a webapp unread this long is forgotten.
SERIES_WINDOW_POLLS = 4
WEBAPP_FORGOTTEN_SECONDS = 10 * 60
SATURATED_AFTER_SECONDS = 60  # WEBAPP_SATURATED: pending at the most, or no idle process
# The DB request labels: real builds say `write` / `read`, others the statement.
WRITE_REQUESTS = ("write", "transaction", "commit", "rollback")
READ_REQUESTS = ("read", "select", "prepare")
# The callback family: older builds name it `callback_requests`.
CALLBACK_FAMILIES = ("callback_requests_duration_ms_count", "callback_requests")
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
    of: str | None = None  # the `Vitals` attribute it is read against ("1/10")

    def shown(self, vitals: Vitals) -> str:
        """Its value as the pane and the text snapshot show it."""
        value = self.reads(vitals.value(self.name))
        whole = vitals.value(self.of) if self.of else None
        return value if whole is None or value == NOT_READ else f"{value}/{self.reads(whole)}"


# In the order they are shown; each is kept with its history for the sparklines.
VITAL_LINES = (
    VitalLine("callback_queue", "callback queue", _count, "CALLBACK_QUEUE_HIGH"),
    VitalLine("pending_messages", "pending messages", _count, "PENDING_MESSAGES_HIGH"),
    VitalLine("callback_success", "callback ok (1m)", _share, "CALLBACK_FAILING"),
    VitalLine("api_requests_per_s", "API requests", _per_second),
    VitalLine("api_5xx_share", "API 5xx share", _share, "API_ERRORS"),
    VitalLine("db_errors_per_s", "DB errors", _per_second, "DB_ERRORS"),
    VitalLine(
        "web_pending_connections",
        "pending conns",
        _count,
        "WEBAPP_SATURATED",
        of="web_max_pending_connections",
    ),
    VitalLine(
        "web_idle_processes", "idle processes", _count, "WEBAPP_SATURATED", of="web_total_processes"
    ),
)
CHARTED = tuple(line.name for line in VITAL_LINES)


@dataclass(frozen=True)
class VitalsThresholds:
    callback_queue_warning: float = DEFAULTS["callback_queue_warning"]
    callback_queue_critical: float = DEFAULTS["callback_queue_critical"]
    callback_failing_share: float = DEFAULTS["callback_failing_percent"] / 100
    pending_messages_warning: float = DEFAULTS["pending_messages_warning"]
    db_errors_per_s: float = DEFAULTS["db_errors_per_second"]
    api_5xx_share: float = DEFAULTS["api_5xx_percent"] / 100


def result_label(result: str) -> str:
    """A callback's `result` as it reads: `success`, an HTTP status, or an error code."""
    if result.isdigit():
        return f"HTTP {result}" if 100 <= int(result) <= 599 else f"error {result}"
    return result


@dataclass(frozen=True)
class WebappVitals:
    """One webapp's gauges, as it last answered `/metrics` (behind a balancer each
    answer is one webapp's). `queue_size` is the listen queue's size: a capacity."""

    node: str
    pending_connections: float | None = None
    max_pending_connections: float | None = None
    idle_processes: float | None = None
    total_processes: float | None = None
    queue_size: float | None = None

    @property
    def refusing(self) -> bool:
        """Its pending connections at their most: the next connections are refused."""
        pending, most = self.pending_connections, self.max_pending_connections
        return pending is not None and bool(most) and pending >= most  # type: ignore[operator]

    def saturation(self) -> str | None:
        """What says this webapp can take no more, or None."""
        if self.refusing:
            pending, most = self.pending_connections, self.max_pending_connections
            return f"{pending:,.0f} of {most:,.0f} pending connections"
        if self.idle_processes is not None and self.idle_processes <= 0:
            of = f" of {self.total_processes:,.0f}" if self.total_processes else ""
            return f"no process idle{of}"
        return None


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
    # Failed callbacks over all callbacks in the last FAILING_WINDOW_SECONDS (set by the
    # tracker): the line's "callback ok (1m)" and CALLBACK_FAILING read this one number.
    callbacks_failed_share: float | None = None
    failing_results: tuple[tuple[str, float], ...] = ()  # result code, per second
    messages_in_per_s: float | None = None
    api_requests_per_s: float | None = None
    api_by_class: Mapping[str, float] = field(default_factory=dict)  # "2xx" -> per second
    api_5xx_share: float | None = None
    db_write_errors_per_s: float | None = None
    db_read_errors_per_s: float | None = None
    # Failed DB requests per second by their `request` label, the most first; a label
    # neither a read nor a write is counted as neither and listed here.
    db_errors_by_request: tuple[tuple[str, float], ...] = ()
    # The webapps read within the window (each answer of `/metrics` is one webapp's), and
    # how many were seen in the last minutes: "2 of 3 seen" while one is unread.
    webapps: tuple[WebappVitals, ...] = ()
    webapps_known: int = 0
    web_queue_len: float | None = None  # the listen queue's size (a capacity), the largest
    web_pending_connections: float | None = None
    web_max_pending_connections: float | None = None
    web_idle_processes: float | None = None
    web_total_processes: float | None = None
    restarted: tuple[str, ...] = ()  # nodes whose counters went down this poll
    unknown_families: tuple[str, ...] = ()  # names read that wa-tui has no use for
    problems: tuple[str, ...] = ()  # families of the wrong shape, skipped

    @property
    def callback_success(self) -> float | None:
        """The share of callbacks the webhook answered well in the last minute."""
        failed = self.callbacks_failed_share
        return None if failed is None else 1 - failed

    @property
    def db_errors_per_s(self) -> float | None:
        parts = [
            r for r in (self.db_write_errors_per_s, self.db_read_errors_per_s) if r is not None
        ]
        return sum(parts) if parts else None

    def value(self, name: str) -> float | None:
        return getattr(self, name)

    def webapps_said(self) -> str | None:
        """How many webapps the webapp's numbers are from: "3 webapps", "2 of 3 seen"."""
        seen, known = len(self.webapps), self.webapps_known
        if not known:
            return None
        if seen < known:
            return f"{seen} of {known} webapps seen"
        return f"{seen} webapp" + ("s" if seen > 1 else "")

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


# The webapp's gauges, as Meta names them -> the WebappVitals field.
WEBAPP_GAUGES = {
    "web_pending_connections": "pending_connections",
    "web_max_pending_connections": "max_pending_connections",
    "web_idle_processes": "idle_processes",
    "web_total_processes": "total_processes",
    "web_queue_len": "queue_size",
}
KNOWN_FAMILIES = frozenset(
    {
        "callback_queue_size",
        *CALLBACK_FAMILIES,
        "db_request_error_duration_us_count",
        "endpoint_requests",
        "in_message_from_server",
        "api_requests_duration_ms_count",
        *WEBAPP_GAUGES,
        "web_uptime",
        "db_pending_messages",
        "db_pending_callbacks",
    }
)


def webapps_line(vitals: Vitals) -> str | None:
    """Whose the webapp's numbers are (behind a balancer each answer is one webapp's),
    and the listen queue's size they report: a capacity, not a backlog."""
    said = vitals.webapps_said()
    if said is None:
        return None
    if len(vitals.webapps) == 1:
        said += f" {visible(vitals.webapps[0].node, limit=20)}"
    if vitals.web_queue_len is not None:
        said += f" · listen queue size {_count(vitals.web_queue_len)}"
    return said


def failure_share(callbacks_per_s: float | None, failures_per_s: float | None) -> float | None:
    """The share of callbacks that failed, at these rates (None: no callbacks were made):
    the vitals' "callback ok (1m)", CALLBACK_FAILING and the account all read it here."""
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
        self.polls = 0
        # Each counter series' last value and when it was read (monotonic): a series is
        # rated against its own last read, not the last poll (behind a balancer a
        # webapp's series are read every few polls).
        self._counters: dict[CounterKey, tuple[float, float]] = {}
        self._rates: dict[CounterKey, tuple[float, int]] = {}  # last rate, at which poll
        self._webapps: dict[str, dict[str, float]] = {}  # its gauges, as last read
        self._webapp_seen: dict[str, tuple[float, int]] = {}  # received, poll
        self._saturated_since: dict[str, datetime] = {}
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
        self.polls += 1
        has_rates = self._last_received is not None
        self._last_received = received
        read = {path: a for path, a in answers.items() if isinstance(a, MetricsAnswer)}
        unavailable = {path: a for path, a in answers.items() if isinstance(a, Unread)}
        reading = _Reading(self, received, has_rates)
        for path, answer in read.items():
            for node, families in answer.nodes.items():
                for family in families.values():
                    if family.name == CALLBACK_FAMILIES[1] and CALLBACK_FAMILIES[0] in families:
                        continue  # a build that says both: the newer name counts
                    reading.add(path, node, family)
            reading.unknown |= answer.unparsed_names()
        reading.fold_recent()
        vitals = reading.vitals(at, unavailable, read, self.latest, self._webapps_now(received))
        self._track_saturation(vitals, at)
        # Kept (`remember`), this poll's callbacks count in the window it is kept with.
        share = self._failed_share(at, vitals if remember else None)
        vitals = replace(vitals, callbacks_failed_share=share)
        if remember:  # False: a replay warming the counters up (its history is restored)
            self._remember(vitals)
        self.latest = vitals
        return vitals

    def rate(self, key: CounterKey, value: float, received: float) -> float | None:
        """Per second since this series was last read; None on its first read, and
        RESET after a reset (the counter went down). Kept for the window's totals."""
        previous = self._counters.get(key)
        if previous is None and len(self._counters) >= MAX_COUNTERS:
            return None  # past the cap, new label sets are not tracked
        self._counters[key] = (value, received)
        rate = None
        if previous is not None and received > previous[1]:
            last_value, last_read = previous
            rate = RESET if value < last_value else (value - last_value) / (received - last_read)
        if rate is None or rate is RESET:
            self._rates.pop(key, None)
        else:
            self._rates[key] = (rate, self.polls)
        return rate

    def recent_rates(self) -> Iterator[tuple[CounterKey, float]]:
        """Each series' last rate, of those read within the window (older ones are
        dropped: a series no longer sent stops counting)."""
        oldest = self.polls - SERIES_WINDOW_POLLS
        for key, (rate, poll) in list(self._rates.items()):
            if poll <= oldest:
                del self._rates[key]
            else:
                yield key, rate

    def saw_webapp(self, webapp: str, received: float, gauge: str | None, value: float) -> None:
        self._webapp_seen[webapp] = (received, self.polls)
        if gauge is not None:
            self._webapps.setdefault(webapp, {})[gauge] = value

    def _webapps_now(self, received: float) -> tuple[tuple[WebappVitals, ...], int]:
        """The webapps read within the window, and how many in the last minutes."""
        for webapp, (seen, _) in list(self._webapp_seen.items()):
            if received - seen > WEBAPP_FORGOTTEN_SECONDS:
                del self._webapp_seen[webapp]
                self._webapps.pop(webapp, None)
        oldest = self.polls - SERIES_WINDOW_POLLS
        recent = sorted(w for w, (_, poll) in self._webapp_seen.items() if poll > oldest)
        webapps = tuple(WebappVitals(w, **self._webapps.get(w, {})) for w in recent)
        return webapps, len(self._webapp_seen)

    def _track_saturation(self, vitals: Vitals, at: datetime) -> None:
        saturated = {w.node for w in vitals.webapps if w.saturation()}
        for webapp in list(self._saturated_since):
            if webapp not in saturated:
                del self._saturated_since[webapp]
        for webapp in saturated:
            self._saturated_since.setdefault(webapp, at)

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

    def _failed_share(self, now: datetime, this_poll: Vitals | None) -> float | None:
        """Failed callbacks over all callbacks in the last FAILING_WINDOW_SECONDS, with
        `this_poll`'s, not kept yet."""
        recent = [
            (a, f)
            for at, a, f in self._callbacks
            if (now - at).total_seconds() <= FAILING_WINDOW_SECONDS
        ]
        if this_poll is not None and this_poll.callbacks_per_s is not None:
            recent.append((this_poll.callbacks_per_s, this_poll.callback_failures_per_s or 0.0))
        return failure_share(sum(a for a, _ in recent), sum(f for _, f in recent))

    def findings(self, now: datetime) -> Iterator[Finding]:
        vitals, t = self.latest, self.thresholds
        if vitals is None:
            return
        yield from _queue_findings(vitals, t)
        share = vitals.callbacks_failed_share
        if share is not None and share >= t.callback_failing_share:
            codes = ", ".join(
                f"{visible(result_label(code), limit=20)} ({rate:.1f}/s)"
                for code, rate in vitals.failing_results[:3]
            )
            # The results are this poll's: none failing now says so, not "none".
            said = f"most now: {codes}" if codes else "none failing since the last read"
            yield Finding(
                Severity.CRITICAL if share >= 0.5 else Severity.WARNING,
                "CALLBACK_FAILING",
                f"{share:.0%} of callbacks failed in the last minute ({said}): check the "
                "webhook answers 200 within its timeout",
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
        yield from self._saturation_findings(now)
        for node, when in sorted(self.restarts.items()):
            if (now - when).total_seconds() <= RESTART_REMEMBERED_SECONDS:
                yield Finding(
                    Severity.WARNING,
                    "NODE_RESTARTED",
                    f"{visible(node, limit=60)} restarted at {when.astimezone():%H:%M:%S} "
                    "(its counters started again): check its logs for why",
                    (node,) if ":" in node else (),
                )

    def _saturation_findings(self, now: datetime) -> Iterator[Finding]:
        webapps = {w.node: w for w in self.latest.webapps} if self.latest else {}
        for node, since in sorted(self._saturated_since.items()):
            webapp, lasted = webapps.get(node), (now - since).total_seconds()
            what = webapp.saturation() if webapp else None
            if webapp is None or what is None or lasted < SATURATED_AFTER_SECONDS:
                continue
            refused = webapp.refusing
            yield Finding(
                Severity.CRITICAL if refused else Severity.WARNING,
                "WEBAPP_SATURATED",
                f"webapp {visible(node, limit=40)} saturated for {exact_duration(lasted)}: "
                f"{what}; API calls {'are refused' if refused else 'wait'}: find what holds "
                "its processes (slow coreapps, the database) or add webapp processes",
            )


def _queue_findings(vitals: Vitals, t: VitalsThresholds) -> Iterator[Finding]:
    queue = vitals.callback_queue
    if queue is None or queue < t.callback_queue_warning:
        return
    critical = queue >= t.callback_queue_critical
    worst = max(vitals.callback_queue_by_node.items(), key=lambda item: item[1], default=None)
    where = f", most on {visible(worst[0], limit=60)} ({worst[1]:,.0f})" if worst else ""
    # Every coreapp holding a good part of it is marked, not only the one holding most.
    holding = tuple(
        node
        for node, held in sorted(vitals.callback_queue_by_node.items())
        if worst and held and held >= worst[1] / 2 and ":" in node
    )
    if len(holding) > 1:
        where += f"; {len(holding)} coreapps hold {worst[1] / 2:,.0f} or more"  # type: ignore[index]
    yield Finding(
        Severity.CRITICAL if critical else Severity.WARNING,
        "CALLBACK_QUEUE_HIGH",
        f"callback queue at {queue:,.0f}{where}: error 1016 comes when it fills; check the "
        "webhook answers 200 in time, or raise webhooks.max_concurrent_requests",
        holding,
    )


def _error_findings(vitals: Vitals, t: VitalsThresholds) -> Iterator[Finding]:
    for kind, rate, labels in (
        ("writes", vitals.db_write_errors_per_s, WRITE_REQUESTS),
        ("reads", vitals.db_read_errors_per_s, READ_REQUESTS),
    ):
        if rate is not None and rate >= t.db_errors_per_s:
            failing = [visible(r) for r, _ in vitals.db_errors_by_request if r in labels]
            yield Finding(
                Severity.CRITICAL if kind == "writes" else Severity.WARNING,
                "DB_ERRORS",
                f"database {kind} failing: {rate:.2f} errors/s ({'/'.join(failing[:4])}); "
                "check the database server, its disk and its connections",
            )
    share = vitals.api_5xx_share
    if share is not None and share >= t.api_5xx_share and vitals.api_requests_per_s:
        yield Finding(
            Severity.CRITICAL if share >= 0.25 else Severity.WARNING,
            "API_ERRORS",
            f"{share:.0%} of API requests answered 5xx since the last read "
            f"({vitals.api_requests_per_s:.1f}/s in all): check the webapp's logs and the "
            "coreapps behind it",
        )


class _Reading:
    """One poll's families folded into the vitals: gauges as read; each counter rated
    against its own last read, then the recent rates of every series summed."""

    def __init__(self, tracker: VitalsTracker, received: float, has_rates: bool) -> None:
        self.tracker = tracker
        self.received = received
        self.has_rates = has_rates
        self.gauges: dict[str, float] = {}
        self.rates: dict[str, float] = {}
        self.rated: set[str] = set()  # the paths of which a series was read before
        self.queue_by_node: dict[str, float] = {}
        self.failing: dict[str, float] = {}
        self.db_errors: dict[str, float] = {}
        self.api_by_class: dict[str, float] = {}
        self.restarted: set[str] = set()
        self.unknown: set[str] = set()
        self.node_rates: dict[str, dict[str, float]] = {}

    def add(self, path: str, node: str, family: Family) -> None:
        if family.name not in KNOWN_FAMILIES:
            self.unknown.add(family.name)
        if path == METRICS:
            self._saw_webapps(node, family)
        if family.kind == "counter":
            self._counter(path, node, family)
        elif family.name == "callback_queue_size":
            self.queue_by_node[node] = self.queue_by_node.get(node, 0.0) + family.total()
        elif family.name == "web_uptime":
            for labels, uptime in family.samples:
                if self.tracker.uptime_dropped(labels, uptime):
                    self.restarted.add(f"webapp {dict(labels).get('node', node)}")
        elif path != METRICS or family.name not in WEBAPP_GAUGES:
            self.gauges[family.name] = self.gauges.get(family.name, 0.0) + family.total()

    def _saw_webapps(self, node: str, family: Family) -> None:
        """Each sample names its webapp (`node`): it was read now, its gauges with it."""
        gauge = WEBAPP_GAUGES.get(family.name) if family.kind != "counter" else None
        for labels, value in family.samples:
            webapp = dict(labels).get("node", node)
            self.tracker.saw_webapp(webapp, self.received, gauge, value)

    def _counter(self, path: str, node: str, family: Family) -> None:
        for labels, value in family.samples:
            key = (path, node, family.name, labels)
            if self.tracker.rate(key, value, self.received) is RESET:
                self.restarted.add(node)
                self.rated.add(path)  # read before: its total is 0 now, not unknown

    def fold_recent(self) -> None:
        """The totals: every series' last rate, of those read within the window."""
        for (path, node, name, labels), rate in self.tracker.recent_rates():
            self.rated.add(path)
            self._fold(name, dict(labels), rate)
            if name in CALLBACK_FAMILIES:
                self._fold_node(node, dict(labels), rate)

    def _fold_node(self, node: str, labels: dict[str, str], rate: float) -> None:
        rates = self.node_rates.setdefault(node, {"callbacks": 0.0, "callback_failures": 0.0})
        rates["callbacks"] += rate
        if labels.get("result", "?") != "success":
            rates["callback_failures"] += rate

    def _fold(self, name: str, labels: dict[str, str], rate: float) -> None:
        def add(bucket: dict[str, float], key: str) -> None:
            bucket[key] = bucket.get(key, 0.0) + rate

        if name in CALLBACK_FAMILIES:
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
            add(self.db_errors, request)
            if request in WRITE_REQUESTS:
                add(self.rates, "db_write_errors")
            elif request in READ_REQUESTS:
                add(self.rates, "db_read_errors")
        elif name == "in_message_from_server":
            add(self.rates, "messages_in")

    def _rate(self, name: str, path: str, read: Mapping[str, MetricsAnswer]) -> float | None:
        """A total of this poll: None when `path` was not read or none of its series
        has a rate yet (a first read)."""
        if path not in read or not self.has_rates or path not in self.rated:
            return None
        return self.rates.get(name, 0.0)

    def vitals(
        self,
        at: datetime,
        unavailable: Mapping[str, Unread],
        read: Mapping[str, MetricsAnswer],
        previous: Vitals | None,
        webapps: tuple[tuple[WebappVitals, ...], int],
    ) -> Vitals:
        gauges = self.gauges
        db_read = DB_STATS in read
        api = self._rate("api", METRICS, read)
        db_kept = previous is not None and not db_read  # stats/db is read less often
        recent, known = webapps if METRICS in read else ((), 0)
        return Vitals(
            at=at,
            unavailable=unavailable,
            callback_queue=sum(self.queue_by_node.values()) if APP_STATS in read else None,
            callback_queue_by_node=self.queue_by_node,
            callback_rates_by_node=self.node_rates,
            pending_messages=gauges.get("db_pending_messages")
            if db_read
            else (previous.pending_messages if db_kept and previous else None),
            pending_callbacks=gauges.get("db_pending_callbacks")
            if db_read
            else (previous.pending_callbacks if db_kept and previous else None),
            callbacks_per_s=self._rate("callbacks", APP_STATS, read),
            callback_failures_per_s=self._rate("callback_failures", APP_STATS, read),
            failing_results=_most_first(self.failing),
            messages_in_per_s=self._rate("messages_in", APP_STATS, read),
            api_requests_per_s=api,
            api_by_class=self.api_by_class,
            api_5xx_share=(self.api_by_class.get("5xx", 0.0) / api) if api else None,
            db_write_errors_per_s=self._rate("db_write_errors", APP_STATS, read),
            db_read_errors_per_s=self._rate("db_read_errors", APP_STATS, read),
            db_errors_by_request=_most_first(self.db_errors),
            webapps=recent,
            webapps_known=known,
            web_queue_len=_largest(w.queue_size for w in recent),
            web_pending_connections=_total(w.pending_connections for w in recent),
            web_max_pending_connections=_total(w.max_pending_connections for w in recent),
            web_idle_processes=_total(w.idle_processes for w in recent),
            web_total_processes=_total(w.total_processes for w in recent),
            restarted=tuple(sorted(self.restarted)),
            unknown_families=tuple(sorted(self.unknown)),
            problems=tuple(p for answer in read.values() for p in answer.problems),
        )


def _most_first(rates: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(((k, r) for k, r in rates.items() if r > 0), key=lambda kv: -kv[1]))


def _total(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _largest(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


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
