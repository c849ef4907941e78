"""Regenerate the UI screenshots embedded in docs/ui.md.

Runs the browser test (``tests/ui/test_browser.py``: a real Airflow on 127.0.0.1, the DashScope
emulator and headless Chromium), which saves its screenshots, then copies them into
``docs/images/ui/``. Needs Debian's ``chromium`` and ``chromium-driver`` and ``selenium``.

Usage: ``.venv/bin/python scripts/ui_screenshots.py``
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_IMAGES = REPO_ROOT / "docs" / "images" / "ui"
SCREENSHOTS = ("transcript-tab.png", "transcriptions-page.png", "transcriptions-spend.png", "failed-task.png")


def main() -> int:
    """Run the browser test into a scratch folder and copy its screenshots into the docs."""
    with tempfile.TemporaryDirectory(prefix="qwenasr-ui-shots-") as scratch:
        env = {**os.environ, "QWENASR_TEST_ARTIFACTS": scratch}
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "e2e",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/ui/test_browser.py",
        ]
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False)  # noqa: S603 - fixed argv
        if result.returncode != 0:
            print("the browser test failed; screenshots not updated", file=sys.stderr)
            return result.returncode
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        for name in SCREENSHOTS:
            shutil.copyfile(Path(scratch, "ui", name), DOCS_IMAGES / name)
            print(f"updated {DOCS_IMAGES.relative_to(REPO_ROOT) / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
