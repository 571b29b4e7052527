"""`wa-tui web`: what a browser tab costs on the recorder's machine, and eight of them
against eight SSH viewers (`wa-tui --follow` in a real terminal each), in the same run.

A live recorder at 5 s of a 36-node simulator; the tabs are WebSocket clients of this
process that read everything sent (as a browser would), and one real chromium measures
the first frame from navigation (Chrome's own timestamps of the page's request and of
the first WebSocket frame that carries a whole screen).

    python -m benchmarks.web
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from benchmarks.common import (
    PYTHON,
    QUICK,
    ROOT,
    figure,
    in_pty,
    process_cpu_seconds,
    recording_live,
    report,
)
from benchmarks.common import simulator as simulated

SESSIONS = 8
SECONDS = 30.0 if QUICK else 60.0
SCREEN = 2000  # bytes: a WebSocket frame this big carries a drawn screen, not a cursor move


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def ssh_viewers(path: Path) -> tuple[list[float], list[int]]:
    """CPU share and RSS of each of SESSIONS `wa-tui --follow` in a pseudo-terminal."""
    with contextlib.ExitStack() as stack:
        runs = [
            stack.enter_context(in_pty([PYTHON, "-m", "wa_tui", "--follow", str(path)]))
            for _ in range(SESSIONS)
        ]
        for run in runs:
            run.read_until("★ primary".encode(), timeout=60)
        for run in runs:
            run.drain(0.5)
        before = [run.cpu_seconds() for run in runs]
        end = time.perf_counter() + SECONDS
        while time.perf_counter() < end:
            for run in runs:
                run.read(0.005)
        shares = [(run.cpu_seconds() - b) / SECONDS for run, b in zip(runs, before, strict=True)]
        return shares, [rss_bytes(run.process.pid) for run in runs]


async def tabs(url: str, server: int) -> dict[str, object]:
    """SESSIONS WebSocket tabs reading everything sent: each session's CPU share and RSS,
    the server's, and the bytes a second each tab was sent."""
    origin = url.rstrip("/")
    received = [0] * SESSIONS

    async def tab(index: int, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        async with http.ws_connect(f"{origin}/ws?width=160&height=50", origin=origin) as ws:
            reading = asyncio.ensure_future(stop.wait())
            while not stop.is_set():
                message = asyncio.ensure_future(ws.receive())
                await asyncio.wait([message, reading], return_when=asyncio.FIRST_COMPLETED)
                if message.done() and message.result().type is aiohttp.WSMsgType.BINARY:
                    received[index] += len(message.result().data)
                elif not message.done():
                    message.cancel()

    stop = asyncio.Event()
    async with aiohttp.ClientSession() as http:
        running = [asyncio.ensure_future(tab(i, http, stop)) for i in range(SESSIONS)]
        while min(received) < 50_000:  # every tab drew its first screens
            await asyncio.sleep(0.2)
        await asyncio.sleep(6)  # past the first poll's extras
        sessions = children(server)
        pids = [server, *sessions]
        before = [process_cpu_seconds(pid) for pid in pids]
        sent_before = list(received)
        await asyncio.sleep(SECONDS)
        after = [process_cpu_seconds(pid) for pid in pids]
        sent = [(b - a) / SECONDS for a, b in zip(sent_before, received, strict=True)]
        rss = [rss_bytes(pid) for pid in pids]
        stop.set()
        await asyncio.gather(*running, return_exceptions=True)
    shares = [(b - a) / SECONDS for a, b in zip(before, after, strict=True)]
    return {"server": (shares[0], rss[0]), "sessions": (shares[1:], rss[1:]), "sent": sent}


def first_frame_in_chromium(url: str) -> float:
    """Seconds from the page's request to the first WebSocket frame carrying a screen, by
    Chrome's own clock (its network log)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1400,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        browser.get(url)
        deadline = time.monotonic() + 60
        asked, drawn = None, None
        while drawn is None and time.monotonic() < deadline:
            for entry in browser.get_log("performance"):
                message = json.loads(entry["message"])["message"]
                params = message["params"]
                if message["method"] == "Network.requestWillBeSent" and asked is None:
                    asked = params["timestamp"]
                frame = message["method"] == "Network.webSocketFrameReceived"
                if frame and len(params["response"].get("payloadData", "")) > SCREEN:
                    drawn = drawn or params["timestamp"]
            time.sleep(0.1)
        assert asked is not None and drawn is not None, "no screen came"
        return drawn - asked
    finally:
        browser.quit()


def served(path: Path) -> tuple[subprocess.Popen[str], str]:
    port_line = ""
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "wa_tui",
            "web",
            str(path),
            "--listen",
            "127.0.0.1:0",
            "--max-sessions",
            "16",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert server.stdout is not None
    while not port_line.startswith("serving "):
        port_line = server.stdout.readline()
        if not port_line:
            raise RuntimeError("wa-tui web stopped before serving")
    return server, port_line.split(" on ")[1].split()[0]


def main() -> None:
    rows: list[tuple[str, str]] = []
    with (
        simulated("--shards", "32") as sim,
        tempfile.TemporaryDirectory() as folder,
        recording_live(sim, Path(folder) / "rec") as (_, path),
    ):
        time.sleep(6)  # a poll or two recorded
        ssh_shares, ssh_rss = ssh_viewers(path)
        server, url = served(path)
        try:
            web = asyncio.run(tabs(url, server.pid))
            frames = [first_frame_in_chromium(url) for _ in range(3 if QUICK else 5)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    session_shares, session_rss = web["sessions"]  # type: ignore[misc]
    server_share, server_rss = web["server"]  # type: ignore[misc]
    sent = web["sent"]
    web_total = server_share + sum(session_shares)
    rows += [
        (
            "a tab's session, following at 5 s: CPU (median of 8)",
            f"{statistics.median(session_shares):.2%} of a core",
        ),
        ("a tab's session: RSS (median of 8)", f"{statistics.median(session_rss) / 2**20:.0f} MiB"),
        (
            "bytes a second to a browser (median of 8)",
            f"{statistics.median(sent) / 1024:.1f} KiB/s",
        ),
        ("the server itself with 8 tabs: CPU", f"{server_share:.2%} of a core"),
        ("the server itself with 8 tabs: RSS", f"{server_rss / 2**20:.0f} MiB"),
        (
            "first frame in chromium, from the page's request (median)",
            f"{statistics.median(frames):.2f} s",
        ),
        ("8 tabs and their server: CPU", f"{web_total:.2%} of a core"),
        ("8 SSH viewers (wa-tui --follow in a terminal): CPU", f"{sum(ssh_shares):.2%} of a core"),
        ("8 tabs and server : 8 SSH viewers, CPU", f"{web_total / sum(ssh_shares):.2f}x"),
        (
            "8 tabs and server : 8 SSH viewers, RSS",
            f"{(server_rss + sum(session_rss)) / sum(ssh_rss):.2f}x",
        ),
    ]
    figure(
        "web: 8 tabs and their server, CPU",
        web_total * 100,
        "% of a core",
        ("8 SSH viewers", sum(ssh_shares) * 100),
        "reported",
        None,
    )
    report("The dashboard in a browser (wa-tui web)", rows)


if __name__ == "__main__":
    main()
