"""Hand-over bundles: one `tar.gz` with what whoever looks next needs, and nothing secret.

Inside: `MANIFEST` (every file, and every redaction made), `versions.txt`, the last
answers (`answers/*.json`), `summary.json` (the numbers every view shows), `findings.txt`
and `findings.json`, `changes.txt`, the last minutes of recording up to that moment
(`recording.db`, when there is one), and the config file (`config.toml`) with its
secret-looking values masked. Written 0600. Plain Python.

A bundle is made one way (`handover_of`), from a watcher: live, under `--record`, from
`--from-recording` and in replay, where it is the poll on screen and the minutes up to it.
"""

from __future__ import annotations

import bisect
import io
import json
import re
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wa_tui import __version__
from wa_tui.api.answers import Answers, decode_answer
from wa_tui.api.endpoints import HEALTH, SUPPORT
from wa_tui.core.errors import RecordingError, WAError
from wa_tui.core.private_files import open_private
from wa_tui.core.secrets import MASK, mask_phones, mask_tree
from wa_tui.core.text import visible
from wa_tui.model.judgement import Change, Finding, Summary
from wa_tui.outputs.check import finding_document, summary_document
from wa_tui.recording.reader import RecordingFile
from wa_tui.recording.replay import ReplayWatcher
from wa_tui.recording.writer import Recorder
from wa_tui.watch.watcher import Watcher


@dataclass
class Handover:
    """What a bundle is made of."""

    deployment: str
    url: str
    answers: Answers | None
    summary: Summary | None
    findings: Sequence[Finding]
    changes: Sequence[Change]
    recording: RecordingFile | None = None
    last_poll: int | None = None  # the recording's last poll handed over (None: its end)
    config_path: Path | None = None
    redact_phone: bool = False
    minutes: float = 30.0
    redactions: list[str] = field(default_factory=list)


def handover_of(
    watcher: Watcher, recording: RecordingFile | None = None, config_path: Path | None = None
) -> Handover:
    """What `watcher` shows now, for whoever looks next: its last good answers, findings
    and changes, and `recording`'s minutes up to now. A replay hands over the poll on
    screen and its recording (or `recording`, the same file opened apart) up to that poll."""
    name, last_poll = watcher.name, None
    if isinstance(watcher, ReplayWatcher):
        recording, last_poll = recording or watcher.recording, watcher.position
        name = recording.meta.get("deployment", name)
    return Handover(
        name,
        watcher.target.url,
        watcher.last_answers,
        watcher.summary,
        watcher.findings,
        list(watcher.changes),
        recording=recording,
        last_poll=last_poll,
        config_path=config_path,
    )


def default_name(deployment: str, at: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", deployment).strip("-") or "deployment"
    return f"wa-tui-bundle-{safe}-{at:%Y%m%d-%H%M%S}.tar.gz"


def write_bundle(handover: Handover, output: Path) -> Path:
    """The bundle, written to `output` (0600)."""
    files: dict[str, bytes] = {}
    if handover.answers is not None:
        files |= _answers(handover)
    if handover.summary is not None:
        files["summary.json"] = json.dumps(summary_document(handover.summary), indent=2).encode()
    files["findings.txt"] = _findings_text(handover.findings).encode()
    files["findings.json"] = json.dumps(
        [finding_document(f) for f in handover.findings], indent=2, ensure_ascii=False
    ).encode()
    files["changes.txt"] = "".join(
        f"{c.seen_at.astimezone():%Y-%m-%d %H:%M:%S}  {c.severity.marker}  {c.kind.value}: "
        f"{visible(c.message)}\n"
        for c in reversed(list(handover.changes))
    ).encode()
    files["versions.txt"] = _versions(handover).encode()
    if handover.config_path is not None and handover.config_path.is_file():
        files["config.toml"] = _config(handover)
    if handover.recording is not None and len(handover.recording):
        files["recording.db"] = _recent_recording(handover)
    files["MANIFEST"] = _manifest(handover, files).encode()
    _write_tar(files, output)
    return output


def _answers(handover: Handover) -> dict[str, bytes]:
    answers = handover.answers
    assert answers is not None
    bodies: dict[str, bytes | WAError] = {
        SUPPORT: answers.support,
        HEALTH: answers.health,
        **answers.stats,
    }
    files = {}
    for path, body in bodies.items():
        name = "answers/" + path.strip("/").replace("/", "-") + ".json"
        if isinstance(body, WAError):
            files[name] = json.dumps({"error": str(body)}, indent=2).encode()
            continue
        try:
            value: object = decode_answer(body, path)
        except WAError as error:
            value = {"unreadable": str(error), "body": body[:4096].decode("utf-8", "replace")}
        noted: list[str] = []
        value = mask_tree(value, noted=noted, where=name)
        if handover.redact_phone:
            value = mask_phones(value, noted, name)
        handover.redactions += noted
        files[name] = json.dumps(value, indent=2, ensure_ascii=False).encode()
    return files


def _findings_text(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings.\n"
    return "".join(
        f"{f.severity.marker} {f.severity.name:<8} {f.code}  {visible(f.message)}\n"
        for f in findings
    )


def _versions(handover: Handover) -> str:
    lines = [f"wa-tui {__version__}", f"deployment {visible(handover.deployment)}"]
    lines.append(f"url {visible(handover.url)}")
    if handover.answers is not None:
        try:
            support = decode_answer(handover.answers.support, SUPPORT)
            meta = support.get("meta", {}) if isinstance(support, dict) else {}
            lines.append(f"API {visible(meta.get('version', 'unknown'))}")
        except WAError:
            lines.append("API unknown (support answer unreadable)")
    return "\n".join(lines) + "\n"


def _config(handover: Handover) -> bytes:
    """The config file's values, secret-looking ones masked (it never holds a password,
    but it names where they are, and a command may carry more than it should)."""
    import tomllib

    import tomli_w

    assert handover.config_path is not None
    try:
        document: Any = tomllib.loads(handover.config_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return f"# the config file could not be read: {exc}\n".encode()
    noted: list[str] = []
    masked = mask_tree(document, noted=noted, where="config.toml")
    handover.redactions += noted
    return tomli_w.dumps(masked).encode()  # type: ignore[arg-type]


# What a recording's meta says of the recorder's own life (its identity and heartbeat),
# not of how it judged: a bundle's copy writes its own.
_OWN_META = frozenset({"format", "wa_tui_version", "deployment", "url", "heartbeat"})


def _recent_recording(handover: Handover) -> bytes:
    """The last `minutes` of the recording, written again as the bundle asks (secrets
    masked once more, and phone numbers with --redact-phone), with the settings and the
    judgement each poll was recorded with."""
    recording = handover.recording
    assert recording is not None
    end = len(recording) if handover.last_poll is None else handover.last_poll + 1
    since = recording.ats[end - 1] - timedelta(minutes=handover.minutes)
    start = bisect.bisect_left(recording.ats, since, 0, end)
    settings = {k: v for k, v in recording.meta.items() if k not in _OWN_META}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "recording.db"
        recorder = Recorder(
            path,
            handover.deployment,
            handover.url,
            redact_phone=handover.redact_phone,
            settings=settings,
        )
        for index in range(start, end):
            try:
                recorder.copy(recording.poll(index), recording.judgement(index))
            except RecordingError:
                break  # a damaged poll: what came before it is handed over
        recorder.close()
        return path.read_bytes()


def _manifest(handover: Handover, files: dict[str, bytes]) -> str:
    lines = [
        f"wa-tui {__version__} hand-over bundle for {visible(handover.deployment)}",
        f"made {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}",
        "",
        "Files:",
        *(f"  {name}  ({len(body):,} bytes)" for name, body in sorted(files.items())),
        "",
        f"Redactions ({len(handover.redactions)}): secret values are masked as {MASK}; "
        + ("phone numbers too." if handover.redact_phone else "phone numbers are kept."),
        *(f"  {visible(place)}" for place in handover.redactions),
    ]
    if handover.recording is not None:
        lines += ["", f"recording.db: the last {handover.minutes:g} minutes (SQLite; see README)"]
    return "\n".join(lines) + "\n"


def archive_folder(output: Path) -> str:
    """The folder inside the archive: the file's name without `.tar.gz` or `.tgz`."""
    name = output.name
    for suffix in (".tar.gz", ".tgz"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix)
    return name


def _write_tar(files: dict[str, bytes], output: Path) -> None:
    with open_private(output) as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
        folder = archive_folder(output)
        for name, body in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(body))
