"""The incident, accounted: each loss of the primary master, each shard's downtime, each
finding's episode, the vitals' peaks, the restarts and the gaps in what was seen. Plain
Python.

An `Accountant` is fed what the watcher derived of each poll, in order (`Derived`, as
the recorder writes it and replay reads it back; live, made from the poll's result), so
`wa-tui report` and the `i` screen count from the same numbers the dashboard showed and
never read the answers again. Times are the polls' own: a state is counted from the
first poll that saw it to the first poll that did not, so each time is exact to a poll
interval.

What is down is the summary's `shard_trouble` (README "What the numbers count"). A failed
poll, or an owner in error, is not known: a gap, never downtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wa_tui.analysis.summary import DOWN, UNKNOWN, served_by, shard_trouble
from wa_tui.analysis.vitals import HistoryPoint, failure_share
from wa_tui.core.freshness import missed_polls
from wa_tui.core.text import iso_time
from wa_tui.model.judgement import Finding, Severity, Summary
from wa_tui.model.snapshot import Role, Snapshot, shard_name

# The peaks the account reports, by their name in its JSON.
PEAKS = (
    "callback_queue",
    "pending_messages",
    "callback_failure_share",
    "api_5xx_share",
    "db_errors_per_second",
)


@dataclass(frozen=True)
class Shape:
    """What an account needs of one poll beyond its findings and vitals: who is the
    primary master, which shards are in trouble, and the summary's shard numbers."""

    primary: tuple[str, ...]
    shards: tuple[int, ...]  # every shard of the deployment, -1 included
    trouble: tuple[tuple[int, str, str], ...]  # (shard, DOWN or UNKNOWN, why)
    owners_down: int  # Summary.shards_owner_down
    unassigned: int  # Summary.shards_unassigned

    @classmethod
    def of(cls, snapshot: Snapshot, summary: Summary) -> Shape:
        owners = served_by(snapshot)
        return cls(
            tuple(n.id for n in snapshot.nodes if n.role == Role.PRIMARY_MASTER),
            tuple(sorted(owners)),
            tuple(
                (shard, *state)
                for shard, nodes in sorted(owners.items())
                if (state := shard_trouble(nodes)) is not None
            ),
            summary.shards_owner_down,
            summary.shards_unassigned,
        )

    def document(self) -> dict[str, Any]:
        return {
            "primary": list(self.primary),
            "shards": list(self.shards),
            "trouble": [list(t) for t in self.trouble],
            "owners_down": self.owners_down,
            "unassigned": self.unassigned,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Shape:
        return cls(
            tuple(document["primary"]),
            tuple(document["shards"]),
            tuple((int(s), str(state), str(why)) for s, state, why in document["trouble"]),
            int(document["owners_down"]),
            int(document["unassigned"]),
        )


@dataclass(frozen=True)
class PollFacts:
    """One good poll, as an account reads it."""

    at: datetime
    shape: Shape | None  # None: recorded before shapes were (the report says so)
    findings: tuple[Finding, ...]
    vitals: HistoryPoint | None


@dataclass
class Span:
    start: datetime
    end: datetime | None = None
    why: str = ""

    def seconds(self, until: datetime) -> float:
        return ((self.end or until) - self.start).total_seconds()

    def document(self) -> dict[str, Any]:
        return {"from": iso_time(self.start), "until": iso_time(self.end), "why": self.why}


@dataclass
class Failover:
    lost_at: datetime
    lost_node: str
    restored_at: datetime | None = None
    new_node: str | None = None

    def document(self, until: datetime) -> dict[str, Any]:
        return {
            "lost_at": iso_time(self.lost_at),
            "restored_at": iso_time(self.restored_at),
            "seconds": round(((self.restored_at or until) - self.lost_at).total_seconds(), 1),
            "lost_node": self.lost_node,
            "new_node": self.new_node,
        }


@dataclass
class Episode:
    """One finding (code, nodes, shards) from the poll that raised it to the one that
    no longer had it."""

    code: str
    nodes: tuple[str, ...]
    shards: tuple[int, ...]
    severity: Severity
    span: Span

    def document(self, until: datetime) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.label,
            "nodes": list(self.nodes),
            "shards": list(self.shards),
            "raised_at": iso_time(self.span.start),
            "cleared_at": iso_time(self.span.end),
            "seconds": round(self.span.seconds(until), 1),
        }


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """The charts' numbers of one poll."""

    at: datetime
    callback_queue: float | None
    callback_failure_share: float | None
    owners_down: int | None
    unassigned: int | None

    @property
    def shards_down(self) -> int | None:
        """Summary.shards_down, as the poll's shape kept its two parts."""
        return None if self.owners_down is None else self.owners_down + (self.unassigned or 0)


@dataclass
class Account:
    """What was seen, accounted. `until` is the last poll's time (open spans end there)."""

    started: datetime | None = None
    until: datetime | None = None
    polls: int = 0
    failovers: list[Failover] = field(default_factory=list)
    shards: dict[int, list[Span]] = field(default_factory=dict)
    episodes: list[Episode] = field(default_factory=list)
    peaks: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    restarts: list[tuple[str, datetime]] = field(default_factory=list)
    gaps: list[Span] = field(default_factory=list)
    chart: list[ChartPoint] = field(default_factory=list)
    shapeless: int = 0  # good polls recorded without a shape

    def down_seconds(self, shard: int) -> float:
        assert self.until is not None
        return sum(s.seconds(self.until) for s in self.shards.get(shard, ()))

    def document(self) -> dict[str, Any]:
        """The report's JSON (README "After the incident")."""
        until = self.until or datetime.min
        return {
            "failovers": [f.document(until) for f in self.failovers],
            "shards": [
                {
                    "shard": shard,
                    "down_seconds": round(self.down_seconds(shard), 1),
                    "intervals": [s.document() for s in spans],
                }
                for shard, spans in sorted(self.shards.items())
            ],
            "findings": [e.document(until) for e in self.episodes],
            "vitals": {
                name: {"peak": peak[0], "at": iso_time(peak[1])} if peak else None
                for name in PEAKS
                for peak in [self.peaks.get(name)]
            },
            "restarts": [{"node": node, "at": iso_time(at)} for node, at in self.restarts],
            "covered": {
                "from": iso_time(self.started),
                "until": iso_time(self.until),
                "polls": self.polls,
                "gaps": [g.document() for g in self.gaps],
            },
        }


class Accountant:
    """Polls in, in order, an account out; keeps only open spans and what is reported
    (and, for the charts, a point a poll: at most `chart_points`, the oldest thinned)."""

    def __init__(self, interval: float, chart_points: int = 50_000) -> None:
        self.interval = interval
        self.account = Account()
        self._chart_points = chart_points
        self._primary: str | None = None  # the primary master being followed
        self._open_shards: dict[int, Span] = {}
        self._open_findings: dict[tuple[str, tuple[str, ...], tuple[int, ...]], Episode] = {}
        self._failing: Span | None = None  # failed polls since the last good one
        self._unknown: dict[int, Span] = {}  # shards whose owner is in error, and since when
        self._last_at: datetime | None = None

    def good(self, facts: PollFacts) -> None:
        """A poll that was read: its findings, shape and vitals counted."""
        self._begin(facts.at)
        if self._failing is not None:
            self._failing.end = facts.at
            self._failing = None
        if facts.shape is None:
            self.account.shapeless += 1
        else:
            self._follow_primary(facts.at, facts.shape.primary)
            self._follow_shards(facts.at, facts.shape)
        self._follow_findings(facts.at, facts.findings)
        self._follow_vitals(facts.at, facts.vitals)
        self._chart(facts)

    def failed(self, at: datetime, why: str) -> None:
        """A poll that failed: nothing is known until the next good one."""
        self._begin(at)
        if self._failing is None:
            self._failing = Span(at, None, why)
            self.account.gaps.append(self._failing)
        self._failing.end = at

    def _begin(self, at: datetime) -> None:
        account = self.account
        if account.started is None:
            account.started = at
        last = self._last_at
        if last is not None and missed_polls((at - last).total_seconds(), self.interval):
            account.gaps.append(Span(last, at, "nothing recorded"))
        account.until, account.polls, self._last_at = at, account.polls + 1, at

    def _follow_primary(self, at: datetime, primary: tuple[str, ...]) -> None:
        failovers = self.account.failovers
        open_loss = failovers[-1] if failovers and failovers[-1].restored_at is None else None
        if open_loss is not None:
            if primary:
                open_loss.restored_at, open_loss.new_node = at, primary[0]
                self._primary = primary[0]
            return
        if self._primary is not None and self._primary not in primary:
            loss = Failover(at, self._primary)
            failovers.append(loss)
            if primary:  # the lease changed hands between two polls
                loss.restored_at, loss.new_node = at, primary[0]
        if primary and (self._primary is None or self._primary not in primary):
            self._primary = primary[0]

    def _follow_shards(self, at: datetime, shape: Shape) -> None:
        shards = self.account.shards
        for shard in shape.shards:
            shards.setdefault(shard, [])
        trouble = {shard: (state, why) for shard, state, why in shape.trouble}
        for shard in list(self._open_shards):
            state, why = trouble.get(shard, ("", ""))
            span = self._open_shards[shard]
            if state != DOWN or why != span.why:
                span.end = at
                del self._open_shards[shard]
        for shard, (state, why) in trouble.items():
            if state == DOWN and shard not in self._open_shards:
                span = Span(at, None, why)
                shards.setdefault(shard, []).append(span)
                self._open_shards[shard] = span
            elif state == UNKNOWN:
                self._unknown_shard(at, shard, why)
        unknown = {shard for shard, (state, _) in trouble.items() if state == UNKNOWN}
        for shard in self._unknown.keys() - unknown:
            del self._unknown[shard]

    def _unknown_shard(self, at: datetime, shard: int, why: str) -> None:
        """An owner in error: its shard is not known, a gap of its own while it lasts."""
        label = f"{shard_name(shard)}: {why}"
        span = self._unknown.get(shard)
        if span is None or span.why != label:
            span = Span(at, at, label)
            self._unknown[shard] = span
            self.account.gaps.append(span)
        span.end = at

    def _follow_findings(self, at: datetime, findings: Iterable[Finding]) -> None:
        seen = set()
        for finding in findings:
            key = (finding.code, tuple(finding.nodes), tuple(finding.shards))
            seen.add(key)
            episode = self._open_findings.get(key)
            if episode is None:
                episode = Episode(*key, finding.severity, Span(at))
                self._open_findings[key] = episode
                self.account.episodes.append(episode)
            elif finding.severity > episode.severity:
                episode.severity = finding.severity
        for key in self._open_findings.keys() - seen:
            self._open_findings.pop(key).span.end = at

    def _follow_vitals(self, at: datetime, point: HistoryPoint | None) -> None:
        if point is None:
            return
        values = point.get("values", {})
        readings = {
            "callback_queue": values.get("callback_queue"),
            "pending_messages": values.get("pending_messages"),
            "callback_failure_share": _failure_share(point),
            "api_5xx_share": values.get("api_5xx_share"),
            "db_errors_per_second": values.get("db_errors_per_s"),
        }
        peaks = self.account.peaks
        for name, value in readings.items():
            if value is not None and (name not in peaks or value > peaks[name][0]):
                peaks[name] = (value, at)
        for node in point.get("restarted", ()):
            self.account.restarts.append((node, at))

    def _chart(self, facts: PollFacts) -> None:
        chart = self.account.chart
        values = facts.vitals.get("values", {}) if facts.vitals else {}
        shape = facts.shape
        chart.append(
            ChartPoint(
                facts.at,
                values.get("callback_queue"),
                _failure_share(facts.vitals) if facts.vitals else None,
                shape.owners_down if shape else None,
                shape.unassigned if shape else None,
            )
        )
        if len(chart) > self._chart_points:
            del chart[::2]  # half the detail: a long session stays drawn whole


def _failure_share(point: HistoryPoint) -> float | None:
    """The share of callbacks that failed over the poll, from its recorded rates."""
    return failure_share(*point["callbacks"]) if point.get("callbacks") else None
