"""Following a recorder: a recording read as it grows, drawn as a live deployment.

One recorder (`wa-tui record --dir`) polls each deployment once; every viewer attached
to its file (`--follow`, or `recorder =` in the config) reads what it wrote, read-only:
no credentials, no request to the deployment. A `FollowWatcher` is a `ReplayWatcher`
that looks at the file a few times an interval (SQLite's data version says at no cost
whether anything was written) and shows each new poll as it comes. From the first frame
it has the history a watcher of its own would have gathered: the vitals' 30 minutes, the
change log, the events, the whole file for `i`. Moving back in time is replay's; `live()`
comes back to the newest poll.

The recorder's heartbeat (written every interval, whatever the deployment answers) tells
"the recorder stopped" from "the deployment is unreachable": older than three of the
recorder's intervals (the one rule, wa_tui/core/freshness.py, which
`check` follows too), the viewer says the recorder stopped and keeps the last screen.
Plain asyncio, no Textual.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

from wa_tui.config import DeploymentSettings
from wa_tui.core.errors import RecordingError
from wa_tui.recording.first_frame import RECORDER_BADGE, first_frame, recorder_stopped
from wa_tui.recording.reader import Growth, RecordingFile
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.watch.poller import EarlyPoll
from wa_tui.watch.reader import PollResult
from wa_tui.watch.state import Capabilities, Following, Phase, Said, Tone

LOOKS_PER_INTERVAL = 5  # how soon a new poll shows: a fifth of an interval at most
LONGEST_LOOK = 1.0  # seconds; and the recorder's stopping is seen within a second


class FollowWatcher(ReplayWatcher):
    """A recorder's recording, followed as it grows. See the module's docstring."""

    can = Capabilities(polls=False, sends=False, seeks=True, follows=True, writes=False)

    def __init__(
        self, recording: RecordingFile, settings: DeploymentSettings, rejudge: bool = False
    ) -> None:
        if not recording.indexed:
            raise RecordingError(
                f"{recording.path}: written by an older wa-tui recorder; "
                "open it with `wa-tui replay`"
            )
        super().__init__(recording, settings, rejudge=rejudge)
        interval = recording.interval or settings.interval
        name = recording.meta.get("deployment") or recording.path.stem
        self.target = replace(self.target, name=name)
        self.poller.interval = interval
        self.following = Following(interval)
        self.unreadable: str | None = None  # why the file cannot be read now
        self._ahead: Future[tuple[int, PollResult]] | None = None  # read_ahead()
        # read_ahead(): the newest poll as the recorder stored it, shown before it is read
        self._first: tuple[int, PollResult] | None = None

    @classmethod
    def attach(
        cls, path: Path, settings: DeploymentSettings | None = None, rejudge: bool = False
    ) -> FollowWatcher:
        """The recording at `path`, opened read-only (RecordingError: why not)."""
        settings = settings or DeploymentSettings()
        return cls(RecordingFile(path, settings.expected_shards), settings, rejudge)

    @property
    def shows_now(self) -> bool:
        return self.following.live

    # -- the loop: looking at the file instead of polling ---------------------------------

    def read_ahead(self) -> None:
        """The newest poll made ready for the first frame, before the UI is even
        imported: as the recorder stored it for one (a few milliseconds: nothing parsed
        or judged again; its history is read once it is drawn), or, from an older
        recorder's file, read whole with its history in a thread of its own."""
        if not len(self):
            return
        newest = len(self) - 1
        frame = None if self.rejudge else first_frame(self.recording.path)
        if frame is not None:  # what it shows until run() has read the poll whole
            shown = self.poller.reader.shown(frame.snapshot, frame.findings, frame.summary)
            self._first = (newest, shown)
            self.judge_recorder()
            self._say()  # drawn from now on: what it says of the recorder, as run() will
            return
        future = Future[tuple[int, PollResult]]()

        def read() -> None:
            try:
                future.set_result((newest, self._read_to(newest)))
            except BaseException as exc:  # handed to run(), which waits on it
                future.set_exception(exc)

        self._ahead = future
        threading.Thread(target=read, name=f"reading {self.name}", daemon=True).start()

    async def run(self, early: Future[EarlyPoll] | None = None) -> None:
        """The newest poll, with its history; then each new one as the recorder writes it."""
        self.judge_recorder()
        if self._first is not None:  # drawn first; then read with its history
            newest, stored = self._first
            self._first = None
            self._show(newest, stored)
            self._show(newest, await asyncio.to_thread(self._read_to, newest))
        elif self._ahead is not None:
            self._show(*await asyncio.wrap_future(self._ahead))
            self._ahead = None
        elif len(self):
            await self.seek(len(self) - 1)
        look_every = min(self.following.interval / LOOKS_PER_INTERVAL, LONGEST_LOOK)
        while True:
            await self._woken(look_every)
            await self.look()

    async def look(self) -> None:
        """What the recorder wrote since the last look, and whether it is still alive."""
        before = self._state()
        async with self._seeking:  # a seek reads the same connection and columns
            try:
                growth = await asyncio.to_thread(self._grow)
                self.unreadable = None
            except RecordingError as error:
                growth, self.unreadable = Growth(0, 0), str(error)
        if growth.dropped:
            self._pruned(growth.dropped)
        self.judge_recorder()
        if self.following.live and not self.following.held and self.aim < len(self) - 1:
            await self.seek(len(self) - 1)  # says what it shows
        elif self._state() != before:
            self._say()
            self._publish(Phase.WAITING)

    def _grow(self) -> Growth:
        growth = self.recording.grow()
        if growth.added or growth.dropped:
            self.events = self._events_of(self.recording.events())
        return growth

    def _pruned(self, dropped: int) -> None:
        """The recorder dropped the oldest polls: the positions move down with them."""
        self.position = max(self.position - dropped, -1)
        self._reader_at = -1  # read afresh next time: its streams started at a dropped poll
        if self.heading is not None:
            self.heading = max(self.heading - dropped, 0)
        if self.position < 0 and len(self) and not self.following.live:
            self.following.live = True  # what was on screen is gone: the newest instead

    def judge_recorder(self) -> str | None:
        """Whether the recorder is alive, from its heartbeat: None, or why it is taken to
        have stopped (the status line says it)."""
        following, recording = self.following, self.recording
        following.last_poll_at = recording.ats[-1] if len(recording) else None
        heartbeat = recording.heartbeat or following.last_poll_at
        following.stopped = self.unreadable or recorder_stopped(heartbeat, following.interval)
        return following.stopped

    def _state(self) -> tuple[object, ...]:
        following = self.following
        return (len(self), self.position, following.live, following.held, following.stopped)

    # -- what the viewer asks --------------------------------------------------------------

    def live(self) -> None:
        """Back to the newest poll, and each next one as it comes."""
        self.following.live = True
        self.heading = None
        self.poll_now()  # the loop looks now, and goes there

    def leave_live(self) -> None:
        """A key moved back into the recording: it stays where it is taken."""
        self.following.live = False

    def pause(self, paused: bool) -> None:
        """`p` holds the view only: the recorder goes on, and so does the heartbeat's
        watch; resuming shows the newest poll."""
        self.following.held = paused
        self.status.paused = paused
        self._say()
        self._publish(Phase.WAITING)
        if not paused:
            self.poll_now()

    def refresh(self) -> None:
        """Nothing to ask: the recorder polls (the viewer looks at the file now)."""
        self.poll_now()

    def _say(self) -> None:
        following = self.following
        self.status.error = following.stopped or self.poll_error
        self.where_said = f"{self._where()} · space: back to live"

    def said(self) -> Said:
        """Back in the recording, a replay's; live, whose polls these are and, once late,
        how old the newest is (counted every second); why the recorder is taken to have
        stopped comes before it."""
        following = self.following
        if not following.live:
            return super().said()
        if following.held:
            held = "  ⏸ view paused: the recorder goes on (p resumes)"
            return Said(RECORDER_BADGE, "recorder", ((held, "held"),), error_first=True)
        doing: list[tuple[str, Tone]] = [("  following the recorder", "recorder")]
        age = following.freshness()
        if age is not None and age.late:
            doing.append((f" · last poll {age.age_text} ago", "late"))
        return Said(RECORDER_BADGE, "recorder", tuple(doing), error_first=True)

    @property
    def ticking(self) -> bool:
        """Live and late, the newest poll's age is counted every second."""
        following = self.following
        return super().ticking or (following.live and not following.held and following.late)
