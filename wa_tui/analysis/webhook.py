"""The webhook's findings: from the application settings (is a webhook set, over https?)
and from the last probe (wa_tui/api/webhook_probe.py: can it be reached from here, is its
certificate good, is it fast), and the callback findings' advice made specific with both.
Plain Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from wa_tui.analysis.findings import Thresholds
from wa_tui.api.answers import Unread
from wa_tui.api.settings import DEFAULT_MAX_CONCURRENT_REQUESTS, ApplicationSettings
from wa_tui.api.webhook_probe import SLOW_SECONDS, WHERE, WebhookProbe
from wa_tui.core import clock
from wa_tui.core.secrets import mask_url
from wa_tui.core.text import StatusLine, exact_duration, visible
from wa_tui.model.judgement import Finding, Severity

CALLBACK_FAILING = "CALLBACK_FAILING"
CALLBACK_QUEUE_HIGH = "CALLBACK_QUEUE_HIGH"
# What raising makes a probe due at once (wa_tui/watch/poller.py).
PROBE_AT_ONCE = (CALLBACK_FAILING, CALLBACK_QUEUE_HIGH)
# The findings the webhook screen and `wa-tui webhook` show: the webhook's own and the
# callbacks' (whose advice names what the probe and settings say).
WEBHOOK_CODES = (
    "WEBHOOK_NOT_SET",
    "WEBHOOK_NOT_HTTPS",
    "WEBHOOK_UNREACHABLE",
    "WEBHOOK_TLS_INVALID",
    "WEBHOOK_CERT_EXPIRING",
    "WEBHOOK_SLOW",
    "WEBHOOK_REJECTS",
    CALLBACK_FAILING,
    CALLBACK_QUEUE_HIGH,
)
FROM_HERE = "from this machine (the coreapps' path may differ)"


@dataclass(frozen=True)
class WebhookView:
    """What is known of where callbacks go, as of one poll: the application settings (or
    why there are none), whether the deployment holds a CA for its webhook, the last probe."""

    settings: ApplicationSettings | None = None
    note: Unread | None = None  # why there are no settings ("not available (HTTP 403)")
    ca_uploaded: bool | None = None  # None: not known (the CA was not asked yet)
    probe: WebhookProbe | None = None

    @property
    def webhook_url(self) -> str | None:
        return self.settings.webhook_url if self.settings else None

    def lines(self, now: datetime | None = None) -> list[StatusLine]:
        """The webhook as the `W` screen and `wa-tui webhook` say it, one line each."""
        failed = self.note.failed if self.webhook_url is None and self.note else None
        lines = [StatusLine(f"webhook      {_shown_url(self.webhook_url, self.note)}", failed)]
        if self.settings is not None:
            rows = self.settings.rows()[1:]
            lines += [StatusLine(f"{label:<12} {value}") for label, value in rows]
        ca = {
            True: "uploaded (trusted with the system's CAs)",
            False: "none uploaded: the system's CAs alone",
            None: "not known",
        }[self.ca_uploaded]
        lines.append(StatusLine(f"webhook CA   {ca}"))
        probe = self.probe
        if probe is None:
            lines.append(StatusLine("probe        none yet"))
            return lines
        age = f" ({exact_duration(((now or clock.now()) - probe.checked_at).total_seconds())} ago)"
        lines.append(
            StatusLine(f"probe        {probe.checked_at:%Y-%m-%d %H:%M:%S} UTC{age}, {WHERE}")
        )
        lines += [StatusLine(f"  {line.text}", line.ok) for line in probe.steps()]
        return lines

    def document(self) -> dict[str, object]:
        """The snapshot JSON's `settings` and `webhook`."""
        settings: object = self.settings.shown() if self.settings else None
        if settings is None and self.note:
            settings = {"unavailable": str(self.note)}
        return {
            "settings": settings,
            "webhook": self.probe.document() if self.probe else None,
        }


def _shown_url(url: str | None, note: Unread | None) -> str:
    if url is not None:
        return visible(mask_url(url), limit=120)
    return str(note) if note else "not set"


def _settings_findings(settings: ApplicationSettings) -> Iterator[Finding]:
    url = settings.webhook_url
    if url is None:
        yield Finding(
            Severity.WARNING,
            "WEBHOOK_NOT_SET",
            "no webhook URL in the application settings: callbacks (incoming messages, "
            "statuses) are delivered nowhere; set webhooks.url",
        )
    elif settings.webhook_scheme != "https":
        yield Finding(
            Severity.CRITICAL,
            "WEBHOOK_NOT_HTTPS",
            f"the webhook {visible(mask_url(url), limit=80)} is not https: the API requires "
            "HTTPS for callbacks; serve it over TLS and update webhooks.url",
        )


def _probe_findings(
    probe: WebhookProbe, raised: Sequence[Finding], thresholds: Thresholds
) -> Iterator[Finding]:
    failing = any(f.code == CALLBACK_FAILING for f in raised)
    if probe.failed_step in ("dns", "connect") or probe.reason == "timed out":
        yield Finding(
            Severity.CRITICAL if failing else Severity.WARNING,
            "WEBHOOK_UNREACHABLE",
            f"the webhook {probe.host} cannot be reached {FROM_HERE}: {probe.reason} "
            f"({probe.failed_step})",
        )
    elif probe.failed_step == "tls":
        cert = probe.certificate
        issuer = f"; issued by {cert.issuer}" if cert else ""
        yield Finding(
            Severity.CRITICAL,
            "WEBHOOK_TLS_INVALID",
            f"the webhook {probe.host}'s certificate is not valid: {probe.reason}{issuer}; "
            "renew it, or upload its CA (POST /v1/certificates/webhooks/ca)",
        )
    days = probe.days_left()
    if (
        probe.failed_step is None
        and days is not None
        and days < thresholds.webhook_cert_warning_days
    ):
        assert probe.certificate is not None
        yield Finding(
            Severity.WARNING,
            "WEBHOOK_CERT_EXPIRING",
            f"the webhook {probe.host}'s certificate expires in {days:.1f} days "
            f"({probe.certificate.not_after:%Y-%m-%d %H:%M} UTC): renew it",
        )
    yield from _answer_findings(probe)


def _answer_findings(probe: WebhookProbe) -> Iterator[Finding]:
    slow = []
    if probe.timings.get("tls", 0.0) > SLOW_SECONDS:
        slow.append(f"the TLS handshake took {probe.timings['tls']:.1f}s")
    post = probe.post
    if post is not None and post.status is None:
        yield Finding(
            Severity.CRITICAL,
            "WEBHOOK_REJECTS",
            f"the webhook {probe.host} gave no answer to the test POST ({post.error}): "
            "callbacks time out and are retried",
        )
    elif post is not None and post.status != 200:
        page = f" ({post.title})" if post.title else ""
        yield Finding(
            Severity.CRITICAL,
            "WEBHOOK_REJECTS",
            f"the webhook {probe.host} answered the test POST with HTTP {post.status}{page}: "
            "anything but 200 is retried and the callback queue grows",
        )
    if post is not None and post.seconds > SLOW_SECONDS and post.status is not None:
        slow.append(f"the test request's answer took {post.seconds:.1f}s")
    if slow:
        yield Finding(
            Severity.WARNING,
            "WEBHOOK_SLOW",
            f"the webhook {probe.host} is slow {FROM_HERE}: {' and '.join(slow)} "
            "(Meta's guideline: median under 250 ms, under 1% above 1 s)",
        )


def webhook_findings(
    settings: ApplicationSettings | None,
    probe: WebhookProbe | None,
    raised: Sequence[Finding],
    thresholds: Thresholds,
) -> list[Finding]:
    """The webhook's findings, given those `raised` already this poll; a probe of a URL
    the settings no longer name says nothing."""
    findings = list(_settings_findings(settings)) if settings is not None else []
    if probe is not None and (
        settings is None or probe.url == mask_url(settings.webhook_url or "")
    ):
        findings += _probe_findings(probe, raised, thresholds)
    return findings


def with_webhook_advice(
    findings: Sequence[Finding], settings: ApplicationSettings | None, probe: WebhookProbe | None
) -> list[Finding]:
    """The callback findings with what the settings and the probe say of them."""
    advised = []
    for finding in findings:
        if finding.code == CALLBACK_FAILING and probe is not None:
            finding = replace(
                finding,
                message=f"{finding.message}; the webhook probe {FROM_HERE}: {probe.outcome()}",
            )
        elif finding.code == CALLBACK_QUEUE_HIGH and settings is not None:
            concurrent = settings.max_concurrent_requests
            stated = f"max_concurrent_requests is {concurrent}"
            if concurrent is None:
                stated = (
                    f"max_concurrent_requests is unset (default {DEFAULT_MAX_CONCURRENT_REQUESTS})"
                )
            finding = replace(
                finding,
                message=f"{finding.message}; {stated} callbacks in flight per coreapp: "
                "a slow webhook with a low cap backs the queue up",
            )
        advised.append(finding)
    return advised
