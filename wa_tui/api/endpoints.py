"""The admin API's paths wa-tui reads (docs: README "What the screen shows"), each spelled
once. Plain Python, imported by the client, the readers of answers and the recorder."""

from __future__ import annotations

LOGIN = "/v1/users/login"
SUPPORT = "/v1/support"
HEALTH = "/v1/health"
# Read beside support and health when the build serves them ("Stats and metrics").
APP_STATS = "/v1/stats/app"
DB_STATS = "/v1/stats/db"
METRICS = "/metrics"
STATS = (APP_STATS, DB_STATS, METRICS)
# Read every settings_interval and on refresh, with the admin's token only (the API key
# cannot read them): "Settings and the webhook" in README.
SETTINGS = "/v1/settings/application"
WEBHOOK_CA = "/v1/certificates/webhooks/ca"  # PEM; 404: none uploaded
ADMIN_ONLY = (SUPPORT, SETTINGS, WEBHOOK_CA)
# Not a path: where a poll's answers carry the webhook probe made since the last poll
# (wa_tui/api/webhook_probe.py), so a recording replays it with them.
WEBHOOK_PROBE = "wa-tui:webhook-probe"
