"""A PEP 503 package index on 127.0.0.1 built from the wheels this machine already holds.

uv keeps every wheel it installed unpacked in its cache (``archive-v0/<id>/``, the wheel's own files,
``RECORD`` and ``.data`` included); zipping such a directory again gives back an installable wheel.
Packages pip installed (uv itself) are rebuilt from their ``RECORD``. No network is used.
"""

from __future__ import annotations

import html
import importlib.metadata
import re
import subprocess
import zipfile
from collections.abc import Iterable
from pathlib import Path


def normalize(name: str) -> str:
    """PEP 503's normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_name(dist_info: Path) -> str:
    name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist_info / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    ]
    parts = [sorted({tag.split("-")[i] for tag in tags}) for i in range(3)]
    return f"{name}-{version}-{'-'.join('.'.join(part) for part in parts)}.whl"


def wheel_from_unpacked(root: Path, out: Path) -> Path | None:
    """Zip an unpacked wheel directory into *out*; None if *root* holds no ``.dist-info``."""
    dist_infos = [path for path in root.glob("*.dist-info") if (path / "WHEEL").is_file()]
    if len(dist_infos) != 1:
        return None
    target = out / _wheel_name(dist_infos[0])
    if not target.exists():
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(root).as_posix())
    return target


def wheel_from_installed(name: str, out: Path) -> Path:
    """Rebuild the wheel of an installed distribution from its ``RECORD`` (scripts go to ``.data``)."""
    dist = importlib.metadata.distribution(name)
    files = dist.files or []
    dist_info = Path(str(dist.locate_file(next(f for f in files if f.name == "WHEEL")))).parent
    data = f"{dist_info.name.removesuffix('.dist-info')}.data"
    target = out / _wheel_name(dist_info)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for file in files:
            source = Path(str(dist.locate_file(file)))
            parts = file.parts
            if "__pycache__" in parts or not source.is_file():
                continue
            if parts[0] == "..":  # ../../../bin/uv -> uv-0.13.9.data/scripts/uv
                if "bin" not in parts:
                    continue
                arcname = f"{data}/scripts/{file.name}"
            else:
                arcname = file.as_posix()
            archive.write(source, arcname)
    return target


def _requires(dist_info: Path) -> set[str]:
    """The projects a wheel's METADATA requires, extras' requirements left out."""
    names = set()
    for line in (dist_info / "METADATA").read_text(errors="replace").splitlines():
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            names.add(normalize(re.split(r"[\s;<>=!~\[(]", line.split(":", 1)[1].strip(), maxsplit=1)[0]))
    return names


def uv_cache_wheels(uv: Path, out: Path, names: Iterable[str]) -> list[Path]:
    """Rebuild the wheels of *names* and of what they require, from uv's cache."""
    cache = Path(
        subprocess.run([str(uv), "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    )
    unpacked: dict[str, list[Path]] = {}
    for root in sorted((cache / "archive-v0").glob("*/")):
        dist_info = next(root.glob("*.dist-info"), None)
        if dist_info and (dist_info / "WHEEL").is_file():
            unpacked.setdefault(
                normalize(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]), []
            ).append(root)
    wanted, todo = set(), {normalize(name) for name in names}
    while todo:
        name = todo.pop()
        wanted.add(name)
        for root in unpacked.get(name, []):
            todo |= _requires(next(root.glob("*.dist-info"))) - wanted
    return [
        wheel
        for name in sorted(wanted)
        for root in unpacked.get(name, [])
        if (wheel := wheel_from_unpacked(root, out))
    ]


def write_simple_index(files: Path, index: Path) -> set[str]:
    """``index/<project>/index.html`` pages linking to each wheel in *files*; the projects served."""
    projects: dict[str, list[str]] = {}
    for wheel in sorted(files.glob("*.whl")):
        projects.setdefault(normalize(wheel.name.split("-", 1)[0]), []).append(wheel.name)
    for project, names in projects.items():
        page = index / project
        page.mkdir(parents=True, exist_ok=True)
        links = "".join(f'<a href="../../files/{html.escape(n)}">{html.escape(n)}</a>\n' for n in names)
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    root = "".join(f'<a href="{p}/">{p}</a>\n' for p in sorted(projects))
    (index / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{root}</body></html>\n")
    return set(projects)
