"""Talking to a deployment: the client, its transports and logins, the answers and
the models they decode into, the stats, the settings, the webhook probe, a node's logs."""
