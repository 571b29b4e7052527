"""`wa-tui --follow`, or a deployment whose recorder is configured: the dashboard of what
a recorder polled (wa_tui/recording/follow.py), live, with its history from the first
frame. The keys of replay move back into the recording; `space` (the key `follow.live`)
comes back to live. Nothing here asks the deployment anything: `r` says so, `p` holds
the view only, `x` says secrets are never recorded, `W` shows the recorded settings and
probe, `b` bundles from the recording.
"""

from __future__ import annotations

from typing import cast

from wa_tui.core.text import interval_text
from wa_tui.keys import FOLLOW
from wa_tui.recording.follow import FollowWatcher
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.bindings import bindings
from wa_tui.ui.replay_app import ReplayApp


class FollowApp(ReplayApp):
    APP_GROUPS = (("Recorder", FOLLOW), *WaTuiApp.APP_GROUPS)
    BINDINGS = bindings(FOLLOW)
    FLEET_SOURCE = "polled by the recorder"
    NOTHING_TO_DO = frozenset()  # `r` and `p` say what they do here; `s` switches

    @property
    def replay(self) -> FollowWatcher:
        """The recording on screen."""
        return cast(FollowWatcher, self.watcher)

    def action_refresh(self) -> None:
        if not isinstance(self.watcher, FollowWatcher):  # a deployment polled here
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
