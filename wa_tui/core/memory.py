"""Every use of Python's cyclic garbage collector in wa-tui, and why.

wa-tui's objects rarely form cycles: reference counting frees almost everything. What
the cyclic collector costs instead is walking long-lived objects again and again:

- Start-up makes ~80,000 objects that live as long as the process (Textual, pydantic,
  our models); collections while they are made walk them repeatedly. So the collector
  is off while wa-tui starts (`starting`), and on again when the dashboard has read
  every deployment once (`settle`), when a long-running command (the simulator, the recorder, the
  exporter) begins its work, or when a one-shot command ends (`resume`).
- A decoded answer (~100,000 objects on 1,000 nodes) lives only while it is read, but a
  collection during the read promotes it to the oldest generation, and that brings a
  full collection (with the GIL held, the UI frozen) every few refreshes. So no cyclic
  collection runs while an answer is read (`paused`).
- Once every deployment has been read once, what exists then mostly lives as long as
  the app: `settle` moves it out of the collector's sight, so full collections walk
  only what came later (with a fleet, a small part of what exists; a full collection
  of everything freezes the screen).

The figures behind each of these are in benchmarks/README.md.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def starting() -> None:
    """wa-tui is starting: no cyclic collection until `settle` or `resume`."""
    gc.disable()


def resume() -> None:
    """Collect as usual again (no data to settle, or a command that runs for hours)."""
    gc.enable()


def settle() -> None:
    """Every deployment has been read once: collect what is garbage now, hide what lives
    on from the collector, and collect as usual from here."""
    gc.collect()
    gc.freeze()
    gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside (an answer being read); as it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
