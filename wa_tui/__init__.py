"""wa-tui: a terminal dashboard for WhatsApp Business API (on-premises) deployments."""

__version__ = "0.1.0"
