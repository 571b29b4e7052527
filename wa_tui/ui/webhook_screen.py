"""`W`: where callbacks go. The settings the deployment holds, the last webhook probe
(from this machine: the coreapps' network path may differ), the webhook's findings, and
one test POST, sent only on request and after a confirmation that says exactly what goes
where. In replay: the probe recorded then, and nothing is sent."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wa_tui.analysis.webhook import WEBHOOK_CODES
from wa_tui.api.webhook_probe import USER_AGENT, WebhookProbe, post_body
from wa_tui.core.secrets import mask_url
from wa_tui.core.text import StatusLine, visible
from wa_tui.keys import WEBHOOK
from wa_tui.ui.bindings import bindings, key_display
from wa_tui.ui.confirm_screen import ConfirmScreen
from wa_tui.ui.guards import DismissOnce
from wa_tui.ui.messages import ShownPolledAgain
from wa_tui.ui.redraw import SizedStatic
from wa_tui.watch.state import Phase, Update
from wa_tui.watch.watcher import Watcher


def _line(line: StatusLine) -> Text:
    style = {True: "green", False: "red", None: ""}[line.ok]
    return Text(visible(line.text), style=style)


class WebhookScreen(DismissOnce, ModalScreen[None]):
    BINDINGS = bindings(WEBHOOK)
    HELP_GROUPS = (("Webhook", WEBHOOK),)

    def __init__(self, watcher: Watcher, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.watcher = watcher
        self.live = watcher.can.sends  # a recording read sends the deployment nothing
        self._keymap = keymap or {}
        self._doing: str | None = None  # "probing…", while a probe runs
        self._probed: WebhookProbe | None = None  # made here, until a poll carries it

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="webhook"):
            yield SizedStatic(id="webhook-body")  # its selection reads Rich groups

    def on_mount(self) -> None:
        self._subscription = self.watcher.subscribe(self._polled, name="the webhook screen")
        self.redraw()

    def on_unmount(self) -> None:
        self.watcher.unsubscribe(self._subscription)

    def _polled(self, update: Update) -> None:
        """In the watcher's task: a message, so a screen already closed draws nothing."""
        if update.phase is Phase.POLLED and update.result and update.result.snapshot:
            self.post_message(ShownPolledAgain())

    def on_shown_polled_again(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Drawn anew on mount, after a probe, and after each poll."""
        bodies = self.query("#webhook-body").results(Static)
        body = next(bodies, None)
        if body is None:  # pushed, not yet composed: on_mount draws it
            return
        view = self.watcher.webhook
        mine = self._probed
        if mine is not None and (view.probe is None or view.probe.checked_at <= mine.checked_at):
            view = replace(view, probe=mine)
        findings = [f for f in self.watcher.findings if f.code in WEBHOOK_CODES]
        said = [
            Text(f"{f.severity.marker} {f.code}  {visible(f.message)}", style="bold")
            for f in findings
        ] or [Text("no webhook finding", style="dim")]
        title = "Webhook" + ("" if self.live else " (as recorded: replay sends nothing)")
        doing = [Text(self._doing, style="yellow")] if self._doing else []
        body.update(
            Group(
                Text(title, style="bold underline"),
                *(_line(line) for line in view.lines()),
                *doing,
                Text(""),
                *said,
                Text(""),
                Text(self._hint(), style="dim"),
            )
        )

    def _hint(self) -> str:
        keys = {key.id: key_display(key, self._keymap) for key in WEBHOOK}
        close = f"{keys['webhook.close']}: close"
        if not self.live:
            return close
        return (
            f"{keys['webhook.probe']}: probe again · {keys['webhook.post']}: send one test POST"
            f" (asks first) · {close}"
        )

    def action_probe(self) -> None:
        self._start(post=False)

    def action_test_post(self) -> None:
        url = self.watcher.webhook.webhook_url
        if not self.live or url is None:
            self._start(post=True)  # says why not
            return
        body = json.dumps(post_body())
        question = (
            f"Send one HTTP POST to {visible(mask_url(url), limit=100)} from this machine, "
            f"with the body {body} and the header User-Agent: {USER_AGENT}? The webhook "
            "receives it as it would a callback."
        )
        self.app.push_screen(ConfirmScreen(question), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self._start(post=True)

    def _start(self, post: bool) -> None:
        if not self.live:
            self.notify("replay: the probe shown is the one recorded then", severity="warning")
            return
        if self.watcher.webhook.webhook_url is None:
            self.notify("no webhook URL in the application settings", severity="warning")
            return
        self._doing = "sending the test POST…" if post else "probing…"
        self.redraw()
        # A callable, not a coroutine: one cancelled before it starts (`p` pressed again,
        # the screen closed) is then never made, rather than made and never awaited.
        probing = partial(self._probe, post)
        self.run_worker(probing, group="probe", exclusive=True, exit_on_error=False)

    async def _probe(self, post: bool) -> WebhookProbe | None:
        try:
            result = await self.watcher.poller.probe_now(post)
        except LookupError as error:
            self.notify(str(error), severity="warning")
            result = None
        self.watcher.poll_now()  # the findings follow with the poll that carries it
        self._doing, self._probed = None, result
        if self.is_attached:
            self.redraw()
        return result

    def on_screen_resume(self) -> None:
        if self.is_attached:
            self.redraw()
