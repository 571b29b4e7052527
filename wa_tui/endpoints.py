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
