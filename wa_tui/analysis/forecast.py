"""Trouble seen before it pages: a disk filling, the callback queue climbing toward the
level where the client answers 1016. Plain Python.

A `ForecastTracker` keeps, per node and series, the last 30 minutes of readings (free
space by directory; the callback queue, the whole deployment's and each coreapp's) and
fits a line through them (least squares). A forecast is made only from three polls or
more over 30 s or more, from a fit that explains the series (R² at least MIN_FIT), and
from a slope that matters (the time left under FAR_FACTOR times the warning). A finding
is raised when two polls in a row agree it is under its threshold, and cleared only when
the time left is well past it (CLEAR_FACTOR times) or the forecast is gone two polls in
a row: a noisy series does not flap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from wa_tui.core.text import approximate_duration, visible
from wa_tui.core.thresholds import DEFAULTS
from wa_tui.model.judgement import Finding, Severity
from wa_tui.model.snapshot import FREE_SPACE_FIELDS, Snapshot

WINDOW_SECONDS = 30 * 60
MIN_POINTS = 3
MIN_SPAN_SECONDS = 30.0
MIN_FIT = 0.6  # R²
FAR_FACTOR = 10.0  # a time left past this many warnings is no forecast
CLEAR_FACTOR = 2.0
UNLIMITED_BYTES = 2**62  # the API's "unlimited": never a series
QUEUE = "callback_queue"
DEPLOYMENT = ""  # the node of a series of the whole deployment (the total queue)
# The series a forecast is made for: the free space of each node's directories, and the
# deployment's callback queue (CALLBACK_QUEUE_HIGH's, all coreapps together).
DISKS = {field: "disk_" + field.removeprefix("free_space_") for field in FREE_SPACE_FIELDS}


@dataclass(frozen=True)
class ForecastThresholds:
    disk_warning_hours: float = DEFAULTS["disk_forecast_warning_hours"]
    disk_critical_hours: float = DEFAULTS["disk_forecast_critical_hours"]
    queue_warning_minutes: float = DEFAULTS["queue_forecast_warning_minutes"]
    # The level the queue is forecast to reach.
    queue_critical: float = DEFAULTS["callback_queue_critical"]


@dataclass(frozen=True)
class Forecast:
    """When a series reaches its limit at the pace of the last 30 minutes."""

    node: str  # DEPLOYMENT for the whole deployment's queue
    what: str  # "disk_data", "disk_logs", "disk_media_incoming", "disk_media_outgoing", QUEUE
    seconds_left: float
    per_second: float  # the fitted slope

    def document(self) -> list[Any]:
        """As a recording stores it (JSON)."""
        return [self.node, self.what, self.seconds_left, self.per_second]

    @classmethod
    def from_document(cls, document: Sequence[Any]) -> Forecast:
        node, what, seconds_left, per_second = document
        return cls(str(node), str(what), float(seconds_left), float(per_second))


def fit(points: Iterable[tuple[float, float]]) -> tuple[float, float, float] | None:
    """Least squares through (t, value): slope, intercept, R²; None if it is not a line."""
    points = list(points)
    count = len(points)
    if count < 2:
        return None
    mean_t = sum(t for t, _ in points) / count
    mean_v = sum(v for _, v in points) / count
    var_t = sum((t - mean_t) ** 2 for t, _ in points)
    var_v = sum((v - mean_v) ** 2 for _, v in points)
    if var_t == 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / var_t
    intercept = mean_v - slope * mean_t
    explained = 1.0 if var_v == 0 else slope**2 * var_t / var_v
    return slope, intercept, explained


class ForecastTracker:
    """The series of one deployment, their forecasts, and the findings they raise."""

    def __init__(self, thresholds: ForecastThresholds | None = None) -> None:
        self.thresholds = thresholds or ForecastThresholds()
        self._series: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        self.current: tuple[Forecast, ...] = ()
        # Per series: polls in a row under the threshold (raising) or past it (clearing).
        self._agreeing: dict[tuple[str, str], int] = {}
        self._raised: dict[tuple[str, str], Severity] = {}
        self._quiet: dict[tuple[str, str], int] = {}

    def update(self, snapshot: Snapshot, queue: float | None) -> tuple[Forecast, ...]:
        """Add one poll's readings (free space, and the deployment's callback queue);
        the forecasts as of it."""
        at = snapshot.fetched_at.timestamp()
        for node in snapshot.nodes:
            readings = snapshot.readings.get(node.id, {})
            for field, what in DISKS.items():
                value = readings.get(field)
                if (
                    isinstance(value, int)
                    and not isinstance(value, bool)
                    and value < UNLIMITED_BYTES
                ):
                    self._add(node.id, what, at, float(value))
        if queue is not None:
            self._add(DEPLOYMENT, QUEUE, at, queue)
        live = {n.id for n in snapshot.nodes} | {DEPLOYMENT}
        for key in [k for k in self._series if k[0] not in live]:
            del self._series[key]  # a node gone: its series goes with it
        self.current = tuple(self._forecasts())
        return self.current

    def _add(self, node: str, what: str, at: float, value: float) -> None:
        series = self._series.setdefault((node, what), deque())
        series.append((at, value))
        while series and series[0][0] < at - WINDOW_SECONDS:
            series.popleft()

    def _forecasts(self) -> Iterator[Forecast]:
        for (node, what), series in self._series.items():
            if len(series) < MIN_POINTS or series[-1][0] - series[0][0] < MIN_SPAN_SECONDS:
                continue
            fitted = fit(series)
            if fitted is None:
                continue
            slope, _, explained = fitted
            last = series[-1][1]
            if what == QUEUE:
                left = (self.thresholds.queue_critical - last) / slope if slope > 0 else None
                warning = self.thresholds.queue_warning_minutes * 60
                if last >= self.thresholds.queue_critical:
                    left = None  # already there: CALLBACK_QUEUE_HIGH says so
            else:
                left = last / -slope if slope < 0 else None
                warning = self.thresholds.disk_warning_hours * 3600
            if left is None or explained < MIN_FIT or left > FAR_FACTOR * warning:
                continue
            yield Forecast(node, what, left, slope)

    def findings(self) -> list[Finding]:
        """DISK_FULL_SOON and CALLBACK_QUEUE_RISING, raised and cleared without flapping."""
        by_key = {(f.node, f.what): f for f in self.current}
        found = []
        for key in {*by_key, *self._raised, *self._agreeing}:
            severity = self._settled(key, by_key.get(key))
            forecast = by_key.get(key)
            if severity is not None and forecast is not None:
                found.append(self._finding(forecast, severity))
        return sorted(found, key=lambda f: (-f.severity, f.code, f.nodes))

    def _severity(self, forecast: Forecast | None) -> Severity | None:
        if forecast is None:
            return None
        t = self.thresholds
        if forecast.what == QUEUE:
            return (
                Severity.WARNING if forecast.seconds_left < t.queue_warning_minutes * 60 else None
            )
        if forecast.seconds_left < t.disk_critical_hours * 3600:
            return Severity.CRITICAL
        if forecast.seconds_left < t.disk_warning_hours * 3600:
            return Severity.WARNING
        return None

    def _settled(self, key: tuple[str, str], forecast: Forecast | None) -> Severity | None:
        """The severity to show for a series: raised after two polls agree, kept until
        it is well past its threshold (or gone) two polls in a row."""
        now = self._severity(forecast)
        raised = self._raised.get(key)
        if raised is None:
            self._agreeing[key] = self._agreeing.get(key, 0) + 1 if now is not None else 0
            if now is not None and self._agreeing[key] >= 2:
                self._raised[key] = now
                self._quiet[key] = 0
            return self._raised.get(key)
        if now is not None:
            self._raised[key] = now
            self._quiet[key] = 0
            return now
        warning = self._warning_seconds(key[1])
        past = forecast is None or forecast.seconds_left > CLEAR_FACTOR * warning
        self._quiet[key] = self._quiet.get(key, 0) + 1 if past else 0
        if self._quiet[key] >= 2:
            del self._raised[key]
            self._agreeing[key] = 0
            return None
        return raised

    def _warning_seconds(self, what: str) -> float:
        if what == QUEUE:
            return self.thresholds.queue_warning_minutes * 60
        return self.thresholds.disk_warning_hours * 3600

    def _finding(self, forecast: Forecast, severity: Severity) -> Finding:
        left = approximate_duration(forecast.seconds_left)
        if forecast.what == QUEUE:
            return Finding(
                severity,
                "CALLBACK_QUEUE_RISING",
                f"the callback queue grows {forecast.per_second * 60:,.0f}/min: it reaches "
                f"{self.thresholds.queue_critical:,.0f} (error 1016 near) in {left}; check "
                "the webhook answers 200 in time",
            )
        directory = forecast.what.removeprefix("disk_")
        return Finding(
            severity,
            "DISK_FULL_SOON",
            f"{visible(forecast.node, limit=60)}: the {directory} directory is full in {left} "
            f"at the pace of the last 30 minutes ({-forecast.per_second * 3600 / 2**30:.1f} "
            "GiB/h); free space or grow the disk",
            (forecast.node,),
        )
