"""When a finding fires, by default: one table, the config's keys and values. The config
(wa_tui/config.py) takes its defaults from here and the analysis its thresholds' (findings,
vitals, forecasts), so a default is written once. And how many requests a deployment is
sent at once (the client's limit, wa_tui/api/in_flight.py). Plain Python, below them all:
reading it needs no pydantic, no asyncio, and makes no import circle."""

from __future__ import annotations

DEFAULTS: dict[str, float] = {
    # Findings of the shape (analysis/findings.py).
    "expiry_warning_days": 14,
    "disk_warning_gib": 5,
    "disk_critical_gib": 1,
    "webhook_cert_warning_days": 14,
    # Vitals (analysis/vitals.py).
    "callback_queue_warning": 5_000,
    "callback_queue_critical": 50_000,
    "callback_failing_percent": 5,
    "pending_messages_warning": 10_000,
    "db_errors_per_second": 0.1,
    "api_5xx_percent": 5,
    # Forecasts (analysis/forecast.py).
    "disk_forecast_warning_hours": 24,
    "disk_forecast_critical_hours": 1,
    "queue_forecast_warning_minutes": 30,
}

# Requests to one deployment at once, from the whole process (`max_in_flight`).
DEFAULT_MAX_IN_FLIGHT = 2
