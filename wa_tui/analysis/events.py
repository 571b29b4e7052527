"""Events: the polls worth jumping to in a replay (`{` / `}`) and listing in a report: a
finding raised or cleared, a failover, a shard moved, a node come or gone, a restart.
Said once, here, for the recorder (which writes them as it records) and for a replay
of a recording that has none written. Plain Python."""

from __future__ import annotations

from collections.abc import Iterable

from wa_tui.model.judgement import Change, ChangeKind

EVENT_KINDS = frozenset(
    {
        ChangeKind.ROLE_CHANGED,
        ChangeKind.SHARD_MOVED,
        ChangeKind.NODE_APPEARED,
        ChangeKind.NODE_DISAPPEARED,
        ChangeKind.RESTARTED,
    }
)


def event_of(before: frozenset[str], now: frozenset[str], changes: Iterable[Change]) -> str:
    """What happened at a poll whose finding codes are `now` after `before`: "" if
    nothing worth an event."""
    said = [f"raised {code}" for code in sorted(now - before)]
    said += [f"cleared {code}" for code in sorted(before - now)]
    said += [change.message for change in changes if change.kind in EVENT_KINDS]
    return "; ".join(said)
