"""Fill the Python code blocks of docs/*.md from the example DAGs CI runs.

A block preceded by ``<!-- example: example_dags/FILE.py NAME -->`` gets the lines between
``# [START NAME]`` and ``# [END NAME]`` of that file, dedented. ``--check`` exits 1 when a doc is
out of date or has a Python block without a marker (tests/unit/test_docs.py runs that check).
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- example: (?P<file>\S+) (?P<name>\S+) -->\n```python\n(?P<body>.*?)```", re.S)
PYTHON_BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n", re.S)


def snippet(file: str, name: str) -> str:
    """The dedented lines between ``# [START name]`` and ``# [END name]`` in ``file``."""
    source = (ROOT / file).read_text(encoding="utf-8")
    start, end = re.escape(f"# [START {name}]"), re.escape(f"# [END {name}]")
    match = re.search(rf"{start}\n(.*?)\n[ \t]*{end}", source, re.S)
    if match is None:
        raise SystemExit(f"{file} has no [START {name}] / [END {name}] block")
    return textwrap.dedent(match.group(1)).rstrip() + "\n"


def synced(text: str) -> str:
    """``text`` with every marked block replaced by its snippet."""
    return MARKER.sub(
        lambda m: f"<!-- example: {m['file']} {m['name']} -->\n```python\n{snippet(m['file'], m['name'])}```",
        text,
    )


def unmarked_blocks(text: str) -> int:
    """How many Python blocks are not preceded by an example marker."""
    return sum(1 for m in PYTHON_BLOCK.finditer(text) if not m["before"].startswith("<!-- example:"))


def main(argv: list[str]) -> int:
    """Rewrite the docs, or with ``--check`` only report what is stale."""
    check = "--check" in argv
    problems = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        new = synced(text)
        if new != text:
            if check:
                problems.append(f"{doc.relative_to(ROOT)} is stale: run python scripts/sync_doc_examples.py")
            else:
                doc.write_text(new, encoding="utf-8")
        if unmarked_blocks(text):
            problems.append(f"{doc.relative_to(ROOT)} has a Python block that no example file backs")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
