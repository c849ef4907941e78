"""The UI package's import graph: no cycle (function-level imports included), route strings in one leaf.

Read from the source with ``ast``, so an import hidden inside a function (the way a cycle is
usually "held apart") counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_provider_qwenasr.ui as ui_package

PACKAGE = "airflow_provider_qwenasr"
UI = f"{PACKAGE}.ui"
UI_DIR = Path(ui_package.__file__).parent
MODULES = sorted(p.stem for p in UI_DIR.glob("*.py") if p.stem != "__init__")


def _imports(module: str) -> set[str]:
    """Every module of the package that ``ui.<module>`` imports, anywhere in its source."""
    tree = ast.parse((UI_DIR / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: ``.x`` is ui.x, ``..x`` is the package's x
                parent = UI.rsplit(".", node.level - 1)[0] if node.level > 1 else UI
                base = f"{parent}.{base}" if base else parent
            if not base.startswith(PACKAGE):
                continue
            found.add(base)
            if base == UI:  # ``from airflow_provider_qwenasr.ui import links`` imports ui.links
                found.update(f"{UI}.{alias.name}" for alias in node.names if alias.name in MODULES)
    return found


def _ui_edges() -> dict[str, set[str]]:
    return {
        m: {i[len(UI) + 1 :] for i in _imports(m) if i.startswith(UI + ".")} & set(MODULES) for m in MODULES
    }


def test_the_ui_modules_import_no_cycle() -> None:
    """Depth-first search for a back edge in ui/'s import graph."""
    edges = _ui_edges()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for imported in sorted(edges[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in MODULES:
        visit(module, [])


def test_routes_is_a_leaf_read_by_the_plugin_the_app_and_the_links() -> None:
    """ui.routes imports nothing of the package; every module that names a route imports it."""
    assert not _imports("routes")
    for module in ("plugin", "app", "links"):
        assert f"{UI}.routes" in _imports(module), module


def _string_constants(module: str) -> set[str]:
    """The module's string literals, docstrings left out (they may name a route in prose)."""
    tree = ast.parse((UI_DIR / f"{module}.py").read_text(encoding="utf-8"))
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
    }


@pytest.mark.parametrize("module", [m for m in MODULES if m != "routes"])
def test_route_strings_are_written_only_in_routes(module: str) -> None:
    """No other module types a route path, the mount prefix or a UI route name."""
    typed = [
        text
        for text in _string_constants(module)
        if "/qwen-asr" in text
        or "qwen-asr-" in text
        or text.startswith(("/ti/", "/transcriptions"))
        or "{dag_id}" in text
    ]
    assert typed == [], f"ui/{module}.py types route strings {typed}: import them from ui.routes"
