"""Replaying a recording: the same results a live watcher had, poll by poll, driven by
the recorded answers instead of a deployment. Plain asyncio, no Textual.

A `ReplayWatcher` is a `Watcher` whose polls come from the recording: the dashboard
draws it as it draws a live one. Each position is read by a `Reader` exactly as the
poller read it live (findings, changes, vitals recomputed, not stored); going back
reads again from the start, so the state at any position is the state it had then.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wa_tui import clock
from wa_tui.analysis import ChangeKind
from wa_tui.auth import Credentials
from wa_tui.config import DeploymentSettings
from wa_tui.errors import WAError
from wa_tui.poller import EarlyPoll, Poller, PollResult, Reader
from wa_tui.recording import Recording, read_recording
from wa_tui.targets import Target
from wa_tui.watcher import Phase, Watcher

SPEEDS = (1, 2, 5, 10, 30, 60)
# Changes that make a position an event to jump to with { and }.
EVENT_KINDS = {
    ChangeKind.ROLE_CHANGED,
    ChangeKind.SHARD_MOVED,
    ChangeKind.NODE_APPEARED,
    ChangeKind.NODE_DISAPPEARED,
    ChangeKind.RESTARTED,
}


@dataclass(frozen=True)
class Event:
    """A position where something happened: a finding raised or cleared, a failover, a
    shard move."""

    index: int
    at: datetime
    what: str


class ReplayWatcher(Watcher):
    """A recording, played as a deployment. `position` is the poll on screen."""

    def __init__(self, recording: Recording, settings: DeploymentSettings) -> None:
        name = recording.meta.get("deployment", "recording")
        url = recording.meta.get("url", "")
        target = Target(f"{name} (replay)", url, Credentials(), settings, verify=True)
        super().__init__(target, poller=Poller(None, settings.interval))
        self.recording = recording
        self.settings = settings
        self.position = -1  # the poll on screen
        self.playing = False
        self.speed = 10
        self._reader_at = -1  # the last poll the poller's reader has read
        reader = self._fresh_reader()
        self._results = [self._read(i, reader) for i in range(len(recording.polls))]
        self.events = tuple(self._find_events())
        self._fresh_reader()

    @classmethod
    def open(cls, path: Path, settings: DeploymentSettings | None = None) -> ReplayWatcher:
        settings = settings or DeploymentSettings()
        recording = read_recording(path, settings.expected_shards)
        return cls(recording, settings)

    def _fresh_reader(self) -> Reader:
        self.poller.reader = Reader(self.settings.thresholds, self.settings.vitals_thresholds)
        self._reader_at = -1
        return self.poller.reader

    def __len__(self) -> int:
        return len(self.recording.polls)

    def _read(self, index: int, reader: Reader) -> PollResult:
        poll = self.recording.polls[index]
        if poll.answers is None:
            return PollResult(None, WAError(poll.error or "the poll failed", "as recorded"))
        try:
            return reader.read(poll.answers)
        except WAError as error:
            return PollResult(None, error)

    def _find_events(self) -> Iterator[Event]:
        codes: set[str] = set()
        for index, poll in enumerate(self.recording.polls):
            result = self._results[index]
            now = {f.code for f in result.findings}
            said = [f"raised {c}" for c in sorted(now - codes)]
            said += [f"cleared {c}" for c in sorted(codes - now)]
            said += [c.message for c in result.changes if c.kind in EVENT_KINDS]
            if result.snapshot is not None:
                codes = now
            if said and index > 0:
                yield Event(index, poll.at, "; ".join(said))

    # -- moving -------------------------------------------------------------------------

    def go(self, index: int) -> None:
        """Show poll `index` as it was seen then: its findings, its vitals and their
        history, the change log up to it."""
        index = max(0, min(index, len(self) - 1))
        if index == self.position or not len(self):
            return
        reader = self.poller.reader if index > self._reader_at else self._fresh_reader()
        result = self._results[index]
        for earlier in range(self._reader_at + 1, index + 1):
            result = self._read(earlier, reader)
        self._reader_at = self.position = index
        self._show(result)

    def _say(self) -> None:
        """What the status line says instead of the polling."""
        at = self.at
        when = f"{at.astimezone():%Y-%m-%d %H:%M:%S}" if at else "—"
        state = "▶ playing" if self.playing else "⏸ paused"
        self.status.replay = (
            f"{when} · poll {self.position + 1}/{len(self)} · {self.speed}x {state}"
        )

    def _show(self, result: PollResult) -> None:
        seen = self._results[: self.position + 1]
        # Newest poll first, each poll's changes in their order: as the live log has them.
        self.rewrite_changes(c for earlier in reversed(seen) for c in earlier.changes)
        self.status.error = str(result.error) if result.error else None
        self.last_answers = next(
            (p.answers for p in reversed(self.recording.polls[: self.position + 1]) if p.answers),
            None,
        )
        self._say()
        self._publish(Phase.POLLED, result)
        self._publish(Phase.WAITING)

    def step(self, by: int) -> None:
        self.go(self.position + by)

    def next_event(self, forward: bool) -> Event | None:
        """The event after (or before) the position, and go there."""
        chosen = next(
            (
                e
                for e in (self.events if forward else reversed(self.events))
                if (e.index > self.position if forward else e.index < self.position)
            ),
            None,
        )
        if chosen is not None:
            self.go(chosen.index)
        return chosen

    def go_to_time(self, moment: datetime) -> None:
        """The last poll at or before `moment` (the first, if all are after)."""
        polls = self.recording.polls
        index = max((i for i, p in enumerate(polls) if p.at <= moment), default=0)
        self.go(index)

    def faster(self, up: bool) -> None:
        position = SPEEDS.index(self.speed) + (1 if up else -1)
        self.speed = SPEEDS[max(0, min(position, len(SPEEDS) - 1))]
        self._say()
        self._publish(Phase.WAITING)

    def toggle_play(self) -> None:
        if self.position >= len(self) - 1:
            self.go(0)
        self.playing = not self.playing
        self._say()
        self.poll_now()

    @property
    def at(self) -> datetime | None:
        return self.recording.polls[self.position].at if self.position >= 0 else None

    # -- the loop: playing instead of polling -------------------------------------------

    async def run(self, early: Future[EarlyPoll] | None = None) -> None:
        """Show the first poll; then, while playing, each next one after the recorded
        gap divided by the speed."""
        if len(self):
            self.go(0)
        while True:
            if self.playing and self.position < len(self) - 1:
                gap = self._gap(self.position)
                self.status.next_poll_at = clock.monotonic() + gap
                if not await self._woken(gap):
                    self.step(1)
            else:
                self.playing = False
                self.status.next_poll_at = None
                self._say()
                self._publish(Phase.WAITING)
                await self._woken(None)

    def _gap(self, index: int) -> float:
        polls = self.recording.polls
        seconds = (polls[index + 1].received - polls[index].received) / self.speed
        return min(max(seconds, 0.05), 10.0)
