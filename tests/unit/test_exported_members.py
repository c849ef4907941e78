"""``__all__`` stays true: it names what a module defines, and what the rest of the package imports.

Modelled on httpx's ``test_exported_members``: a name other modules import from a module is part of
its interface, so it belongs in that module's ``__all__`` (or starts with ``_``: a private helper
shared inside one package, like ``formats._WRITERS``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import airflow_provider_qwenasr

PACKAGE = Path(airflow_provider_qwenasr.__file__).parent
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="airflow_provider_qwenasr.")
    # The UI needs the api-server's FastAPI stack; the emulator is a separate program.
    if not info.name.startswith(("airflow_provider_qwenasr.emulator",))
)


def _source(module: str) -> Path:
    relative = Path(*module.split(".")[1:])
    package = PACKAGE / relative / "__init__.py"
    return package if package.exists() else PACKAGE / relative.with_suffix(".py")


def _imports_from_the_package() -> list[tuple[str, str, str]]:
    """``(importer, imported module, name)`` of every ``from airflow_provider_qwenasr.x import name``."""
    found = []
    for module in MODULES:
        tree = ast.parse(_source(module).read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").startswith("airflow_provider_qwenasr")
            ):
                found.extend((module, str(node.module), alias.name) for alias in node.names)
    return found


def _is_submodule(package: str, name: str) -> bool:
    imported = importlib.import_module(package)
    return hasattr(imported, "__path__") and importlib.util.find_spec(f"{package}.{name}") is not None


@pytest.mark.parametrize("module", MODULES)
def test_every_name_in_all_exists(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in getattr(imported, "__all__", ()) if not hasattr(imported, name)]
    assert not missing, f"{module}.__all__ names what it does not define: {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_all_has_no_duplicates(module: str) -> None:
    names = list(getattr(importlib.import_module(module), "__all__", ()))
    assert len(names) == len(set(names)), f"{module}.__all__ repeats a name"


def test_what_the_package_imports_from_a_module_is_in_its_all() -> None:
    drift = []
    for importer, source, name in _imports_from_the_package():
        if name.startswith("_") or source not in MODULES:
            continue
        exported = getattr(importlib.import_module(source), "__all__", None)
        if exported is None:
            continue
        if name in exported or _is_submodule(source, name):
            continue
        drift.append(f"{importer} imports {name} from {source}")
    assert not drift, "names used across modules but missing from __all__:\n" + "\n".join(sorted(drift))


@pytest.mark.parametrize("module", MODULES)
def test_every_public_class_and_function_a_module_defines_is_in_its_all(module: str) -> None:
    imported = importlib.import_module(module)
    exported = getattr(imported, "__all__", None)
    if exported is None:
        pytest.skip(f"{module} has no __all__")
    defined = {
        name
        for name, value in vars(imported).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module
    }
    assert defined <= set(exported), (
        f"{module} defines but does not export: {sorted(defined - set(exported))}"
    )
