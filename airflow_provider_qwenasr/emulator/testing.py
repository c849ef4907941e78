"""Helpers for test suites (pytest-free, so any conftest can import them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .config import EmulatorConfig
from .server import EmulatorServer


@contextmanager
def running_emulator(**config: Any) -> Iterator[EmulatorServer]:
    """A started emulator on a free loopback port, stopped afterwards.

    Keyword arguments are :class:`EmulatorConfig` fields, e.g.
    ``running_emulator(pending_seconds=0, running_seconds=0.1)``.
    """
    server = EmulatorServer(EmulatorConfig(**config)).start()
    try:
        yield server
    finally:
        server.stop()


def dashscope_headers(api_key: str = "sk-emulator", submit: bool = False) -> dict[str, str]:
    """The headers a DashScope client sends: the key, plus async and JSON for a submit."""
    headers = {"Authorization": f"Bearer {api_key}"}
    if submit:
        headers["X-DashScope-Async"] = "enable"
        headers["Content-Type"] = "application/json"
    return headers


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def shape_differences(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """How ``actual`` differs in shape from ``expected``: key sets, nesting and JSON types.

    Values are not compared. A list is compared item by item when both have the same length,
    otherwise every item of ``actual`` against the first item of ``expected``. An empty list
    on either side matches any list.
    """
    if _kind(actual) != _kind(expected):
        return [f"{path}: {_kind(actual)} where the example has {_kind(expected)}"]
    problems: list[str] = []
    if isinstance(expected, dict):
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        if missing:
            problems.append(f"{path}: missing {missing}")
        if extra:
            problems.append(f"{path}: unexpected {extra}")
        for key in sorted(set(expected) & set(actual)):
            problems += shape_differences(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected and actual:
        for index, item in enumerate(actual):
            model = expected[index] if len(actual) == len(expected) else expected[0]
            problems += shape_differences(item, model, f"{path}[{index}]")
    return problems
