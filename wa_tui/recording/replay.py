"""Replaying a recording: the same results a live watcher had, poll by poll, driven by
the recorded answers instead of a deployment. Plain asyncio, no Textual.

A `ReplayWatcher` is a `Watcher` whose polls come from the recording: the dashboard
draws it as it draws a live one. Each position is read by a `Reader` exactly as the
poller read it live. Playing on reads each next poll; moving anywhere else reads the poll
before it and the poll itself, with the vitals' last 30 minutes, the change log and the
settings restored from what the recorder wrote of the polls before (`derived`): a day of
polls opens, and moves, without reading every answer again. A recording without those
(format 1) is read whole when it opens, the slow way, and replays the same.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import statistics
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from wa_tui.analysis.accounting import Account, Accountant
from wa_tui.analysis.events import event_of
from wa_tui.analysis.vitals import HISTORY_SECONDS
from wa_tui.api.auth import Credentials
from wa_tui.api.endpoints import DB_STATS
from wa_tui.config import DeploymentSettings
from wa_tui.core import clock
from wa_tui.core.errors import RecordingError, WAError
from wa_tui.recording.format import SIDE_PATHS, Derived, derived_document, derived_of
from wa_tui.recording.reader import RecordedPoll, RecordingFile
from wa_tui.watch.poller import EarlyPoll, Poller
from wa_tui.watch.reader import PollResult, Reader
from wa_tui.watch.state import Capabilities, Phase, Said
from wa_tui.watch.targets import Target
from wa_tui.watch.watcher import CHANGES_KEPT, Watcher

SPEEDS = (1, 2, 5, 10, 30, 60)
REJUDGED = "re-judged with this config (--rejudge)"
REPLAY_BADGE = "⏵ REPLAY"
ACCOUNT_CHUNK = 2_000  # polls' derived rows read at a time: memory stays flat over a day
# Polls whose stats warm the counters up before a poll reached by a jump: a node's rate
# needs its own previous counters, and a node missing from the poll before (restarting,
# gone a while) had them in an earlier one (one poll of warm-up left such a node out of
# the callback rate, measured). Their stats alone are read, and few: a follower's first
# frame starts with a jump (each costs ~13 ms at 36 nodes: benchmarks/README Session 13).
WARM_UP_POLLS = 5
Progress = Callable[[int, int], object]  # polls read, of how many


@dataclass(frozen=True)
class Event:
    """A position where something happened: a finding raised or cleared, a failover, a
    shard move."""

    index: int
    at: datetime
    what: str


class ReplayWatcher(Watcher):
    """A recording, played as a deployment. `position` is the poll on screen."""

    can = Capabilities(polls=False, sends=False, seeks=True, writes=False)

    def __init__(
        self,
        recording: RecordingFile,
        settings: DeploymentSettings,
        progress: Progress | None = None,
        rejudge: bool = False,
    ) -> None:
        name = recording.meta.get("deployment", "recording")
        url = recording.meta.get("url", "")
        target = Target(f"{name} (replay)", url, Credentials(), settings, verify=True)
        super().__init__(target, poller=Poller(None, settings.interval))
        self.recording = recording
        self.recorded_in = recording.path
        self.settings = settings
        self.position = -1  # the poll on screen
        self.playing = False
        self.speed = 10
        self._reader_at = -1  # the last poll the poller's reader has read
        self.heading: int | None = None  # the poll the newest seek asked for, until shown
        self._from_start = False  # play from the first poll (play pressed at the end)
        self._seeking = asyncio.Lock()  # one seek reads at a time
        # A recording without `derived` rows (format 1): derived here, once, in memory.
        self._derived: list[Derived | None] | None = None
        self.poll_error: str | None = None  # why the poll on screen failed, as recorded
        # Judged again with `settings`' thresholds, not shown as the recorder judged.
        self.rejudge = rejudge
        self.where_said = ""  # where in the recording, as the status line says it
        events = recording.events()
        if not recording.indexed:
            events = self._derive_all(progress)
        self.events = self._events_of(events)

    def _events_of(self, events: list[tuple[int, str]]) -> tuple[Event, ...]:
        ats = self.recording.ats
        return tuple(Event(i, ats[i], what) for i, what in events if 0 < i < len(ats))

    @classmethod
    def open(
        cls,
        path: Path,
        settings: DeploymentSettings | None = None,
        progress: Progress | None = None,
        rejudge: bool = False,
    ) -> ReplayWatcher:
        settings = settings or DeploymentSettings()
        return cls(RecordingFile(path, settings.expected_shards), settings, progress, rejudge)

    async def poll(self, early: Future[EarlyPoll] | None = None) -> PollResult:
        """A recording is not polled: the poll on screen, read again from it."""
        return await asyncio.to_thread(self._read_to, max(self.position, 0))

    def _fresh_reader(self) -> Reader:
        self.poller.reader = self._new_reader()
        self._reader_at = -1
        return self.poller.reader

    def _new_reader(self) -> Reader:
        settings = self.settings
        return Reader(settings.thresholds, settings.vitals_thresholds, settings.forecast_thresholds)

    def __len__(self) -> int:
        """The polls that can be shown (a damaged poll ends a format-1 recording)."""
        return len(self._derived) if self._derived is not None else len(self.recording)

    def _read_poll(
        self, index: int, reader: Reader, remember: bool = True, judge: bool = True
    ) -> PollResult:
        try:
            poll = self.recording.poll(index)
        except RecordingError as error:
            return PollResult(None, WAError(str(error), "the recording is damaged here"))
        if poll.answers is None:
            return PollResult(None, WAError(poll.error or "the poll failed", "as recorded"))
        try:
            return reader.read(poll.answers, remember, judge)
        except WAError as error:
            return PollResult(None, error)

    def _derive_all(self, progress: Progress | None) -> list[tuple[int, str]]:
        """Read a recording that has no `derived` rows whole: what each poll made, and
        its events, as the recorder would have written them. A damaged poll ends it."""
        reader, codes, events = self._fresh_reader(), frozenset[str](), []
        derived: list[Derived | None] = []
        for index in range(len(self.recording)):
            result = self._read_poll(index, reader)
            if result.snapshot is None and "damaged" in str(result.error):
                self.recording.stopped = f"{result.error}: replaying the {index} polls before it"
                break
            good = result.snapshot is not None
            derived.append(derived_of(derived_document(result)) if good else None)
            now = frozenset(f.code for f in result.findings) if good else frozenset()
            what = event_of(codes, now, result.changes)
            codes = now if good else codes
            if what:
                events.append((index, what))
            if progress is not None and index % 200 == 0:
                progress(index, len(self.recording))
        self._derived = derived
        self._fresh_reader()
        return events

    def derived(self, start: int, stop: int, changed: bool = False) -> dict[int, Derived]:
        """What the recorder made of polls `start` to `stop - 1`, by index."""
        if self._derived is None:
            return self.recording.derived_between(start, stop, changed)
        return {
            i: d
            for i in range(max(start, 0), min(stop, len(self._derived)))
            if (d := self._derived[i]) is not None and (d.changes or not changed)
        }

    def keep_account(self) -> None:
        """Nothing is kept while a replay plays: its account is read from the recording."""

    def account(self, since: datetime | None = None, until: datetime | None = None) -> Account:
        """The recording's polls from `since` to `until` (both included), accounted from
        what was derived of each."""
        recording = self.recording
        times = recording.times[: len(self)]
        start = bisect.bisect_left(times, since.timestamp()) if since else 0
        stop = bisect.bisect_right(times, until.timestamp()) if until else len(times)
        accountant = Accountant(_usual_spacing(times))
        failures = recording.failures()
        for first in range(start, stop, ACCOUNT_CHUNK):
            last = min(first + ACCOUNT_CHUNK, stop)
            derived = self.derived(first, last)
            for index in range(first, last):
                at = recording.ats[index]
                if (made := derived.get(index)) is not None:
                    accountant.good(made.facts(at))
                else:
                    accountant.failed(at, failures.get(index, "the poll could not be read"))
        return accountant.account

    # -- moving -------------------------------------------------------------------------

    def go(self, index: int) -> None:
        """Show poll `index` as it was seen then: its findings, its vitals and their
        history, the change log up to it. Read here and now (the commands, the tests);
        the dashboard seeks (`seek`)."""
        if (target := self._target(index)) is not None:
            self._show(target, self._read_to(target))

    def read_last(self) -> PollResult:
        """The last recorded poll, read as the watcher then read it (`check` and
        `snapshot` from a recording); the screen's position is not moved."""
        return self._read_to(len(self) - 1)

    async def seek(self, index: int) -> None:
        """`go`, the reading in a thread: a seek reads SQLite, decompresses and validates
        (a key press's time, or seconds far into a day). While one reads, the newest seek
        asked wins: those asked between are never read, an older one never shown."""
        self.heading = index
        async with self._seeking:
            if self.heading != index or (target := self._target(index)) is None:
                if self.heading == index:
                    self.heading = None  # there already: nothing to read
                return
            result = await asyncio.to_thread(self._read_to, target)
        if self.heading == index:
            self.heading = None
            self._show(target, result)

    @property
    def aim(self) -> int:
        """Where moving starts from: the poll the newest seek heads for, or the one on
        screen (keys in a burst move on from each other, not from the screen)."""
        return self.position if self.heading is None else self.heading

    def _target(self, index: int) -> int | None:
        index = max(0, min(index, len(self) - 1))
        return None if index == self.position or not len(self) else index

    def _read_to(self, index: int) -> PollResult:
        """Poll `index` read: the next one after the reader's, or from a fresh reader;
        judged as the recorder judged it with its thresholds, where it stored that (the
        answers are read here for what does not depend on a threshold: the snapshot, the
        vitals), unless asked to judge again; whose judgement it is goes on screen."""
        # The recorder's whole judgement shown: nothing is judged again to be thrown away
        # (the forecasts' fits alone were a quarter of a follower's reading).
        stored, why = self._stored_judgement(index)
        judge = stored is None or not stored.judgement.whole
        if index == self._reader_at + 1:
            result = self._read_poll(index, self.poller.reader, judge=judge)  # playing on
        else:
            result = self._seek(index, judge)
        self._reader_at = index
        if result.snapshot is None:
            return result
        self.status.judged = why
        return self.poller.reader.judged(result, stored.judgement) if stored else result

    def _stored_judgement(self, index: int) -> tuple[Derived | None, str | None]:
        """The recorder's judgement of poll `index`, and what the screen says when what
        it shows is not (all of) the recorder's judgement."""
        if self.rejudge:
            return None, REJUDGED
        try:
            stored = self.recording.derived(index)
        except RecordingError:
            return None, "judged at reading: the recorder's judgement of this poll is unreadable"
        if stored is None:
            return None, "judged at reading: recorded before judgements were kept"
        if not stored.judgement.whole:
            return stored, "forecasts judged at reading: an older recording"
        return stored, None

    def _seek(self, index: int, judge: bool = True) -> PollResult:
        """Poll `index` as playing up to it showed it: read from the last poll before it
        that carried the database's stats (their gauges and counters carry over the polls
        between), after the stats of the WARM_UP_POLLS before it and the whole poll just
        before it have warmed the counters up; what the reader kept of the polls before
        that (the vitals' last 30 minutes, the settings, the webhook's CA and probe)
        restored from what the recorder wrote."""
        # Made apart and put in place once read: meanwhile the screen (which asks the
        # watcher's reader) keeps what it shows, not an empty poll.
        reader = self._new_reader()
        start = self._last_with(DB_STATS, index) if index else None
        horizon = self.recording.ats[index].timestamp() - HISTORY_SECONDS
        if start is None or self.recording.ats[start].timestamp() < horizon:
            start = max(index - 1, 0)
        self._restore(reader, start - 1)
        for earlier in range(max(start - WARM_UP_POLLS, 0), start - 1):
            poll = self._poll_or_none(earlier)
            if poll is not None and poll.answers is not None:
                reader.warm_up(poll.answers)
        if start > 0:  # the poll before, whole: what the first one read is compared with
            self._read_poll(start - 1, reader, remember=False)
        for earlier in range(start, index):
            self._read_poll(earlier, reader, judge=judge)
        result = self._read_poll(index, reader, judge=judge)
        self.poller.reader = reader
        return result

    def _restore(self, reader: Reader, last: int) -> None:
        """The vitals' history up to poll `last` (of the 30 minutes before it), and the
        last settings, webhook CA and probe a poll up to it carried."""
        if last < 0:
            return
        ats, times = self.recording.ats, self.recording.times
        first = bisect.bisect_left(times, times[last] - HISTORY_SECONDS, 0, last)
        for index, derived in sorted(self.derived(first, last + 1).items()):
            if derived.vitals is not None:
                reader.vitals.remember(ats[index], derived.vitals)
        for path in SIDE_PATHS:
            carrier = self._last_with(path, last + 1)
            if carrier is None:
                continue
            poll = self._poll_or_none(carrier)
            if poll is not None and poll.answers is not None and path in poll.answers.stats:
                reader.read_webhook({path: poll.answers.stats[path]})

    def _last_with(self, path: str, before: int) -> int | None:
        if self._derived is None:
            return self.recording.last_with(path, before)
        return next(
            (i for i in range(before - 1, -1, -1) if (d := self._derived[i]) and path in d.side),
            None,
        )

    def _poll_or_none(self, index: int) -> RecordedPoll | None:
        try:
            return self.recording.poll(index)
        except RecordingError:
            return None

    def _changes_up_to(self, index: int) -> list:
        """The change log as a live watcher had it at poll `index`: newest first."""
        if self._derived is None:
            return self.recording.changed_before(index + 1, CHANGES_KEPT)
        changes = []
        for i in range(index, -1, -1):
            derived = self._derived[i]
            if derived is not None:
                changes += derived.changes
            if len(changes) >= CHANGES_KEPT:
                break
        return changes[:CHANGES_KEPT]

    def _say(self) -> None:
        """What the status line says instead of the polling."""
        self.status.error = self.poll_error
        state = "▶ playing" if self.playing else "⏸ paused"
        self.where_said = f"{self._where()} · {self.speed}x {state}"

    def said(self) -> Said:
        """Never to be taken for a live deployment: a badge, and where in the recording."""
        return Said(REPLAY_BADGE, "replay", ((f"  {self.where_said}", "replay"),))

    def _where(self) -> str:
        """The poll on screen: its time, and which of how many."""
        at = self.at
        when = f"{at.astimezone():%Y-%m-%d %H:%M:%S}" if at else "—"
        return f"{when} · poll {self.position + 1}/{len(self)}"

    def _show(self, index: int, result: PollResult) -> None:
        if index == self.position + 1 and self.position >= 0:  # playing on: as a live log
            self.changes.extendleft(reversed(result.changes))
            self.changes_seen += len(result.changes)
        else:
            self.rewrite_changes(self._changes_up_to(index))
        self.position = index
        self.poll_error = str(result.error) if result.error else None
        if result.answers is not None:
            self.last_answers = result.answers
        self._say()
        self._publish(Phase.POLLED, result)
        self._publish(Phase.WAITING)

    def event_from(self, index: int, forward: bool) -> Event | None:
        """The first event after (or the last before) poll `index`."""
        return next(
            (
                e
                for e in (self.events if forward else reversed(self.events))
                if (e.index > index if forward else e.index < index)
            ),
            None,
        )

    def index_at(self, moment: datetime) -> int:
        """The last poll at or before `moment` (the first, if all are after)."""
        return max(bisect.bisect_right(self.recording.ats, moment) - 1, 0)

    def faster(self, up: bool) -> None:
        position = SPEEDS.index(self.speed) + (1 if up else -1)
        self.speed = SPEEDS[max(0, min(position, len(SPEEDS) - 1))]
        self._say()
        self._publish(Phase.WAITING)

    def toggle_play(self) -> None:
        """Play or pause; at the end, playing starts again from the first poll."""
        self._from_start = self.aim >= len(self) - 1  # the loop, woken, goes there first
        self.playing = not self.playing
        self._say()
        self.poll_now()

    @property
    def shows_now(self) -> bool:
        return False

    @property
    def at(self) -> datetime | None:
        return self.recording.ats[self.position] if self.position >= 0 else None

    # -- the loop: playing instead of polling -------------------------------------------

    async def run(self, early: Future[EarlyPoll] | None = None) -> None:
        """Show the first poll; then, while playing, each next one after the recorded
        gap divided by the speed."""
        if len(self):
            await self.seek(0)
        while True:
            if self.playing and self._from_start:
                self._from_start = False
                await self.seek(0)
            if self.playing and self.aim < len(self) - 1:
                gap = self._gap(self.aim)
                self.status.next_poll_at = clock.monotonic() + gap
                if not await self._woken(gap):
                    await self.seek(self.aim + 1)
            else:
                self.playing = False
                self.status.next_poll_at = None
                self._say()
                self._publish(Phase.WAITING)
                await self._woken(None)

    def _gap(self, index: int) -> float:
        received = self.recording.received
        seconds = (received[index + 1] - received[index]) / self.speed
        return min(max(seconds, 0.05), 10.0)


MOMENT_EXAMPLES = "14:05, 14:05:30 or 2026-11-26T14:05"


def parse_moment(value: str, day: datetime) -> datetime | None:
    """A moment as a person types it: a date and time (ISO 8601), or a time of day on
    `day`; without a zone, `day`'s. None when it is neither."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            clock_time = time.fromisoformat(value)
        except ValueError:
            return None
        moment = datetime.combine(day.date(), clock_time, day.tzinfo)
    return moment if moment.tzinfo else moment.replace(tzinfo=day.tzinfo)


def _usual_spacing(times: list[float]) -> float:
    """A recording's poll interval: the median spacing of its first polls."""
    steps = [b - a for a, b in itertools.pairwise(times[:2001]) if b > a]
    return statistics.median(steps) if steps else 1.0
