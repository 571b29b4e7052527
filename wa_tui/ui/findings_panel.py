"""The findings panel: what is wrong, worst first, one line each."""

from __future__ import annotations

from rich.text import Text

from wa_tui.core.text import visible
from wa_tui.model.judgement import Finding
from wa_tui.ui.badges import severity_mark
from wa_tui.ui.poll_view import PollView
from wa_tui.ui.redraw import Block, SizedStatic

ALL_CLEAR = Text(
    "✔ No findings: masters, shards, sockets, builds and disks look healthy.", style="green"
)


def render_findings(findings: tuple[Finding, ...]) -> Text:
    if not findings:
        return ALL_CLEAR
    lines = []
    for finding in findings:
        lines.append(
            Text.assemble(
                severity_mark(finding.severity),
                " ",
                (f"{finding.code} ", "bold"),
                visible(finding.message, limit=400),
            )
        )
    return Text("\n").join(lines)


class FindingsPanel(SizedStatic):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("Waiting for the first answer…", style="dim"), id=id)
        self._shown: tuple[Finding, ...] | None = None

    def show(self, view: PollView) -> None:
        if view.findings == self._shown:
            return
        self._shown = view.findings
        self.show_content(render_findings(view.findings))

    def reset(self) -> None:
        """Nothing to forget: the next poll's findings are drawn if they differ."""


class FindingsLine(Block):
    """On a narrow terminal, the findings in one line: their count by severity and the
    worst codes (`enter` on a node, or the wide layout, shows them whole)."""

    def show(self, view: PollView) -> None:
        findings = view.findings
        if not findings:
            line = Text("✔ no findings", style="green")
        else:
            worst = findings[0].severity
            codes = ", ".join(dict.fromkeys(f.code for f in findings))
            line = Text.assemble(
                severity_mark(worst),
                (f" {len(findings)} finding{'s' if len(findings) > 1 else ''}: ", "bold"),
                visible(codes, limit=200),
            )
        line.no_wrap, line.overflow = True, "ellipsis"
        self.update(line, layout=False)

    def reset(self) -> None:
        """Nothing to forget: the line is drawn whole each poll."""
