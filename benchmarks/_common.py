"""Helpers shared by the benchmark scripts: a free port, the emulator in its own process, the
connection variable, resource readings and a plain-text table.

The emulator runs in a *separate process* so that the CPU it spends answering does not count
against the process under measurement (the triggerer's event loop, in production, does not serve
DashScope either). Every script stops what it started by process id.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "API_KEY",
    "REPO",
    "EmulatorProcess",
    "connection_json",
    "cpu_seconds",
    "free_port",
    "machine_summary",
    "median",
    "peak_rss_mb",
    "percentile",
    "print_table",
    "raise_nofile_limit",
    "rss_mb",
]

#: The key every benchmark uses against its emulator.
API_KEY = "sk-benchmark-key-0123456789abcdef"
#: The repository root (benchmarks run from anywhere).
REPO = Path(__file__).resolve().parent.parent
_PYTHON = sys.executable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_nofile_limit(wanted: int = 65536) -> int:
    """Raise this process's soft open-file limit towards ``wanted`` (never above the hard limit).

    :returns: the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def _raise_child_nofile() -> None:
    raise_nofile_limit()


@dataclass
class EmulatorProcess:
    """``qwenasr-emulator`` in a child process on a free loopback port.

    :param query_qps: the per-key query quota (<= 0: unlimited).
    :param extra_args: more command-line options.
    """

    query_qps: float = 20.0
    extra_args: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:port``: home of the control API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The DashScope base URL to give clients."""
        return f"{self.root_url}/api/v1"

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self, timeout: float = 30.0) -> EmulatorProcess:
        """Start the child and wait until its control API answers."""
        command = [
            _PYTHON,
            "-m",
            "airflow_provider_qwenasr.emulator.cli",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--api-key",
            API_KEY,
            "--query-qps",
            str(self.query_qps),
            *self.extra_args,
        ]
        self._process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_raise_child_nofile,  # it accepts one socket (and thread) per connection
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the emulator exited with code {self._process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.root_url}/emulator-api/config", timeout=1.0).raise_for_status()
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not answer on port {self.port} within {timeout}s")

    def stop(self) -> None:
        """Stop the child by its pid (SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def control(self, method: str, resource_name: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control API (``/emulator-api/<resource_name>``) and return its JSON."""
        response = httpx.request(
            method, f"{self.root_url}/emulator-api/{resource_name}", json=body, timeout=60.0
        )
        response.raise_for_status()
        return response.json()

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the emulator process has used (from /proc)."""
        with open(f"/proc/{self.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def connection_json(base_url: str, extra: Mapping[str, object] | None = None, api_key: str = API_KEY) -> str:
    """The ``AIRFLOW_CONN_QWEN_ASR_DEFAULT`` JSON of a ``qwen_asr`` connection."""
    return json.dumps(
        {"conn_type": "qwen_asr", "host": base_url, "password": api_key, "extra": dict(extra or {}) or None}
    )


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """The peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """The current resident set size of this process, MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """The median, NaN when empty."""
    return statistics.median(values) if values else float("nan")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> str:
    """Print (and return) ``rows`` as a Markdown table, numbers right-aligned."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            if value != value:  # NaN
                return "n/a"
            if abs(value) >= 100:
                return f"{value:,.0f}"
            if abs(value) >= 10:
                return f"{value:.1f}"
            return f"{value:.2f}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(f"\n{title}\n")
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        lines.append(
            "| "
            + " | ".join(
                v.rjust(w) if v[:1].isdigit() or v[:1] in "-+" else v.ljust(w)
                for v, w in zip(row, widths, strict=True)
            )
            + " |"
        )
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def machine_summary() -> str:
    """One line naming the machine and the software versions measured."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    mem = "? GiB RAM"
    with contextlib.suppress(OSError):
        with open("/proc/meminfo") as handle:
            mem_kb = int(handle.readline().split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{os.cpu_count()} CPUs, {mem}, Python {platform.python_version()}, "
        f"apache-airflow {ver('apache-airflow')}, httpx {ver('httpx')}, dashscope {ver('dashscope')}"
    )


@contextlib.contextmanager
def env(**values: str) -> Iterator[None]:
    """Set environment variables for the block, restoring them afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
