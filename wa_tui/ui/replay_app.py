"""`wa-tui replay FILE`: the dashboard, driven by a recording instead of a deployment.

The screen is the live one; the status line says REPLAY and the recorded time, and a
timeline under the panes shows where we are and where the events are. Keys: `space`
play/pause, `[` / `]` one poll back/forward, `{` / `}` the previous/next event, `t` jump
to a time, `+` / `-` the speed (1x to 60x).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from wa_tui.core.text import visible
from wa_tui.keys import JUMP, REPLAY
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.bindings import bindings
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.redraw import Block
from wa_tui.watch.state import Phase, Update

if TYPE_CHECKING:
    from wa_tui.recording.first_frame import FirstFrame
    from wa_tui.recording.replay import ReplayWatcher
    from wa_tui.watch.targets import Target
    from wa_tui.watch.watcher import Watcher

REPLAY_KEYS = (
    "space play/pause · [ ] one poll · { } previous/next event · t jump to a time · + - speed"
)
FOLLOWING_KEYS = "space live · [ ] one poll · { } previous/next event · t jump to a time"


def render_timeline(watcher: ReplayWatcher, width: int) -> Text:
    """`├──▲────●───▲──┤` — the recording from end to end: `▲` its events, `●` here."""
    width = max(width - 2, 10)
    count = max(len(watcher) - 1, 1)
    cells = ["─"] * width
    for event in watcher.events:
        cells[round(event.index / count * (width - 1))] = "▲"
    here = round(max(watcher.position, 0) / count * (width - 1))
    line = Text("├", style="dim")
    for column, cell in enumerate(cells):
        if column == here:
            line.append("●", style="bold magenta")
        else:
            line.append(cell, style="yellow" if cell == "▲" else "dim")
    line.append("┤", style="dim")
    return line


def _event_line(watcher: ReplayWatcher) -> Text:
    """The event at the position, if any; else the keys."""
    here = next((e for e in watcher.events if e.index == watcher.position), None)
    if here is not None:
        return Text(f"▲ {here.at.astimezone():%H:%M:%S} {visible(here.what, limit=200)}", "yellow")
    if watcher.can.follows:
        return Text(FOLLOWING_KEYS, style="dim")
    return Text(REPLAY_KEYS, style="dim")


def recording_of(watcher: Watcher) -> ReplayWatcher | None:
    """The recording a source that moves in time reads (None: it polls)."""
    return cast("ReplayWatcher", watcher) if watcher.can.seeks else None


class Timeline(Block):
    def show(self, watcher: ReplayWatcher) -> None:
        self.update(
            Text.assemble(render_timeline(watcher, self.size.width), "\n", _event_line(watcher)),
            layout=False,
        )


class JumpScreen(DismissOnce, ModalScreen[datetime | None]):
    """`t`: a time of the recording's day (`14:05`, `14:05:30`) or a full ISO time."""

    BINDINGS = bindings(JUMP)

    def __init__(self, day: datetime) -> None:
        super().__init__()
        self.day = day

    def compose(self) -> ComposeResult:
        with Vertical(id="jump"):
            yield Block(Text("Jump to a time", style="bold"))
            yield Input(placeholder=f"{self.day:%H:%M:%S} or {self.day:%Y-%m-%dT%H:%M}")
            yield Block(id="jump-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from wa_tui.recording.replay import MOMENT_EXAMPLES, parse_moment

        moment = parse_moment(event.value, self.day)
        if moment is None:
            message = Text(f"not a time: try {MOMENT_EXAMPLES}", style="red")
            self.query_one("#jump-error", Static).update(message)
            return
        self.dismiss_once(moment)


# The keys that move in a recording: they have nothing to do on a deployment polled here.
MOVING_ACTIONS = frozenset({"play", "step", "event", "jump", "speed", "live"})


class ReplayApp(WaTuiApp):
    APP_GROUPS = (("Replay", REPLAY), *WaTuiApp.APP_GROUPS)  # the dashboard's work too
    BINDINGS = bindings(REPLAY)
    # Nothing to poll, pause or switch to in a recording.
    NOTHING_TO_DO: frozenset[str] = frozenset({"refresh", "toggle_pause", "switch"})

    def __init__(
        self,
        *sources: ReplayWatcher | Target,
        keymap: Mapping[str, str] | None = None,
        notes: Sequence[str] = (),
        first: FirstFrame | None = None,
    ) -> None:
        self._timeline = Timeline(id="timeline")  # under the panes, from the start
        super().__init__(sources, keymap=keymap, notes=notes, first=first)

    @property
    def replay(self) -> ReplayWatcher:
        """The recording on screen."""
        return cast("ReplayWatcher", self.watcher)

    def _below_panes(self) -> tuple[Widget, ...]:
        return (self._timeline,)

    def _watch(self, watcher: Watcher) -> None:
        watcher.subscribe(self._on_replay_update, name="the timeline")
        super()._watch(watcher)

    def panes_ready(self) -> None:
        super().panes_ready()
        for watcher in self.watchers.values():
            recorded = recording_of(watcher)
            if recorded is not None and recorded.recording.stopped:
                self.notify(visible(recorded.recording.stopped), severity="warning", timeout=15)

    def _on_replay_update(self, update: Update) -> None:
        if update.phase is Phase.WAITING and update.watcher is self.watcher:
            self._draw_timeline()

    def watch_current(self) -> None:
        super().watch_current()
        self._draw_timeline()

    def _draw_timeline(self) -> None:
        if self.quitting:
            return
        watcher = self.watchers.get(self.current)  # none yet: a follower's first frame
        recorded = recording_of(watcher) if watcher is not None else None
        if recorded is not None:
            self._timeline.show(recorded)
        else:  # a deployment polled here, beside the recorded ones
            self._timeline.update("")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not self.acting:  # starting, quitting, or nothing to act on yet
            return allowed
        recorded = self.watcher.can.seeks
        if action in MOVING_ACTIONS:
            return recorded
        return not (recorded and action in self.NOTHING_TO_DO)

    def action_play(self) -> None:
        self.replay.toggle_play()

    def action_step(self, by: int) -> None:
        self.replay.playing = False
        self._seek(self.replay.aim + by)

    def action_event(self, forward: bool) -> None:
        self.replay.playing = False
        event = self.replay.event_from(self.replay.aim, forward)
        if event is None:
            self.notify("no event " + ("after" if forward else "before") + " this poll")
        else:
            self._seek(event.index)

    def _seek(self, index: int) -> None:
        """Read in a worker: the keys keep coming meanwhile, the newest seek wins. Where
        it heads is known at once, so the next key of a burst moves on from there."""
        self.replay.heading = index
        self.run_worker(partial(self.replay.seek, index), group="seek", exit_on_error=False)

    def action_speed(self, up: bool) -> None:
        self.replay.faster(up)

    def action_jump(self) -> None:
        day = self.replay.at or self.replay.recording.ats[0]
        self.push_screen(JumpScreen(day.astimezone()), self._jump_to)

    def _account_closed(self, moment: datetime | None) -> None:
        self._jump_to(moment)

    def _jump_to(self, moment: datetime | None) -> None:
        if moment is not None:
            self.replay.playing = False
            self._seek(self.replay.index_at(moment))
