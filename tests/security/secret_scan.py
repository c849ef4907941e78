"""A pytest plugin that fails the session if a secret shows up in anything the tests produced.

Enabled from the root ``tests/conftest.py`` with ``pytest_plugins = ["tests.security.secret_scan"]``.

What it reads, for every test of the session:

* every log record that reaches the root logger (a handler re-attached before each test, because
  Airflow replaces the root handlers when it configures logging);
* every captured section of every test report: stdout, stderr and log, of setup, call and teardown;
* every failure report's text;
* anything a test hands it through the ``secret_scan`` fixture (XCom values, trigger rows,
  serialized DAGs, files written) with :meth:`SecretScan.scan`.

What it looks for: the test API key (``EMULATOR_API_KEY``, plus any secret registered with
:meth:`SecretScan.register_secret`) and the value of any ``Signature=`` query parameter, which is
the credential of a signed OSS result URL. Redaction markers (``***``, ``(redacted)``, ``…``) are
not findings.

Lines from third-party test infrastructure are skipped (:data:`IGNORED_LOGGERS`): moto's server
(``werkzeug`` access log of pre-signed S3 URLs it serves) and ``botocore``'s debug log of SigV4
request headers. Neither is provider output, and neither reaches an Airflow task log in a real
deployment unless the user turns on botocore debug logging.

When something is found, the session's exit status becomes "tests failed" and the terminal summary
lists where, with the secret itself replaced by a placeholder. Output is only seen when pytest
captures it (the default); with ``-s`` the plugin warns that it is blind to stdout and stderr.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["Finding", "SecretScan", "SecretScanPlugin", "find_secrets"]

#: ``Signature=<value>`` with a value that is not a redaction marker.
SIGNATURE = re.compile(
    r"Signature=(?!\(redacted\)|%28redacted%29|…|%E2%80%A6|\*\*\*)([A-Za-z0-9%+/=_.\-]{4,})"
)
_EXCERPT = 60
#: Loggers of test infrastructure whose lines are not scanned (see the module docstring).
IGNORED_LOGGERS = ("werkzeug", "botocore")
_IGNORED_NAMES = "|".join(re.escape(name) for name in IGNORED_LOGGERS)
#: A line written by an ignored logger: structlog's ``[name]`` tag or pytest's ``LEVEL name:file:line``.
_IGNORED_LINE = re.compile(
    rf"\[(?:{_IGNORED_NAMES})(?:\.[\w.]*)?\]|^[A-Z]+\s+(?:{_IGNORED_NAMES})(?:\.[\w.]*)?:"
)


@dataclass(frozen=True)
class Finding:
    """One secret seen: where, which kind, and an excerpt with the secret blanked out."""

    where: str
    what: str
    excerpt: str


def is_ignored_logger(name: str) -> bool:
    """Whether records of logger ``name`` come from ignored test infrastructure."""
    return any(name == ignored or name.startswith(f"{ignored}.") for ignored in IGNORED_LOGGERS)


def find_secrets(text: str, secrets: Iterable[str]) -> list[tuple[str, str]]:
    """Return ``(what, excerpt)`` for each secret in ``text``; excerpts never contain the secret.

    Lines written by an ignored logger (:data:`IGNORED_LOGGERS`) are left out first.
    """
    found: list[tuple[str, str]] = []
    if _IGNORED_LINE.search(text):
        text = "\n".join(line for line in text.splitlines() if not _IGNORED_LINE.search(line))
    secrets = [s for s in secrets if s]

    def excerpt(start: int, end: int) -> str:
        window = text[max(0, start - _EXCERPT) : end + _EXCERPT]
        for secret in secrets:
            window = window.replace(secret, "<API key>")
        window = SIGNATURE.sub("Signature=<signature>", window)
        return " ".join(window.split())

    for secret in secrets:
        index = text.find(secret)
        if index >= 0:
            found.append(("API key", excerpt(index, index + len(secret))))
    for match in SIGNATURE.finditer(text):
        found.append(("signed URL signature", excerpt(match.start(), match.end())))
    return found


class SecretScan:
    """The session's collected findings, and the secrets it looks for."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets = {s for s in secrets if s}
        self.findings: list[Finding] = []
        self.scanned = 0

    def register_secret(self, secret: str) -> None:
        """Look for ``secret`` too (another key a test uses)."""
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def scan(self, text: object, where: str) -> list[Finding]:
        """Scan ``text`` (anything, rendered with ``str``) and record what is found under ``where``."""
        rendered = text if isinstance(text, str) else str(text)
        with self._lock:
            secrets = set(self._secrets)
            self.scanned += 1
        new = [Finding(where, what, excerpt) for what, excerpt in find_secrets(rendered, secrets)]
        if new:
            with self._lock:
                self.findings.extend(new)
        return new


class _ScanHandler(logging.Handler):
    """Scans each log record's message (and traceback) as it is emitted."""

    def __init__(self, scan: SecretScan) -> None:
        super().__init__(level=logging.NOTSET)
        self._scan = scan
        self.current = "session"

    def emit(self, record: logging.LogRecord) -> None:
        if is_ignored_logger(record.name):
            return
        try:
            text = record.getMessage()
        except Exception:  # a record with bad args: scan what there is
            text = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        self._scan.scan(text, f"{self.current} log record {record.name}")


class SecretScanPlugin:
    """The hooks, bound to one session's :class:`SecretScan`."""

    def __init__(self, scan: SecretScan) -> None:
        self.scan = scan
        self.handler = _ScanHandler(scan)
        logging.getLogger().addHandler(self.handler)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.handler.current = item.nodeid
        root = logging.getLogger()
        if self.handler not in root.handlers:  # Airflow's logging setup replaces the root handlers
            root.addHandler(self.handler)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, content in report.sections:
            self.scan.scan(content, f"{report.nodeid} [{name}]")
        if report.failed:
            self.scan.scan(report.longreprtext, f"{report.nodeid} [failure report, {report.when}]")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        logging.getLogger().removeHandler(self.handler)
        if self.scan.findings and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        findings = self.scan.findings
        if not findings:
            terminalreporter.write_line(f"secret scan: nothing found in {self.scan.scanned} scanned texts")
            return
        terminalreporter.section("secret scan: secrets found", sep="=", red=True, bold=True)
        for finding in findings[:50]:
            terminalreporter.write_line(f"{finding.what} in {finding.where}: …{finding.excerpt}…")
        if len(findings) > 50:
            terminalreporter.write_line(f"… and {len(findings) - 50} more")


_PLUGIN_NAME = "qwenasr_secret_scan_session"


def pytest_configure(config: pytest.Config) -> None:
    from tests.conftest import EMULATOR_API_KEY

    if config.pluginmanager.has_plugin(_PLUGIN_NAME):
        return
    config.pluginmanager.register(SecretScanPlugin(SecretScan([EMULATOR_API_KEY])), _PLUGIN_NAME)
    if config.getoption("capture", "fd") == "no":
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                "secret scan: output is not captured (-s), so stdout/stderr are not scanned"
            ),
            stacklevel=2,
        )


@pytest.fixture
def secret_scan(request: pytest.FixtureRequest) -> SecretScan:
    """The session's scanner: ``secret_scan.scan(value, "where")`` checks XCom values, trigger rows, files…"""
    plugin = request.config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if plugin is None:
        pytest.skip("the secret scan plugin is not enabled (tests/conftest.py pytest_plugins)")
    return plugin.scan
