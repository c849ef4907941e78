"""``scripts/install_deps.py``: pip's configuration, read the way pip reads it, handed to uv."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def install_deps() -> ModuleType:
    spec = importlib.util.spec_from_file_location("install_deps", ROOT / "scripts" / "install_deps.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["install_deps"] = module
    spec.loader.exec_module(module)
    return module


LISTING = """\
global.index-url='https://mirrors.example.cn/pypi/simple'
global.extra-index-url='https://a.example/simple https://b.example/simple'
install.index-url='https://install-section.example/simple'
global.trusted-host='mirrors.example.cn'
global.cert='/etc/ssl/corp.pem'
:env:.find-links='/opt/wheels'
site.index-url='ignored, not a section pip applies'
"""


def test_environment_beats_install_section_beats_global(install_deps: ModuleType) -> None:
    config = install_deps.parse_pip_config(LISTING + ":env:.index-url='https://env.example/simple'\n")
    assert config["index-url"] == ("https://env.example/simple", "PIP_INDEX_URL")
    assert install_deps.parse_pip_config(LISTING)["index-url"] == (
        "https://install-section.example/simple",
        "pip.conf [install]",
    )


def test_settings_become_uv_options(install_deps: ModuleType) -> None:
    settings = install_deps.pip_settings(install_deps.parse_pip_config(LISTING))
    args, env = install_deps.uv_invocation(settings)
    assert args == [
        "--index-url", "https://install-section.example/simple",
        "--extra-index-url", "https://a.example/simple",
        "--extra-index-url", "https://b.example/simple",
        "--find-links", "/opt/wheels",
        "--allow-insecure-host", "mirrors.example.cn",
    ]  # fmt: skip
    assert env["SSL_CERT_FILE"] == "/etc/ssl/corp.pem"
    assert env["UV_INDEX_STRATEGY"] == "unsafe-best-match"  # pip's "best version across indexes"
    assert settings.describe() == (
        "https://install-section.example/simple (from pip.conf [install]) + extra index "
        "https://a.example/simple + extra index https://b.example/simple + find-links /opt/wheels"
    )


def test_no_index_and_default(install_deps: ModuleType) -> None:
    settings = install_deps.pip_settings(install_deps.parse_pip_config(":env:.no-index='1'\n"))
    assert install_deps.uv_invocation(settings)[0] == ["--no-index"]
    default = install_deps.pip_settings({})
    assert default.describe() == "https://pypi.org/simple (pip's default)"


def test_credentials_never_printed(install_deps: ModuleType) -> None:
    settings = install_deps.pip_settings(
        install_deps.parse_pip_config(
            ":env:.index-url='https://alice:s3cret@mirror.example/simple'\n"
            ":env:.extra-index-url='https://tok3n@other.example/simple'\n"
        )
    )
    line = settings.describe()
    assert "s3cret" not in line
    assert "tok3n" not in line
    assert "https://alice:****@mirror.example/simple" in line
    assert "https://****@other.example/simple" in line


def test_client_cert_falls_back_to_pip(
    install_deps: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    class Done:
        returncode = 0

    monkeypatch.setattr(install_deps, "_pip_config_listing", lambda: ":env:.client-cert='/etc/me.pem'\n")
    monkeypatch.setattr(install_deps.shutil, "which", lambda *a, **k: "/venv/bin/uv")
    monkeypatch.setattr(
        install_deps.subprocess, "run", lambda command, **kwargs: calls.append(command) or Done()
    )
    assert install_deps.main(["-r", "lock.txt"]) == 0
    assert "client-cert has no uv equivalent" in capsys.readouterr().out
    assert calls == [
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "lock.txt"]
    ]


def test_uv_failure_retries_with_pip(
    install_deps: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    class Done:
        def __init__(self, code: int) -> None:
            self.returncode = code

    monkeypatch.setattr(install_deps, "_pip_config_listing", lambda: "")
    monkeypatch.setattr(install_deps.shutil, "which", lambda *a, **k: "/venv/bin/uv")
    monkeypatch.setattr(
        install_deps.subprocess,
        "run",
        lambda command, **kwargs: calls.append(command) or Done(1 if command[0].endswith("uv") else 0),
    )
    assert install_deps.main(["-r", "lock.txt", "-e", "."]) == 0
    assert "trying again with pip" in capsys.readouterr().out
    assert [command[0] for command in calls] == ["/venv/bin/uv", sys.executable, sys.executable]
    assert calls[-1][-3:] == ["--no-deps", "-e", "."]
