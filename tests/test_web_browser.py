"""`wa-tui web` in a real browser: Debian's chromium, driven by Selenium through Debian's
chromedriver (no browser is downloaded). The page draws on a canvas, which cannot be
read: what each session sends is read on the server side through a terminal emulator
(the view's `watch`), and the browser's own screenshots show that keys change it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pyte
import pytest

from tests.conftest import StartSimulator
from tests.helpers import record_polls
from tests.test_web import HASH, PASSWORD, USER, gone
from wa_tui.outputs.serving import GuardedSite
from wa_tui.outputs.web_config import WebConfig
from wa_tui.simulator import SimDeployment, demo_story
from wa_tui.web.server import WebView
from wa_tui.web.session import Session

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
WINDOW = (1400, 900)


def browser_binaries() -> tuple[str, str]:
    """Debian's chromium and chromedriver; missing, the test skips (fails in CI)."""
    found = shutil.which("chromium"), shutil.which("chromedriver")
    if None in found:
        message = "chromium is missing: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found  # type: ignore[return-value]


class Screens:
    """Each session's screen as its browser is sent it, read by a terminal emulator."""

    def __init__(self) -> None:
        self.by_session: dict[Session, tuple[pyte.Screen, pyte.ByteStream]] = {}

    def __call__(self, session: Session, data: bytes) -> None:
        if session not in self.by_session:
            screen = pyte.Screen(*session.size)
            self.by_session[session] = screen, pyte.ByteStream(screen)
        screen, stream = self.by_session[session]
        if (screen.columns, screen.lines) != session.size:
            screen.resize(session.size[1], session.size[0])
        stream.feed(data)

    def text(self) -> str:
        return "\n".join("\n".join(s.display) for s, _ in self.by_session.values())


@asynccontextmanager
async def served(followed: Path) -> AsyncIterator[tuple[WebView, Screens]]:
    screens = Screens()
    view = WebView(followed, GuardedSite(WebConfig(users={USER: HASH})), watch=screens)
    ready = asyncio.Event()
    task = asyncio.create_task(view.serve("127.0.0.1", 0, ready))
    async with asyncio.timeout(10):
        await ready.wait()
    try:
        yield view, screens
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextmanager
def chromium(downloads: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        browser.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        yield browser
    finally:
        browser.quit()


async def until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await asyncio.to_thread(condition):
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"never came within {timeout}s: {what}") from None


async def press(browser: object, keys: str) -> None:
    """Typed into the terminal, as a person does once the page has focus."""
    from selenium.webdriver.common.by import By

    def typed() -> None:
        terminal = browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")  # type: ignore[attr-defined]
        terminal.send_keys(keys)

    await asyncio.to_thread(typed)


def requested(browser: object) -> list[str]:
    """Every URL the page asked for, as Chrome's network log has it."""
    urls = []
    for entry in browser.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            params = message["params"]
            urls.append(params.get("request", {}).get("url") or params.get("url", ""))
    return urls


def _host(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def signed_in(origin: str) -> str:
    """The page's address with the user's credentials, as a person types them into the
    browser's prompt: the browser then sends them with every request of the origin (its
    assets, the WebSocket's handshake, a download)."""
    return origin.replace("http://", f"http://{USER}:{PASSWORD}@") + "/"


def detail_title(screens: Screens) -> str | None:
    """The node the detail pane shows (its border's title)."""
    found = re.search(r"Detail · (\S+)", screens.text())
    return found.group(1) if found else None


async def _recording(start_simulator: StartSimulator, folder: Path) -> Path:
    deployment = SimDeployment.multiconnect(8, spares=2)
    server = start_simulator(deployment, story=demo_story(deployment), step_seconds=3600)
    folder.mkdir()
    await record_polls(server, folder / "demo.db", steps=3)
    return folder / "demo.db"


async def test_the_dashboard_in_a_browser_answers_keys_and_resizes_and_leaves_nothing(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    """In chromium: the dashboard drawn, `?` and `j` reach it (the browser's screenshot
    changes), a smaller window makes a smaller app, `b` arrives as a download, the page
    asks nothing of another origin; the tab closed, no process is left."""
    recording = await _recording(start_simulator, tmp_path / "recordings")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    async with served(recording) as (view, screens):
        origin = f"http://127.0.0.1:{view.site.port}"
        with chromium(downloads) as browser:
            await asyncio.to_thread(browser.get, signed_in(origin))  # type: ignore[attr-defined]
            await until(lambda: "Nodes (12)" in screens.text(), "the dashboard drawn")
            (session,) = view.sessions.values()
            first_size, pid = session.size, session.pid
            await asyncio.sleep(1)  # the canvas paints what came
            before = browser.get_screenshot_as_png()  # type: ignore[attr-defined]
            await press(browser, "?")
            await until(lambda: "List every key" in screens.text(), "the help, from ?")
            await asyncio.sleep(1)
            assert browser.get_screenshot_as_png() != before  # type: ignore[attr-defined]
            await press(browser, "\ue00c")  # escape
            await until(lambda: "List every key" not in screens.text(), "the help closed")
            shown = detail_title(screens)
            await press(browser, "j")
            await until(lambda: detail_title(screens) not in (shown, None), "j moved down")
            await press(browser, "k")
            await until(lambda: detail_title(screens) == shown, "k moved up")
            await asyncio.to_thread(browser.set_window_size, 900, 600)  # type: ignore[attr-defined]
            await until(lambda: session.size < first_size, "the app resized with the window")
            await press(browser, "b")
            await until(lambda: any(downloads.glob("*.tar.gz")), "the bundle downloaded", 60)
            urls = requested(browser)
            others = [u for u in urls if not u.startswith(("data:", "blob:"))]
            assert urls and not [u for u in others if _host(u) != _host(origin)], others
            await asyncio.to_thread(browser.close)  # type: ignore[attr-defined]
            await until(lambda: not view.sessions, "the session ended with its tab")
    assert gone(pid)


async def test_a_folder_opens_on_the_fleet_and_enter_follows_one(
    start_simulator: StartSimulator, tmp_path: Path
) -> None:
    """A recorder's folder: the fleet first; `enter` in the browser opens the deployment's
    dashboard (the same session, its next app told the window's size)."""
    recording = await _recording(start_simulator, tmp_path / "recordings")
    async with served(recording.parent) as (view, screens):
        with chromium(tmp_path) as browser:
            page = signed_in(f"http://127.0.0.1:{view.site.port}")
            await asyncio.to_thread(browser.get, page)  # type: ignore[attr-defined]
            await until(lambda: "recorded in" in screens.text(), "the folder's fleet")
            await press(browser, "\ue007")  # enter
            await until(lambda: "Nodes (12)" in screens.text(), "the deployment, from enter")
