"""Helpers every layer uses: the clock, safe text, secrets, errors, memory, private files."""
