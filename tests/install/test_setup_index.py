"""``scripts/setup.sh`` takes its packages from the index the user's pip is configured with.

A fresh checkout, an empty HOME whose ``pip.conf`` names a local index on 127.0.0.1 (the wheels uv's
cache already holds, served by ``python -m http.server``), no ``PIP_*``/``UV_*`` variables: set-up must
name that index in its one line and fetch every package it installs from it (uv's cache is empty in
that HOME, so nothing can come from elsewhere without a request to somewhere else).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.markers import Marker

from tests.install.local_index import normalize, uv_cache_wheels, wheel_from_installed, write_simple_index

ROOT = Path(__file__).resolve().parents[2]
# What the editable install of this project is built with (pyproject's [build-system]; what they
# require is served too). Its editable hook asks for `editables` besides.
BUILD_TOOLS = ("hatchling", "editables")


def _lock_names() -> set[str]:
    """The locked projects that apply to this interpreter (the lock is universal: markers)."""
    names = set()
    for line in (ROOT / "requirements-dev.lock").read_text().splitlines():
        pin, _, marker = line.partition(";")
        if (
            "==" in pin
            and not pin.startswith(" ")
            and (not marker.strip() or Marker(marker.strip()).evaluate())
        ):
            names.add(normalize(pin.split("==")[0]))
    return names


@pytest.fixture(scope="module")
def local_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The index URL, and the file the server logs its requests to."""
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.skip("set-up without uv (QWENASR_INSTALLER=pip): no uv cache to serve wheels from")
    served = tmp_path_factory.mktemp("index")
    files = served / "files"
    files.mkdir()
    uv_cache_wheels(uv, files, _lock_names() | set(BUILD_TOOLS))
    wheel_from_installed("uv", files)
    projects = write_simple_index(files, served / "simple")
    missing = _lock_names() - projects
    if missing:
        pytest.skip(f"uv's cache does not hold every locked package ({sorted(missing)[:5]}…)")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = served / "requests.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(served),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/simple"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url, log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_setup_installs_from_the_index_in_pip_conf(local_index: tuple[str, Path], tmp_path: Path) -> None:
    url, log = local_index
    project = tmp_path / "project"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in listed.splitlines():
        if name.startswith(("airflow_provider_qwenasr/", "scripts/")) or name in (
            "pyproject.toml",
            "requirements-dev.lock",
            "README.md",
            "LICENSE",
        ):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(f"[global]\nindex-url = {url}\n")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PIP_", "UV_", "XDG_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent
    )
    env["PYTHON"] = os.path.realpath(sys._base_executable)  # the interpreter .venv was made from

    done = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=project, env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"==> installing with uv from {url} (from pip.conf [global])" in done.stdout, done.stdout

    fetched = {
        normalize(m[1])
        for m in re.finditer(r'"GET /files/([A-Za-z0-9_.]+)-[^-/]+-[^ /]*\.whl HTTP', log.read_text())
    }
    venv_python = project / ".venv" / "bin" / "python"
    installed = subprocess.run(
        [
            str(venv_python),
            "-c",
            "import importlib.metadata as m; print(*(d.metadata['Name'] for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    installed_names = {normalize(name) for name in installed} - {
        "airflow-provider-qwenasr",
        "pip",
        "setuptools",
    }
    assert len(installed_names) > 150
    assert installed_names <= fetched, sorted(installed_names - fetched)
    assert "uv" in fetched
    assert "hatchling" in fetched
    subprocess.run([str(venv_python), "-c", "import airflow_provider_qwenasr.hooks"], check=True, timeout=120)
