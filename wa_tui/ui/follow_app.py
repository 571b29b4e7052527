"""`wa-tui --follow`, or a deployment whose recorder is configured: the dashboard of what
a recorder polled (wa_tui/recording/follow.py), live, with its history from the first
frame. The keys of replay move back into the recording; `space` (the key `follow.live`)
comes back to live. A followed deployment is asked nothing: `r` says so, `p` holds the
view only, `x` says secrets are never recorded, `W` shows the recorded settings and
probe, `b` bundles from the recording. One this user may poll is polled here while its
recorder is stopped, and followed again when the recorder is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text

from wa_tui.core.errors import EXIT_USAGE, ConfigError, RecordingError
from wa_tui.core.text import interval_text, visible
from wa_tui.keys import FOLLOW
from wa_tui.recording.last_poll import last_poll
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.bindings import bindings
from wa_tui.ui.replay_app import ReplayApp

if TYPE_CHECKING:
    from wa_tui.recording.first_frame import FirstFrame
    from wa_tui.recording.follow import FollowWatcher
    from wa_tui.watch.targets import Target

RECHECK_SECONDS = 2.0  # how soon a recorder that stopped, or came back, is acted on


def _recorder_alive(path: Path) -> bool:
    try:
        return last_poll(path).stale(None) is None
    except RecordingError:
        return False


class FollowApp(ReplayApp):
    APP_GROUPS = (("Recorder", FOLLOW), *WaTuiApp.APP_GROUPS)
    BINDINGS = bindings(FOLLOW)
    FLEET_SOURCE = "polled by the recorder"
    NOTHING_TO_DO = frozenset()  # `r` and `p` say what they do here; `s` switches

    def __init__(
        self,
        *sources: FollowWatcher | Target,
        keymap: Mapping[str, str] | None = None,
        notes: Sequence[str] = (),
        recorded: Mapping[str, tuple[Target, Path]] | None = None,
        rejudge: bool = False,
        first: FirstFrame | None = None,
        attach: Callable[[], FollowWatcher] | None = None,
    ) -> None:
        """`first` and `attach`, given no source: the recorder's newest poll as it stored
        it is drawn first, and `attach` makes its follower in a thread meanwhile (the
        parser, the analysis and the config load there, not before the first frame)."""
        super().__init__(*sources, keymap=keymap, notes=notes, first=first)
        self._rejudge = rejudge  # a recorder followed again is judged as it was asked
        # Deployments this user may also poll, and where their recorder writes: polled
        # here while the recorder is stopped, followed again when it is back.
        self._recorded = dict(recorded or {})
        self._attach = attach

    def panes_ready(self) -> None:
        super().panes_ready()
        if self._attach is not None:  # once the first frame is painted: it goes first
            attaching = partial(self.run_worker, self._attached, group="attach")
            self.call_after_refresh(attaching, exit_on_error=False)
        if self._recorded:
            self.set_interval(RECHECK_SECONDS, self._recheck_recorders)

    async def _attached(self) -> None:
        """The follower of the first frame made in a thread (its config read, its newest
        poll made ready), then watched here. What keeps it from being made (its config,
        the file) ends the app with one line, as it would have before the first frame."""
        try:
            follower = await asyncio.to_thread(self._made)
        except (ConfigError, RecordingError) as error:
            self.exit(return_code=EXIT_USAGE, message=Text(f"wa-tui: {error}"))
            return
        if self.quitting:  # quit on the first frame meanwhile
            follower.recording.close()
            return
        self.replace_watcher(follower)

    def _made(self) -> FollowWatcher:
        assert self._attach is not None
        follower = self._attach()
        follower.read_ahead()
        return follower

    def _recheck_recorders(self) -> None:
        self.run_worker(self._recheck(), group="recheck", exclusive=True, exit_on_error=False)

    async def _recheck(self) -> None:
        for name, (target, path) in self._recorded.items():
            watcher = self.watchers[name]
            if watcher.can.follows:
                stopped = cast("FollowWatcher", watcher).following.stopped
                if stopped is not None:
                    self._poll_here(target, stopped)
            elif await asyncio.to_thread(_recorder_alive, path):
                from wa_tui.recording.follow import FollowWatcher

                follower = await asyncio.to_thread(
                    FollowWatcher.attach, path, target.settings, self._rejudge
                )
                self.replace_watcher(follower)
                self.notify(f"{visible(name)}: the recorder is back: following it")

    def _poll_here(self, target: Target, why: str) -> None:
        from wa_tui.watch.watcher import watchers_for

        (live,) = watchers_for([target]).values()
        self.replace_watcher(live)
        self.notify(f"{visible(target.name)}: {visible(why)}: polling it here", severity="warning")

    @property
    def replay(self) -> FollowWatcher:
        """The recording on screen."""
        return cast("FollowWatcher", self.watcher)

    def action_refresh(self) -> None:
        if not self.watcher.can.follows:  # a deployment polled here
            super().action_refresh()
            return
        every = interval_text(self.replay.following.interval)
        self.replay.refresh()
        self.notify(
            f"the recorder polls every {every}: this viewer reads what it wrote and "
            "sends the deployment nothing"
        )

    def action_live(self) -> None:
        self.replay.live()

    def _seek(self, index: int) -> None:
        self.replay.leave_live()
        super()._seek(index)
