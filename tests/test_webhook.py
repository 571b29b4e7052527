"""Where callbacks go: the application settings, the webhook probe against the
simulator's real HTTPS webhook in each of its states, the test POST, and what the
snapshot, `check` and `wa-tui webhook` say of them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import StartSimulator
from tests.helpers import run, scrape_until, target_for
from wa_tui.api.answers import Unread
from wa_tui.api.endpoints import WEBHOOK_PROBE
from wa_tui.core.secrets import MASK, PHONE_MASK
from wa_tui.simulator import SimDeployment, SimulatorServer
from wa_tui.simulator.scenarios import SCENARIOS
from wa_tui.simulator.webhook import WebhookState
from wa_tui.watch.reader import PollResult
from wa_tui.watch.watcher import Watcher, read_once

# Each state of the simulated webhook: the finding the probe raises, and words of it.
PROBED = {
    WebhookState.EXPIRED: ("WEBHOOK_TLS_INVALID", "critical", "expired on"),
    WebhookState.UNTRUSTED: ("WEBHOOK_TLS_INVALID", "critical", "untrusted issuer"),
    WebhookState.WRONGHOST: ("WEBHOOK_TLS_INVALID", "critical", "name mismatch"),
    WebhookState.DOWN: ("WEBHOOK_UNREACHABLE", "warning", "refused"),
    WebhookState.EXPIRING: ("WEBHOOK_CERT_EXPIRING", "warning", "expires in 5.0 days"),
    WebhookState.UNSET: ("WEBHOOK_NOT_SET", "warning", "no webhook URL"),
    WebhookState.HTTP: ("WEBHOOK_NOT_HTTPS", "critical", "is not https"),
}


def webhook_findings(result: PollResult) -> dict[str, tuple[str, str]]:
    return {f.code: (f.severity.label, f.message) for f in result.findings if "WEBHOOK" in f.code}


async def probed(server: SimulatorServer, state: WebhookState, mode: str = "probe") -> PollResult:
    server.deployment.webhook.state = state
    result = await read_once(target_for(server), webhook=mode)
    assert result.error is None, result.error
    return result


@pytest.mark.parametrize("state", list(PROBED), ids=str)
async def test_each_broken_webhook_raises_its_finding_in_its_words(
    simulator: SimulatorServer, state: WebhookState
) -> None:
    code, severity, words = PROBED[state]
    found = webhook_findings(await probed(simulator, state))
    assert set(found) == {code}
    assert found[code][0] == severity and words in found[code][1]
    assert simulator.deployment.webhook.requests == 0  # a probe sends no request


async def test_a_healthy_webhook_signed_by_the_uploaded_ca_raises_nothing(
    simulator: SimulatorServer,
) -> None:
    result = await probed(simulator, WebhookState.OK)
    assert webhook_findings(result) == {}
    probe = result.webhook.probe
    assert probe is not None and probe.failed_step is None and probe.ca_uploaded is True
    assert probe.certificate is not None and "localhost" in probe.certificate.names
    assert set(probe.timings) == {"dns", "connect", "tls"}


async def test_unreachable_is_critical_only_while_callbacks_fail(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(SCENARIOS["callback-failing"]())
    server.deployment.webhook.pin(WebhookState.DOWN)
    result = await read_once(target_for(server), sample=0.5, webhook="probe")
    assert webhook_findings(result)["WEBHOOK_UNREACHABLE"][0] == "critical"
    failing = next(f for f in result.findings if f.code == "CALLBACK_FAILING")
    assert "the webhook probe from this machine" in failing.message
    assert "connect failed: refused" in failing.message


async def test_the_queue_advice_names_max_concurrent_requests(
    start_simulator: StartSimulator,
) -> None:
    deployment = SCENARIOS["callback-queue-high"]()
    deployment.max_concurrent_requests = 3
    result = await read_once(target_for(start_simulator(deployment)))
    queue = next(f for f in result.findings if f.code == "CALLBACK_QUEUE_HIGH")
    assert "max_concurrent_requests is 3" in queue.message


@pytest.mark.parametrize(
    ("state", "status", "code", "words"),
    [
        (WebhookState.HTTP_503, 2, "WEBHOOK_REJECTS", "HTTP 503 (503 Service Unavailable)"),
        (WebhookState.SLOW, 1, "WEBHOOK_SLOW", "the test request's answer took 1."),
    ],
    ids=["503", "slow"],
)
@pytest.mark.slow
def test_webhook_post_sends_one_post_and_exits_by_what_it_found(
    simulator: SimulatorServer, state: WebhookState, status: int, code: str, words: str
) -> None:
    simulator.deployment.webhook.pin(state)
    out = run(["webhook", "--post"], simulator)
    assert out.returncode == status, out.stdout + out.stderr
    assert simulator.deployment.webhook.requests == 1
    assert code in out.stdout and words in out.stdout
    assert "probed from this machine; the coreapps' network path may differ" in out.stdout


def test_webhook_without_post_sends_nothing_and_is_ok_when_healthy(
    simulator: SimulatorServer,
) -> None:
    out = run(["webhook"], simulator)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "✔ tls" in out.stdout and "test POST" not in out.stdout
    assert simulator.deployment.webhook.requests == 0


@pytest.mark.slow
def test_check_webhook_exits_critical_on_an_expired_certificate(
    simulator: SimulatorServer,
) -> None:
    simulator.deployment.webhook.pin(WebhookState.EXPIRED)
    assert run(["check"], simulator).returncode == 0  # not probed without --webhook
    out = run(["check", "--webhook"], simulator)
    assert out.returncode == 2 and out.stdout.startswith("WA-TUI CRITICAL - WEBHOOK_TLS_INVALID")


def test_snapshot_json_masks_the_webhook_url_and_with_redact_phone_the_number(
    simulator: SimulatorServer,
) -> None:
    webhook = simulator.deployment.webhook
    secret_url = "https://bot:hunter2@hooks.example/cb?token=abc123&region=eu"
    webhook.url = lambda: secret_url  # type: ignore[method-assign]
    out = run(["snapshot", "--format", "json", "--redact-phone"], simulator)
    assert out.returncode == 0, out.stderr
    settings = json.loads(out.stdout)["settings"]
    assert (
        settings["webhooks"]["url"] == f"https://bot:{MASK}@hooks.example/cb?token={MASK}&region=eu"
    )
    assert settings["wa_id"] == PHONE_MASK and settings["webhooks"]["max_concurrent_requests"] == 6
    assert "hunter2" not in out.stdout and "abc123" not in out.stdout
    assert "15550100123" not in out.stdout  # nor in a node's support entry


async def test_settings_a_user_may_not_read_are_not_available_and_raise_nothing(
    simulator: SimulatorServer,
) -> None:
    simulator.deployment.serves_settings = False
    result = await read_once(target_for(simulator), webhook="probe")
    assert result.webhook.settings is None
    assert result.webhook.note == Unread("not available (HTTP 403)", failed=False)
    assert webhook_findings(result) == {}


async def test_the_watcher_probes_by_itself_and_never_posts(simulator: SimulatorServer) -> None:
    """The probe runs after the first poll and comes with the next; no request reaches
    the webhook however often it probes."""
    simulator.deployment.webhook.pin(WebhookState.EXPIRED)
    async with Watcher(target_for(simulator)) as watcher:
        first = await watcher.poll()
        assert first.webhook.probe is None and first.webhook.webhook_url is not None
        task = watcher.poller._probe_task
        assert task is not None
        await task
        second = await watcher.poll()
    assert second.answers is not None and WEBHOOK_PROBE in second.answers.stats
    assert "WEBHOOK_TLS_INVALID" in webhook_findings(second)
    assert simulator.deployment.webhook.requests == 0


async def test_webhook_probe_off_probes_nothing(start_simulator: StartSimulator) -> None:
    server = start_simulator(SimDeployment.single())
    target = target_for(server)
    target = target.__class__(
        target.name,
        target.url,
        target.credentials,
        target.settings.model_copy(update={"webhook_probe": "off"}),
        target.verify,
    )
    async with Watcher(target) as watcher:
        await watcher.poll()
        assert watcher.poller._probe_task is None


@pytest.mark.slow
@pytest.mark.usefixtures("no_slow_callbacks")
async def test_the_exporter_probes_and_exports_the_webhook(simulator: SimulatorServer) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from wa_tui.outputs.exporter import Exporter

    simulator.deployment.webhook.pin(WebhookState.EXPIRED)
    exporter = Exporter([target_for(simulator, interval=0.2)])
    text, _ = await scrape_until(exporter, "WEBHOOK_TLS_INVALID")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (ok,) = families["wa_webhook_probe_ok"].samples
    (days,) = families["wa_webhook_certificate_days_left"].samples
    assert ok.value == 0.0 and days.value < 0
    assert simulator.deployment.webhook.requests == 0


async def test_a_replay_shows_the_probe_recorded_then(simulator: SimulatorServer, tmp_path) -> None:
    from wa_tui.recording.replay import ReplayWatcher
    from wa_tui.recording.writer import Recorder

    simulator.deployment.webhook.pin(WebhookState.WRONGHOST)
    path = tmp_path / "r.db"
    recorder = Recorder(path, "test", simulator.url)
    async with Watcher(target_for(simulator)) as watcher:
        await watcher.poll()
        await watcher.poller.probe_now()
        result = await watcher.poll()
        assert result.answers is not None
        recorder.record(result.answers.fetched_at, result.answers.received, result.answers, None)
    recorder.close()
    replay = ReplayWatcher.open(path)
    replay.go(len(replay) - 1)
    probe = replay.webhook.probe
    assert probe is not None and probe.reason == "name mismatch"
    assert "WEBHOOK_TLS_INVALID" in {f.code for f in replay.findings}


@pytest.mark.slow
async def test_w_shows_the_probe_and_sends_one_post_only_after_yes(
    simulator: SimulatorServer,
) -> None:
    from textual.geometry import Offset
    from textual.selection import Selection

    from tests.helpers import SIZE, until_nodes, wait_for
    from wa_tui.ui.app import WaTuiApp
    from wa_tui.ui.confirm_screen import ConfirmScreen
    from wa_tui.ui.webhook_screen import WebhookScreen

    webhook = simulator.deployment.webhook
    webhook.pin(WebhookState.HTTP_503)
    app = WaTuiApp([target_for(simulator)])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await wait_for(pilot, lambda: app.watcher.poller._probe_task is not None)
        await pilot.press("W")
        await wait_for(pilot, lambda: isinstance(app.screen, WebhookScreen))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # no: nothing is sent
        await wait_for(pilot, lambda: isinstance(app.screen, WebhookScreen))
        await pilot.press("t", "y")
        await wait_for(pilot, lambda: "WEBHOOK_REJECTS" in _shown(app))
        assert webhook.requests == 1
        assert "test POST    HTTP 503 (503 Service Unavailable)" in _shown(app)
        body = app.screen.query_one("#webhook-body")
        copied = body.get_selection(Selection(Offset(0, 1), Offset(40, 3)))
        assert copied is not None and copied[0].startswith("webhook      https://localhost:")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, WebhookScreen))
    assert webhook.requests == 1


def _shown(app) -> str:
    from tests.helpers import plain

    return plain(app.screen.query_one("#webhook-body"))


async def test_a_name_that_does_not_resolve_is_unreachable_by_name() -> None:
    from wa_tui.analysis import Thresholds
    from wa_tui.analysis.webhook import webhook_findings
    from wa_tui.api.webhook_probe import probe

    result = await probe("https://hooks.no-such-host.invalid/cb?token=s3cret", None)
    assert (result.failed_step, result.reason) == ("dns", "name not found")
    assert "s3cret" not in result.url
    (finding,) = webhook_findings(None, result, (), Thresholds())
    assert finding.code == "WEBHOOK_UNREACHABLE" and "name not found (dns)" in finding.message


@pytest.mark.slow
def test_check_probes_the_webhook_only_when_asked_with_or_without_a_sample(
    simulator: SimulatorServer,
) -> None:
    """A webhook this machine cannot reach (`simulate --webhook down`): `check` and
    `check --sample` agree, and only `--webhook` probes it."""
    simulator.deployment.webhook.pin(WebhookState.DOWN)
    plain_check = run(["check"], simulator)
    sampled = run(["check", "--sample", "1"], simulator)
    assert plain_check.returncode == sampled.returncode == 0, plain_check.stdout + sampled.stdout
    assert "WEBHOOK" not in plain_check.stdout and "WEBHOOK" not in sampled.stdout
    probed = run(["check", "--sample", "1", "--webhook"], simulator)
    assert probed.returncode == 1 and "WEBHOOK_UNREACHABLE" in probed.stdout, probed.stdout


async def test_the_probe_loads_no_ca_store_on_the_event_loop(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the system's CAs takes tens of ms, more on a busy machine: the probe builds
    its context in a thread, once per CA, and every probe after reuses it."""
    import ssl
    import threading

    from wa_tui.api import webhook_probe

    webhook_probe.trust.cache_clear()
    built_in: list[str] = []
    original = ssl.create_default_context

    def recorded(*args: object, **kwargs: object) -> ssl.SSLContext:
        built_in.append(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", recorded)
    url = simulator.deployment.webhook.url()
    assert url is not None
    ca = simulator.deployment.webhook.ca_pem
    for _ in range(3):
        assert (await webhook_probe.probe(url, ca)).failed_step is None
    assert len(built_in) == 1 and built_in[0] != threading.main_thread().name
