"""docs/models.md shows the model table of ``_api/catalog.py``, generated, so the two cannot drift.

To rewrite the page after changing the catalog: ``.venv/bin/python scripts/gen_model_table.py``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from airflow_provider_qwenasr._api.catalog import FAMILIES, ModelFamily, known_models

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "models.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_model_table", ROOT / "scripts" / "gen_model_table.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _generated_part() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.partition(GEN.START)[2].partition(GEN.END)[0]


def test_the_page_is_in_sync_with_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """Regression guard: edit the catalog without rerunning the script and this fails."""
    status = GEN.main(["--check"])
    assert status == 0, capsys.readouterr().err + "\nrun: .venv/bin/python scripts/gen_model_table.py"


@pytest.mark.parametrize("model", known_models())
def test_every_model_of_the_catalog_is_in_the_table(model: str) -> None:
    assert f"`{model}`" in _generated_part()


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.key)
def test_every_family_is_a_column_and_says_what_it_assumes(family: ModelFamily) -> None:
    part = _generated_part()
    assert f"{family.title} (`{family.key}`)" in part
    (line,) = [line for line in part.splitlines() if line.startswith(f"- **{family.title}**:")]
    for fact in family.assumed:
        assert fact in line


def test_every_table_row_has_one_cell_per_family() -> None:
    rows = [line for line in _generated_part().splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(GEN.ROWS)
    for row in rows:
        # A pipe inside a cell is escaped (``\\|``), or it would split the cell.
        cells = re.split(r"(?<!\\)\|", row)[1:-1]
        assert len(cells) == 1 + len(FAMILIES), row


def test_the_check_finds_a_stale_page_and_the_rewrite_keeps_the_prose(tmp_path: Path) -> None:
    page = tmp_path / "models.md"
    page.write_text(f"# Intro\n\nprose\n\n{GEN.START}\nold table\n{GEN.END}\n\nafter\n", encoding="utf-8")
    assert GEN.main(["--check", "--doc", str(page)]) == 1
    assert "old table" in page.read_text(encoding="utf-8")
    assert GEN.main(["--doc", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Intro\n\nprose\n\n")
    assert text.endswith(f"{GEN.END}\n\nafter\n")
    assert "old table" not in text
    assert GEN.main(["--check", "--doc", str(page)]) == 0


def test_a_page_without_markers_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "models.md"
    page.write_text("no markers here\n", encoding="utf-8")
    assert GEN.main(["--check", "--doc", str(page)]) == 2


def test_the_page_is_linked_from_the_index() -> None:
    assert "(models.md)" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
