"""The emulator's settings: one plain dataclass, changeable while the server runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Settings the control API (``POST /emulator-api/config``) may change on a running server.
LIVE_SETTINGS = (
    "query_qps",
    "pending_seconds",
    "running_seconds",
    "max_files_per_task",
    "max_files_per_model",
    "retention_hours",
    "funasr_all_failed_status",
)


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulated DashScope behaves.

    :param api_keys: the API keys accepted as ``Authorization: Bearer <key>``; each key is its own
        account (tasks and uploads of one key are invisible to the others).
    :param pending_seconds: how long a new task stays ``PENDING`` (emulator-clock seconds).
    :param running_seconds: how long it then stays ``RUNNING`` before it ends.
    :param time_speed: how fast the emulator clock runs against real time (60 = a minute a second).
    :param query_qps: per-key rate limit of each of query, list and cancel (<= 0: unlimited).
    :param max_files_per_task: most ``file_urls`` a Fun-ASR/Paraformer submit may carry.
    :param max_files_per_model: per-model overrides of ``max_files_per_task``.
    :param retention_hours: how long a finished task stays queryable (then ``UNKNOWN``).
    :param workspace: when set, a request naming another ``X-DashScope-WorkSpace`` gets 403.
    :param funasr_all_failed_status: task status of a Fun-ASR task whose every file failed:
        ``FAILED`` (default) or ``SUCCEEDED`` (what one documentation example shows).
    """

    api_keys: tuple[str, ...] = ("sk-emulator",)
    pending_seconds: float = 0.2
    running_seconds: float = 0.5
    time_speed: float = 1.0
    query_qps: float = 20.0
    max_files_per_task: int = 100
    max_files_per_model: Mapping[str, int] = field(default_factory=dict)
    retention_hours: float = 24.0
    workspace: str | None = None
    funasr_all_failed_status: str = "FAILED"

    def max_files_for(self, model: str) -> int:
        """The file limit of one submit for ``model``."""
        return int(self.max_files_per_model.get(model, self.max_files_per_task))

    def updated(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """A copy with ``changes`` applied; only :data:`LIVE_SETTINGS` may change.

        :raises ValueError: on an unknown or non-live setting, or a value of the wrong type.
        """
        unknown = sorted(set(changes) - set(LIVE_SETTINGS))
        if unknown:
            raise ValueError(f"not a live setting: {', '.join(unknown)}; live: {', '.join(LIVE_SETTINGS)}")
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "max_files_per_model":
                if not isinstance(value, Mapping):
                    raise ValueError("max_files_per_model must be an object of model -> int")
                clean[name] = {str(k): int(v) for k, v in value.items()}
            elif name == "funasr_all_failed_status":
                if value not in ("FAILED", "SUCCEEDED"):
                    raise ValueError("funasr_all_failed_status must be FAILED or SUCCEEDED")
                clean[name] = value
            elif name == "max_files_per_task":
                clean[name] = int(value)
            else:
                clean[name] = float(value)
        return dataclasses.replace(self, **clean)
