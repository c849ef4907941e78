"""Install pinned requirements into this interpreter's environment, honouring the user's pip setup.

Used by ``scripts/setup.sh`` as ``.venv/bin/python scripts/install_deps.py -r requirements-dev.lock -e .``.

uv is fast but reads none of pip's configuration: an index mirror in ``pip.conf`` or ``PIP_INDEX_URL``,
extra indexes, find-links, trusted hosts and pip's ``cert`` would all be bypassed. So this script asks
pip for its configuration (the same files and ``PIP_*`` variables ``pip install`` reads, in pip's order:
``[global]``, then ``[install]``, then the environment), hands uv the equivalent options, says in one
line which index is used, and installs with pip itself when uv is missing, cannot express the setup
(a client certificate) or fails.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PYPI = "https://pypi.org/simple"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class PipSettings:
    """The parts of pip's effective ``install`` configuration that decide where packages come from."""

    index_url: str = PYPI
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    trusted_hosts: tuple[str, ...] = ()
    cert: str | None = None
    client_cert: str | None = None
    constraints: tuple[str, ...] = ()
    proxy: str | None = None
    timeout: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line naming the index and the other sources, credentials masked."""
        if self.no_index:
            where = "no index"
        else:
            where = mask_credentials(self.index_url)
            if self.index_url == PYPI:
                where += " (pip's default)"
            else:
                where += f" (from {self.sources.get('index-url', 'pip config')})"
        extras = [f"extra index {mask_credentials(url)}" for url in self.extra_index_urls]
        extras += [f"find-links {mask_credentials(link)}" for link in self.find_links]
        return where + "".join(f" + {extra}" for extra in extras)


def mask_credentials(url: str) -> str:
    """``https://user:secret@host/`` -> ``https://user:****@host/``; a bare token is the secret itself."""

    def masked(match: re.Match[str]) -> str:
        user, has_password, _ = match[1].partition(":")
        return f"//{user}:****@" if has_password else "//****@"

    return re.sub(r"//([^/@]+)@", masked, url)


def parse_pip_config(listing: str) -> dict[str, tuple[str, str]]:
    """Effective values from ``pip config list``: option -> (value, where it came from).

    pip applies its options in the order ``[global]``, the command's section (``[install]``), then
    ``PIP_*`` variables (``:env:``); a later value replaces an earlier one, lists included.
    """
    ranked: dict[str, tuple[int, str, str]] = {}
    order = {"global": 0, "install": 1, ":env:": 2}
    for line in listing.splitlines():
        key, sep, raw = line.partition("=")
        section, dot, option = key.rpartition(".")
        if not sep or not dot or section not in order:
            continue
        value = ast.literal_eval(raw)
        rank = order[section]
        if option not in ranked or ranked[option][0] <= rank:
            where = (
                f"PIP_{option.upper().replace('-', '_')}" if section == ":env:" else f"pip.conf [{section}]"
            )
            ranked[option] = (rank, str(value), where)
    return {option: (value, where) for option, (_, value, where) in ranked.items()}


def pip_settings(config: dict[str, tuple[str, str]]) -> PipSettings:
    """The settings pip would use, from :func:`parse_pip_config`'s answer."""

    def value(*names: str) -> str | None:
        for name in names:
            if name in config:
                return config[name][0]
        return None

    def values(*names: str) -> tuple[str, ...]:
        return tuple((value(*names) or "").split())

    return PipSettings(
        index_url=value("index-url") or PYPI,
        extra_index_urls=values("extra-index-url"),
        find_links=values("find-links"),
        no_index=(value("no-index") or "").lower() in _TRUE,
        trusted_hosts=values("trusted-host"),
        cert=value("cert"),
        client_cert=value("client-cert"),
        constraints=values("constraint"),
        proxy=value("proxy"),
        timeout=value("timeout", "default-timeout"),
        sources={name: where for name, (_, where) in config.items()},
    )


def uv_invocation(settings: PipSettings) -> tuple[list[str], dict[str, str]]:
    """uv's options and environment that mean what *settings* mean to pip."""
    args: list[str] = []
    if settings.no_index:
        args.append("--no-index")
    else:
        args += ["--index-url", settings.index_url]
        for url in settings.extra_index_urls:
            args += ["--extra-index-url", url]
    for link in settings.find_links:
        args += ["--find-links", link]
    for host in settings.trusted_hosts:
        args += ["--allow-insecure-host", host]
    for constraint in settings.constraints:
        args += ["--constraint", constraint]
    # pip takes the best version across all indexes; uv's default stops at the first index that
    # has the name at all. The system certificate store, as pip's truststore does (both spellings:
    # UV_NATIVE_TLS before uv 0.9, UV_SYSTEM_CERTS after).
    env = {"UV_INDEX_STRATEGY": "unsafe-best-match", "UV_NATIVE_TLS": "1", "UV_SYSTEM_CERTS": "1"}
    if settings.cert:
        env["SSL_CERT_FILE"] = settings.cert
    if settings.proxy:
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = settings.proxy
    if settings.timeout:
        env["UV_HTTP_TIMEOUT"] = settings.timeout
    return args, env


def _pip_config_listing() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else ""


def _install_commands(requirements: list[str], editable: list[str]) -> list[list[str]]:
    commands = [["-r", path] for path in requirements]
    commands += [["--no-deps", "-e", path] for path in editable]
    return commands


def main(argv: list[str] | None = None) -> int:
    """Install ``-r`` files, then ``-e`` projects without their dependencies; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", dest="requirements", action="append", default=[], help="a requirements file")
    parser.add_argument("-e", dest="editable", action="append", default=[], help="a project, editable")
    parser.add_argument("--uv", help="the uv to use (default: the one beside this Python)")
    options = parser.parse_args(argv)

    settings = pip_settings(parse_pip_config(_pip_config_listing()))
    uv = options.uv or shutil.which("uv", path=str(Path(sys.executable).parent))
    installer = os.environ.get("QWENASR_INSTALLER", "uv")
    if installer == "uv" and uv and settings.client_cert:
        print("==> pip's client-cert has no uv equivalent; installing with pip")
        installer = "pip"
    if installer == "uv" and not uv:
        installer = "pip"
    print(f"==> installing with {installer} from {settings.describe()}", flush=True)

    commands = _install_commands(options.requirements, options.editable)
    if installer == "uv" and uv:
        args, extra_env = uv_invocation(settings)
        env = {**os.environ, **extra_env}
        base = [uv, "pip", "install", "--quiet", "--python", sys.executable, *args]
        runs = (subprocess.run([*base, *command], env=env, check=False) for command in commands)  # noqa: S603
        if all(run.returncode == 0 for run in runs):
            return 0
        print("==> uv could not install (its message is above); trying again with pip", flush=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for command in commands:
        if subprocess.run([*pip, *command], check=False).returncode != 0:  # noqa: S603 - our own argv
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
