"""The flight recording: its SQLite store, replay, and the hand-over bundle."""
