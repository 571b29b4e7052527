"""A poll's answers read into its result: the snapshot, what changed, the vitals, the
findings and the summary. The `Reader` keeps what that needs between polls and fetches
nothing, so a replay reads recorded answers exactly as the poller reads live ones."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

from wa_tui.analysis import Thresholds, analyse, diff
from wa_tui.analysis.accounting import PollFacts, Shape
from wa_tui.analysis.changes import restarts
from wa_tui.analysis.forecast import Forecast, ForecastThresholds, ForecastTracker
from wa_tui.analysis.summary import summary_of
from wa_tui.analysis.vitals import (
    KNOWN_FAMILIES,
    Vitals,
    VitalsThresholds,
    VitalsTracker,
    history_point,
)
from wa_tui.analysis.webhook import (
    WebhookView,
    webhook_findings,
    with_webhook_advice,
)
from wa_tui.api.answers import Answers, Unread, not_served
from wa_tui.api.endpoints import (
    HEALTH,
    SETTINGS,
    STATS,
    WEBHOOK_CA,
    WEBHOOK_PROBE,
)
from wa_tui.api.metrics import MetricsAnswer
from wa_tui.api.settings import read_settings
from wa_tui.api.webhook_probe import WebhookProbe
from wa_tui.core.errors import ApiStatusError, SlowAnswer, WAError
from wa_tui.core.text import exact_duration
from wa_tui.model.judgement import Change, Finding, Severity, Summary
from wa_tui.model.snapshot import Snapshot


@dataclass(frozen=True)
class PollResult:
    """What one poll produced: a fresh snapshot with its findings and what changed since
    the last good one, or the error that kept it from a snapshot."""

    snapshot: Snapshot | None
    error: WAError | None
    findings: tuple[Finding, ...] = ()
    changes: tuple[Change, ...] = ()
    vitals: Vitals | None = None
    answers: Answers | None = None  # as sent (for a recorder)
    summary: Summary | None = None  # the numbers every view shows
    # The settings and the last webhook probe.
    webhook: WebhookView = field(default_factory=WebhookView)
    forecasts: tuple[Forecast, ...] = ()
    limited_since: datetime | None = None  # since when the API limits us, if it does

    @cached_property
    def shape(self) -> Shape | None:
        """The primary master and the shards in trouble, for an account (made only when
        one is kept or recorded)."""
        if self.snapshot is None or self.summary is None:
            return None
        return Shape.of(self.snapshot, self.summary)

    @cached_property
    def facts(self) -> PollFacts:
        """What an account reads of a good poll (and the recorder writes of it): made
        once, however many consumers read it."""
        assert self.snapshot is not None
        point = history_point(self.vitals) if self.vitals else None
        return PollFacts(self.snapshot.fetched_at, self.shape, self.findings, point)


API_LIMITED_AFTER_SECONDS = 180  # limited this long, API_LIMITED is raised


def is_limited(answer: object) -> bool:
    """An answer that says the API is limiting us (429, or a 503 it sent itself)."""
    return isinstance(answer, ApiStatusError) and answer.limited


class Judgement(NamedTuple):
    """How a poll was judged where it was read first (a recorder, with its thresholds):
    what a reader of its recording shows instead of judging again."""

    findings: tuple[Finding, ...]
    summary: Summary | None = None  # None: made of the findings and the poll
    forecasts: tuple[Forecast, ...] | None = None  # None: not stored (an older recording)
    limited_since: datetime | None = None
    whole: bool = False  # all a poll is judged by (recordings of format 4 on)


class Reader:
    """Answers become a result: the snapshot (nodes unchanged since the last reused), what
    changed, the vitals and the findings of both, and their summary. Keeps what that
    needs between polls (the last good snapshot, the counters behind the rates); fetches
    nothing, so a replay reads recorded answers exactly as the poller reads live ones."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        vitals_thresholds: VitalsThresholds | None = None,
        forecast_thresholds: ForecastThresholds | None = None,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.vitals = VitalsTracker(vitals_thresholds)
        self.forecaster = ForecastTracker(forecast_thresholds)
        self.forecasts: tuple[Forecast, ...] = ()  # of the last good poll, as judged
        self.last_good: Snapshot | None = None
        self.findings: tuple[Finding, ...] = ()
        self.summary: Summary | None = None  # of the last good snapshot
        self.not_served: dict[str, Unread] = {}  # path -> why it is not asked
        self.webhook = WebhookView()
        self.webhook_ca: bytes | None = None  # the PEM the deployment holds, if any
        # Since when the API has answered "too many" (429, or its own 503) to some of
        # what a poll asked: a poll with no such answer ends it.
        self.limited_since: datetime | None = None

    def read(self, answers: Answers, remember: bool = True, judge: bool = True) -> PollResult:
        """The result of one poll's answers, worst findings first (`remember` False: not
        kept in the vitals' history, as a replay does with the poll it warms up on;
        `judge` False: no findings, summary nor forecasts made, for a reader that shows
        a recorder's whole judgement of the poll instead, `judged`)."""
        snapshot = answers.read(self.last_good)
        changes = list(diff(self.last_good, snapshot)) if self.last_good else []
        vitals = None
        if any(path in STATS for path in answers.stats) or self.not_served:
            vitals = self.vitals.update(
                self._stats(answers), snapshot.fetched_at, answers.received, remember
            )
            changes += restarts(vitals.restarted, snapshot.fetched_at)
        self.read_webhook(answers.stats)
        self.last_good = snapshot
        if judge:
            self._judge(snapshot, answers)
        return PollResult(
            snapshot,
            None,
            self.findings,
            tuple(changes),
            vitals,
            answers,
            self.summary,
            self.webhook,
            self.forecasts,
            self.limited_since,
        )

    def _judge(self, snapshot: Snapshot, answers: Answers) -> None:
        """The findings, the summary and the forecasts of the poll just read."""
        findings = analyse(snapshot, self.thresholds, now=snapshot.fetched_at)
        findings += self.vitals.findings(snapshot.fetched_at)
        latest = self.vitals.latest
        self.forecaster.update(snapshot, latest.callback_queue if latest else None)
        findings += self.forecaster.findings()
        webhook = self.webhook
        findings += webhook_findings(webhook.settings, webhook.probe, findings, self.thresholds)
        findings = with_webhook_advice(findings, webhook.settings, webhook.probe)
        findings += self._limited(answers, snapshot.fetched_at)
        findings.sort(key=lambda f: -f.severity)
        self.findings = tuple(findings)
        self.summary = summary_of(snapshot, self.findings, self.vitals.latest)
        self.forecasts = self.forecaster.current

    def shown(
        self, snapshot: Snapshot, findings: tuple[Finding, ...], summary: Summary
    ) -> PollResult:
        """A poll as a recorder parsed and judged it, shown before this reader reads it
        (a follower's first frame): kept as the last good poll until it is read here."""
        self.last_good, self.findings, self.summary = snapshot, findings, summary
        return PollResult(snapshot, None, findings, summary=summary)

    def judged(self, result: PollResult, judgement: Judgement) -> PollResult:
        """`result` as another judged it (a recorder, with its thresholds): its findings,
        summary, forecasts and states are what this reader keeps and shows from now on
        (what the judgement does not hold, as read here)."""
        if result.snapshot is None:
            return result
        self.findings = judgement.findings
        self.summary = judgement.summary or summary_of(
            result.snapshot, judgement.findings, result.vitals
        )
        if judgement.forecasts is not None:
            self.forecasts = judgement.forecasts
        if judgement.whole:
            self.limited_since = judgement.limited_since
        return replace(
            result,
            findings=self.findings,
            summary=self.summary,
            forecasts=self.forecasts,
            limited_since=self.limited_since,
        )

    def note_failure(self, error: WAError, at: datetime) -> None:
        """A poll that failed: limited (support itself refused as too many) counts."""
        if is_limited(error) and self.limited_since is None:
            self.limited_since = at

    def _limited(self, answers: Answers, at: datetime) -> list[Finding]:
        """API_LIMITED once the API has limited us for API_LIMITED_AFTER_SECONDS."""
        limited = [path for path, answer in answers.stats.items() if is_limited(answer)]
        limited += [HEALTH] if is_limited(answers.health) else []
        if not limited:
            self.limited_since = None
            return []
        since = self.limited_since = self.limited_since or at
        lasted = (at - since).total_seconds()
        if lasted < API_LIMITED_AFTER_SECONDS:
            return []
        return [
            Finding(
                Severity.WARNING,
                "API_LIMITED",
                f"the API has been limiting wa-tui for {exact_duration(lasted)} (too many "
                f"requests, or too many at once: {', '.join(sorted(limited))}); wa-tui backs "
                "off; find what else loads the API past its rate or concurrency limit",
            )
        ]

    def warm_up(self, answers: Answers) -> None:
        """The vitals' counters moved on by a poll's stats alone, nothing kept, nothing
        judged: a replay jumping to a poll reads those before it so that every webapp
        behind a balancer has a previous answer to make its rate from."""
        if any(path in STATS for path in answers.stats) or self.not_served:
            self.vitals.update(self._stats(answers), answers.fetched_at, answers.received, False)

    def read_webhook(self, side: Mapping[str, bytes | WAError]) -> None:
        """The settings, the webhook CA and a probe, when answers beside support and
        health (`side`, by path) carry them."""
        view = self.webhook
        settings = side.get(SETTINGS)
        if isinstance(settings, bytes):
            try:
                view = replace(view, settings=read_settings(settings), note=None)
            except WAError as error:
                view = replace(view, note=Unread(str(error), failed=True))
        elif isinstance(settings, WAError):
            if not_served(settings):
                why = f"not available (HTTP {getattr(settings, 'status', '?')})"
                view = replace(view, settings=None, note=Unread(why, failed=False))
            else:
                view = replace(view, settings=None, note=Unread(str(settings), failed=True))
        ca = side.get(WEBHOOK_CA)
        if isinstance(ca, bytes):
            self.webhook_ca, view = ca, replace(view, ca_uploaded=True)
        elif isinstance(ca, ApiStatusError) and ca.status == 404:
            self.webhook_ca, view = None, replace(view, ca_uploaded=False)
        probe = side.get(WEBHOOK_PROBE)
        if isinstance(probe, bytes):
            view = replace(view, probe=WebhookProbe.from_document(json.loads(probe)))
        self.webhook = view

    def _stats(self, answers: Answers) -> dict[str, MetricsAnswer | Unread]:
        """Each stats answer, or why there is none."""
        read: dict[str, MetricsAnswer | Unread] = dict(self.not_served)
        for path, answer in answers.read_stats(KNOWN_FAMILIES).items():
            self.not_served.pop(path, None)
            if isinstance(answer, WAError) and not_served(answer):
                status = getattr(answer, "status", "?")
                why = f"not available from this deployment (HTTP {status})"
                self.not_served[path] = read[path] = Unread(why, failed=False)
            else:
                read[path] = (
                    answer
                    if isinstance(answer, MetricsAnswer)
                    else Unread(str(answer), failed=not isinstance(answer, SlowAnswer))
                )
        return read
