"""What a typed, packaged provider keeps true: ``py.typed``, the documented import paths, one version.

- ``py.typed`` is in the package (and not ignored by git, so hatch puts it in the wheel);
- every name the docs and the README import (``from airflow_provider_qwenasr… import …``) imports;
- ``docs/changelog.md``'s newest version, ``get_provider_info()["versions"][0]`` and
  ``__version__`` are one version.
"""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import airflow_provider_qwenasr
from airflow_provider_qwenasr import __version__, get_provider_info

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(airflow_provider_qwenasr.__file__).parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
#: ``from airflow_provider_qwenasr.x import a, b`` or ``import (\n a,\n b,\n)``, in any code block.
_IMPORT = re.compile(r"^\s*from (airflow_provider_qwenasr[\w.]*) import (\([^)]*\)|[^\n]+)", re.MULTILINE)


def _documented_imports() -> list[tuple[str, str, str]]:
    """``(document, module, name)`` for each name the documents import from the package."""
    found = []
    for document in DOCUMENTS:
        for match in _IMPORT.finditer(document.read_text(encoding="utf-8")):
            statement = f"from {match.group(1)} import {match.group(2)}"
            node = ast.parse(statement.strip()).body[0]
            assert isinstance(node, ast.ImportFrom)
            found.extend((document.name, match.group(1), alias.name) for alias in node.names)
    return found


DOCUMENTED = _documented_imports()


def test_the_docs_import_something() -> None:
    """The scan finds the imports (a broken pattern would pass every case below vacuously)."""
    assert {"QwenASRSubmitTranscriptionOperator", "QwenASRTaskSensor", "QwenASRHook"} <= {
        name for _, _, name in DOCUMENTED
    }


@pytest.mark.parametrize(
    ("document", "module", "name"), DOCUMENTED, ids=[f"{d}:{m}.{n}" for d, m, n in DOCUMENTED]
)
def test_each_documented_name_imports_from_its_documented_path(document: str, module: str, name: str) -> None:
    imported = importlib.import_module(module)
    assert hasattr(imported, name), f"{document} imports {name} from {module}, which has no such name"
    exported = getattr(imported, "__all__", None)
    assert exported is None or name in exported, f"{document} imports {name}, not in {module}.__all__"


def test_py_typed_ships_in_the_package() -> None:
    marker = PACKAGE / "py.typed"
    assert marker.is_file()
    if shutil.which("git") and (ROOT / ".git").exists():
        # hatch leaves out what git ignores; 1 means "not ignored".
        ignored = subprocess.run(
            ["git", "-C", str(ROOT), "check-ignore", "-q", str(marker)], check=False, capture_output=True
        )
        assert ignored.returncode == 1, "py.typed is git-ignored, so the wheel would leave it out"


def test_the_changelog_the_provider_info_and_the_package_agree_on_the_version() -> None:
    changelog = (ROOT / "docs" / "changelog.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\d+\.\d+\.\d+\S*)", changelog, flags=re.MULTILINE)
    assert newest, "docs/changelog.md has no '## X.Y.Z' section"
    assert newest.group(1) == __version__
    assert get_provider_info()["versions"][0] == __version__
