"""What wa-tui prints or serves besides the dashboard: `snapshot`/`check`, the
incident report, the Prometheus exporter, the fleet's rows."""
