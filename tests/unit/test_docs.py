"""The docs show code that CI runs: every Python block in docs/ is cut from an example DAG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_doc_examples_are_in_sync_with_the_example_dags() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_doc_examples.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_doc_snippets_run() -> None:
    """The library snippets the docs show are executed, so they cannot rot."""
    for snippet in sorted((ROOT / "docs" / "snippets").glob("*.py")):
        result = subprocess.run([sys.executable, str(snippet)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{snippet.name}:\n{result.stdout}\n{result.stderr}"
