"""The built wheel holds what a typed provider ships: ``py.typed`` beside the package's modules."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")


@pytest.mark.skipif(not UV.exists(), reason="uv (installed by scripts/setup.sh) builds the wheel")
def test_the_wheel_ships_py_typed_and_the_extra_link(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "airflow_provider_qwenasr/py.typed" in names
    assert "airflow_provider_qwenasr/operators/links.py" in names
