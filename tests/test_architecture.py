"""The layout shows the data flow (docs/design.md): packages by role, no import
circle, Textual only in `wa_tui/ui/`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import wa_tui

PACKAGE = Path(wa_tui.__file__).parent
TOP_LEVEL_MODULES_AT_MOST = 8


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(path: Path, name: str) -> Iterator[str]:
    """Every module `path` imports, at module level or inside functions; what a
    `TYPE_CHECKING` block imports is never run."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    yield from walk(other)
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package[: len(package) - child.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                yield base
                yield from (f"{base}.{alias.name}" for alias in child.names)
            yield from walk(child)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")))


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {m for m in _imported(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while (top := stack.pop()) != module:
                component.append(top)
            if component:
                circles.append(sorted([module, *component]))

    for module in graph:
        if module not in index:
            visit(module)
    return circles


def test_no_module_imports_itself_through_others() -> None:
    assert _circles(_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_the_package_top_level_holds_few_modules() -> None:
    top = [p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")]
    assert len(top) <= TOP_LEVEL_MODULES_AT_MOST, sorted(top)


def test_only_the_ui_imports_textual() -> None:
    graph_of_textual = {
        name
        for name, path in _modules().items()
        if not name.startswith("wa_tui.ui")
        and any(m.split(".")[0] in ("textual",) for m in _imported(path, name))
    }
    assert graph_of_textual == set()


def _calls(name: str) -> dict[str, int]:
    """How often each module calls `name` (a dotted call, as written)."""
    found: dict[str, int] = {}
    for module, path in _modules().items():
        tree = ast.parse(path.read_text())
        count = sum(
            1
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func) == name
        )
        if count:
            found[module] = count
    return found


@pytest.mark.slow
def test_a_recording_is_opened_and_decoded_one_way() -> None:
    """One read-only opener (the writer opens its own file to write), one decoder of a
    compressed body, one keyframe marker."""
    opened = _calls("sqlite3.connect")
    assert set(opened) == {"wa_tui.recording.read_only", "wa_tui.recording.writer"}, opened
    decoded = _calls("zlib.decompress")
    assert set(decoded) == {"wa_tui.recording.codec"}, decoded
    marker = [
        module
        for module, path in _modules().items()
        if "X'4B'" in path.read_text() or 'b"K"' in path.read_text()
    ]
    assert marker == ["wa_tui.recording.codec"], marker


def test_the_ui_asks_a_source_what_it_can_do_never_what_kind_it_is() -> None:
    """Live, replay and follow are sources the dashboard asks capabilities of
    (`watcher.can`, `watcher.said()`), not kinds it tells apart."""
    kinds = ("Watcher", "ReplayWatcher", "FollowWatcher")
    found = []
    for module, path in _modules().items():
        if not module.startswith("wa_tui.ui"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            kind_asked = (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "isinstance"
                and any(k in ast.unparse(node.args[1]).split(".")[-1] for k in kinds)
            )
            status_asked = (
                isinstance(node, ast.Attribute)
                and node.attr in ("replay", "following")
                and ast.unparse(node.value).endswith("status")
            )
            if kind_asked or status_asked:
                found.append(f"{module}: {ast.unparse(node)}")
    assert not found, found


def test_no_message_handler_calls_its_parents() -> None:
    """Textual calls the handler of every class in a node's MRO that defines one
    (`on_x`): a handler that also calls `super().on_x()` runs its parents twice. A
    subclass extends a plain method the one handler calls instead (WaTuiApp.panes_ready)."""
    found = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("on_"):
                continue
            calls = (ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call))
            if f"super().{node.name}" in calls and node.name != "on_event":
                found.append(f"{module}.{node.name}")
    assert not found, found
