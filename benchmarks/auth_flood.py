"""9. The exporter behind TLS and basic auth (#30 item 3): its CPU while polling, with a
right scrape once a second, and with a flood of 100 wrong passwords a second beside it;
and whether every deployment is still polled on time (the largest
`wa_last_poll_age_seconds` against the interval). The baseline is the same exporter in
the same run, polling with no scrape. bcrypt at cost 12, as the README's hash.

    python -m benchmarks.auth_flood [SECONDS]
"""

from __future__ import annotations

import contextlib
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

import bcrypt
import httpx
import trustme

from benchmarks.common import exporter_process, process_cpu_seconds, report, simulator

DEPLOYMENTS = 10
INTERVAL = 2.0
PASSWORD = "right-one"


def _files(folder: Path, url: str) -> tuple[Path, Path, ssl.SSLContext]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(folder / "key.pem")
    cert.cert_chain_pems[0].write_to_path(folder / "cert.pem")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()
    web = folder / "web.yml"
    web.write_text(
        "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n"
        f"basic_auth_users: {{prometheus: '{hashed}'}}\n"
    )
    config = folder / "config.toml"
    config.write_text(
        "".join(
            f'[deployments.d{i}]\nurl = "{url}"\nusername = "admin"\n'
            f'password_env = "WA_TUI_PASSWORD"\ninterval = {INTERVAL}\n'
            for i in range(DEPLOYMENTS)
        )
    )
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return web, config, context


def _hammer(
    url: str,
    context: ssl.SSLContext,
    per_second: float,
    right: bool,
    stop: threading.Event,
    source: str = "127.0.0.1",
    statuses: list[int] | None = None,
) -> None:
    """Requests at `per_second` from `source`, each with the right password or a new
    wrong one; their statuses kept in `statuses` if given."""
    transport = httpx.HTTPTransport(verify=context, local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        sent = 0
        started = time.monotonic()
        while not stop.is_set():
            password = PASSWORD if right else f"wrong-{sent}"
            with contextlib.suppress(httpx.HTTPError):
                status = client.get(url, auth=("prometheus", password)).status_code
                if statuses is not None:
                    statuses.append(status)
            sent += 1
            pause = started + sent / per_second - time.monotonic()
            if pause > 0:
                stop.wait(pause)


def _worst_age(url: str, context: ssl.SSLContext) -> float:
    text = httpx.get(url, verify=context, auth=("prometheus", PASSWORD), timeout=30).text
    ages = [
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("wa_last_poll_age_seconds")
    ]
    return max(ages)


def _phase(
    pid: int, seconds: float, load: list[tuple[float, bool]], url: str, context: ssl.SSLContext
) -> tuple[float, float]:
    """CPU share of the exporter over `seconds` under `load`, and the worst poll age seen."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_hammer, args=(url, context, rate, right, stop), daemon=True)
        for rate, right in load
    ]
    for thread in threads:
        thread.start()
    before, started, worst = process_cpu_seconds(pid), time.monotonic(), 0.0
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        worst = max(worst, _worst_age(url, context))
    share = (process_cpu_seconds(pid) - before) / (time.monotonic() - started)
    stop.set()
    for thread in threads:
        thread.join()
    return share, worst


def main(seconds: float) -> None:
    with simulator("--steady") as sim, tempfile.TemporaryDirectory() as folder:
        web, config, context = _files(Path(folder), sim.url)
        process, url = exporter_process(config, sim.env, "--web-config", str(web))
        try:
            time.sleep(INTERVAL * 3)  # every deployment polled
            phases = {
                "polling, no scrape (baseline)": [],
                "a right scrape a second": [(1.0, True)],
                "100 wrong passwords a second + a right scrape a second": [
                    (100.0, False),
                    (1.0, True),
                ],
            }
            rows = []
            shares: list[float] = []
            base = None
            for name, load in phases.items():
                share, worst = _phase(process.pid, seconds, load, url, context)
                base = share if base is None else base
                if len(rows) == 2:  # the flood, against the right scrape alone
                    base = shares[1]
                shares.append(share)
                rows.append(
                    (
                        name,
                        f"{share:.1%} of a core (+{share - base:.1%} over the baseline); "
                        f"worst poll age {worst:.1f} s at {INTERVAL:g} s",
                    )
                )
        finally:
            process.terminate()
            process.wait(timeout=20)
        rows.append(_right_password_not_yet_remembered(config, sim.env, web, context, seconds))
    report(f"exporter behind TLS and basic auth, {DEPLOYMENTS} deployments at {INTERVAL:g} s", rows)


def _right_password_not_yet_remembered(
    config: Path, env: dict[str, str], web: Path, context: ssl.SSLContext, seconds: float
) -> tuple[str, str]:
    """A fresh exporter (the right password not yet remembered, as after a restart):
    ten wrong passwords a second from 127.0.0.2 and Prometheus's right one once a second
    from 127.0.0.1. How many right scrapes were refused, and the CPU."""
    process, url = exporter_process(config, env, "--web-config", str(web))
    stop, right, wrong = threading.Event(), [], []
    threads = [
        threading.Thread(
            target=_hammer, args=(url, context, 10.0, False, stop, "127.0.0.2", wrong)
        ),
        threading.Thread(target=_hammer, args=(url, context, 1.0, True, stop, "127.0.0.1", right)),
    ]
    try:
        time.sleep(INTERVAL * 3)
        before, started = process_cpu_seconds(process.pid), time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        share = (process_cpu_seconds(process.pid) - before) / (time.monotonic() - started)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        process.terminate()
        process.wait(timeout=20)
    refused = sum(1 for status in right if status != 200)
    return (
        "fresh: 10 wrong a second from another client + the right one a second",
        f"{refused} of {len(right)} right scrapes refused ({len(wrong)} wrong answered); "
        f"{share:.1%} of a core (polling included)",
    )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
