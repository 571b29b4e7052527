"""How states look: a text marker plus a colour, so they read in 16 colours, over SSH
and with NO_COLOR. Node table, topology and detail all draw states through here."""

from __future__ import annotations

from rich.text import Text

from wa_tui.core.text import visible
from wa_tui.model.judgement import Severity
from wa_tui.model.snapshot import DeploymentKind, Node, Role, SocketState

# marker, short label, style
SOCKET_LOOK: dict[SocketState, tuple[str, str, str]] = {
    SocketState.UP: ("✔", "UP", "green"),
    SocketState.UP_RECEIVING_OFFLINE: ("↓", "UP receiving offline", "cyan"),
    SocketState.CONNECTING: ("◌", "SC", "yellow"),
    SocketState.DOWN: ("✖", "DN", "bold red"),
    SocketState.UNKNOWN: ("?", "UNK", "magenta"),
}
STANDBY_LOOK = ("○", "DN standby", "dim")
UNASSIGNED_LOOK = ("‼", "unassigned", "bold white on red")
CONFLICT_LOOK = ("⚠", "conflict", "bold white on red")

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "dim",
}

ROLE_LOOK: dict[str, tuple[str, str]] = {
    Role.PRIMARY_MASTER: ("★ primary", "bold"),
    Role.SECONDARY_MASTER: ("☆ secondary", ""),
    Role.COREAPP: ("coreapp", ""),
}

GATEWAY_STYLE = {
    "connected": "green",
    "connecting": "yellow",
    "disconnected": "red",
    "uninitialized": "yellow",
    "unregistered": "red",
}


def socket_look(node: Node) -> tuple[str, str, str]:
    """A standby's DN is its normal state: drawn dim, not red."""
    if node.socket is SocketState.DOWN and node.is_standby:
        return STANDBY_LOOK
    return SOCKET_LOOK[node.socket]


def socket_badge(node: Node) -> Text:
    marker, label, style = socket_look(node)
    if node.socket is SocketState.UNKNOWN and node.support.socket_conn not in (None, "UNK"):
        label = f"UNK ({visible(node.support.socket_conn, limit=20)})"
    return Text(f"{marker} {label}", style=style)


def role_badge(node: Node, kind: DeploymentKind) -> Text:
    """A coreapp owning no shard is a spare in multiconnect, a standby in HA."""
    if node.role is None:
        return Text("single" if kind is DeploymentKind.SINGLE else "—", style="dim")
    label, style = ROLE_LOOK.get(node.role, (visible(node.role, limit=20), "magenta"))
    if node.role == Role.COREAPP and not node.shards:
        return Text("spare" if kind is DeploymentKind.MULTICONNECT else "standby", style="dim")
    return Text(label, style=style)


def gateway_badge(node: Node, short: bool = False) -> Text:
    """The gateway status from /v1/health; `short`: its first four letters, for a list
    on a medium terminal (the detail always says it whole)."""
    status = node.gateway_status
    if node.errors:
        return Text("✖ error", style="bold red")
    if status is None:
        return Text("—", style="dim")
    style = "dim" if node.is_standby else GATEWAY_STYLE.get(status, "magenta")
    return Text(visible(status[:4] if short else status, limit=20), style=style)


def severity_mark(severity: Severity) -> Text:
    return Text(severity.marker, style=SEVERITY_STYLE[severity])


def severity_badge(severity: Severity | None) -> Text:
    """A node's or deployment's worst finding; nothing when there is none to see."""
    if severity is None or severity is Severity.INFO:
        return Text("")
    return severity_mark(severity)


def shards_label(shards: tuple[int, ...]) -> str:
    return ",".join(str(s) for s in shards) if shards else "—"
