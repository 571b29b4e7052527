"""`l`: a node's log through its `logs_command`, run for real, and the names from the
server that must never reach a shell."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot

from tests.conftest import StartSimulator
from tests.helpers import SIZE, burst, target_for, until_nodes, wait_for
from wa_tui.api.node_logs import LogsRefused, logs_command
from wa_tui.model.snapshot import Node
from wa_tui.simulator import SimDeployment
from wa_tui.ui.app import WaTuiApp
from wa_tui.ui.log_screen import LogScreen, LogView
from wa_tui.watch.targets import Target


@pytest.fixture
def fake_ssh(tmp_path: Path) -> Path:
    """A stand-in for ssh: drops the host and hands the rest to a shell, as the remote
    side of ssh does with its arguments."""
    script = tmp_path / "ssh"
    script.write_text('#!/bin/sh\nshift\nexec sh -c "$*"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def with_logs(target: Target, command: list[str]) -> Target:
    settings = target.settings.model_copy(update={"logs_command": command})
    return Target(target.name, target.url, target.credentials, settings, target.verify)


def rename(deployment: SimDeployment, old: str, new: str) -> None:
    node = deployment.nodes.pop(old)
    node.id = new
    deployment.nodes[new] = node


def node(node_id: str) -> Node:
    """What logs_command reads of a node: its host and container."""
    host, _, container = node_id.rpartition(":")
    return SimpleNamespace(host=host, container=container)  # type: ignore[return-value]


def test_a_command_is_filled_only_with_plain_names() -> None:
    template = ["ssh", "{host}", "docker", "logs", "{container}"]
    filled = logs_command(template, node("10.0.0.5:wa-core-1"), {"10.0.0.5": "core1.dc"})
    assert filled == ["ssh", "core1.dc", "docker", "logs", "wa-core-1"]
    assert logs_command(template, node("[fd00::5]:core"))[1] == "[fd00::5]"
    for hostile in ("-oProxyCommand=x:c", "a;reboot:c", "a$(id):c", "a b:c", "h:`id`", "h:-f"):
        with pytest.raises(LogsRefused, match="refused"):
            logs_command(template, node(hostile))
    with pytest.raises(LogsRefused, match="set one in the config"):
        logs_command(None, node("a:b"))


@pytest.mark.parametrize(
    "hostile", ["wa-master-a;touch {dir}/PWNED", "-oProxyCommand=touch {dir}/PWNED"]
)
async def test_a_hostile_node_name_is_refused_and_nothing_runs(
    start_simulator: StartSimulator, fake_ssh: Path, tmp_path: Path, hostile: str
) -> None:
    deployment = SimDeployment.ha()
    master = deployment.by_role("primary_master")[0]
    hostile_id = f"{hostile.format(dir=tmp_path)}:{master.id.partition(':')[2]}"
    rename(deployment, master.id, hostile_id)
    ran = tmp_path / "ran"
    command = [str(fake_ssh), "{host}", f"touch {ran}; echo {{container}}"]
    app = WaTuiApp([with_logs(target_for(start_simulator(deployment)), command)])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot, count=len(deployment.nodes))
        app.select_node(hostile_id)
        await pilot.press("l")
        await wait_for(pilot, lambda: any("refused" in n.message for n in app._notifications))
        assert not isinstance(app.screen, LogScreen)
    assert not ran.exists() and not (tmp_path / "PWNED").exists()


@pytest.mark.slow
async def test_lines_stream_while_the_dashboard_polls_and_closing_ends_the_group(
    start_simulator: StartSimulator, fake_ssh: Path
) -> None:
    command = [
        str(fake_ssh),
        "{host}",
        'i=0; while true; do echo "{container} line $i"; '
        "[ $((i % 7)) = 0 ] && echo ERROR boom $i; i=$((i+1)); sleep 0.02; done",
    ]
    target = with_logs(target_for(start_simulator(), interval=0.3), command)
    app = WaTuiApp([target])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        screen = app.screen
        assert isinstance(screen, LogScreen)
        view = screen.query_one(LogView)
        polls = app.watcher.poller.polls
        await wait_for(pilot, lambda: len(view.lines) > 40 and app.watcher.poller.polls > polls + 2)
        assert any(line.startswith("ERROR boom") for line in view.lines)
        await wait_for(pilot, lambda: view.following and view.scroll_y == view.max_scroll_y)
        process = screen.stream.process
        assert process is not None
        group = process.pid
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LogScreen))
        await wait_for(pilot, lambda: not _group_alive(group), timeout=10)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


async def finished_log(app: WaTuiApp, pilot: Pilot[object]) -> LogView:
    """`l` on the first node, its command run to its end: the log's view."""
    await until_nodes(pilot)
    await pilot.press("l")
    await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
    view = app.screen.query_one(LogView)
    await wait_for(pilot, lambda: any("ended" in line for line in view.lines))
    return view


@pytest.mark.slow
async def test_search_follow_and_escapes_made_visible(
    start_simulator: StartSimulator, fake_ssh: Path
) -> None:
    command = [
        str(fake_ssh),
        "{host}",
        r"printf 'one\n\033[31mred\033[0m password=hunter2\nWARN two\nthree one\n'",
    ]
    app = WaTuiApp([with_logs(target_for(start_simulator()), command)])
    async with app.run_test(size=SIZE) as pilot:
        view = await finished_log(app, pilot)
        assert "\\x1b[31mred\\x1b[0m password=••••••" in view.lines
        (first, *_) = view.render_line(list(view.lines).index("WARN two"))
        assert first.text.startswith("WARN two") and first.style is not None
        assert first.style.color is not None and first.style.color.name == "yellow"
        await burst(pilot, "slash", "o", "n", "e", "enter")  # in one read, as over SSH
        assert view.pattern is not None and view.current_match == 3  # the last match
        await pilot.press("N")
        assert view.current_match == 0 and not view.following
        await pilot.press("f")
        assert view.following
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LogScreen))


async def test_without_logs_command_l_says_how_to_set_it(simulator) -> None:
    app = WaTuiApp([target_for(simulator)])
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: any("logs_command" in n.message for n in app._notifications))
        assert not isinstance(app.screen, LogScreen)


async def test_in_replay_l_says_logs_are_live_only(simulator, tmp_path: Path) -> None:
    from wa_tui.recording.replay import ReplayWatcher
    from wa_tui.recording.writer import Recorder
    from wa_tui.ui.replay_app import ReplayApp
    from wa_tui.watch.watcher import Watcher

    path = tmp_path / "r.db"
    recorder = Recorder(path, "test", simulator.url)
    async with Watcher(target_for(simulator)) as watcher:
        for _ in range(2):
            answers = (await watcher.poll()).answers
            assert answers is not None
            recorder.record(answers.fetched_at, answers.received, answers, None)
    recorder.close()
    app = ReplayApp(ReplayWatcher.open(path))
    async with app.run_test(size=SIZE) as pilot:
        await until_nodes(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: any("live only" in n.message for n in app._notifications))
        assert not isinstance(app.screen, LogScreen)


@pytest.mark.slow
async def test_a_search_from_between_two_lines_goes_on(
    start_simulator: StartSimulator, fake_ssh: Path
) -> None:
    """A scrollbar dragged leaves the view between two lines (a fractional offset); `n`
    and `N` go on from there (the monkey's crash: a float used as an index)."""
    command = [str(fake_ssh), "{host}", "seq 1 400 | sed 's/^/line /'"]
    app = WaTuiApp([with_logs(target_for(start_simulator()), command)])
    async with app.run_test(size=SIZE) as pilot:
        view = await finished_log(app, pilot)
        await burst(pilot, "slash", "l", "i", "n", "e", " ", "2", "enter")
        view.current_match = None  # as after the matched line scrolled away
        view.scroll_to(y=100.5, animate=False, immediate=True)
        assert view.scroll_y != int(view.scroll_y)
        await pilot.press("N")
        assert view.current_match is not None and view.current_match < 101
        assert view.lines[view.current_match].startswith("line 2")
        await pilot.press("n")
        assert view.current_match is not None
        assert view.lines[view.current_match].startswith("line 2")
