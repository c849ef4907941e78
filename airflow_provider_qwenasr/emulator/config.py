"""The emulator's settings: one plain dataclass, changeable while the server runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_qwenasr._api.catalog import resolve_model

#: Settings the control API (``POST /emulator-api/config``) may change on a running server.
LIVE_SETTINGS = (
    "query_qps",
    "list_qps",
    "list_lag_seconds",
    "pending_seconds",
    "running_seconds",
    "max_files_per_task",
    "max_files_per_model",
    "retention_hours",
    "funasr_all_failed_status",
    "submit_per_second",
    "speaker_id_style",
    "max_vocabularies_per_key",
)

#: The values of :attr:`EmulatorConfig.speaker_id_style`.
SPEAKER_ID_STYLES = ("int", "spk")


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulated DashScope behaves.

    :param api_keys: the API keys accepted as ``Authorization: Bearer <key>``; each key is its own
        account (tasks, uploads and hot-word tables of one key are invisible to the others).
    :param pending_seconds: how long a new task stays ``PENDING`` (emulator-clock seconds).
    :param running_seconds: how long it then stays ``RUNNING`` before it ends.
    :param time_speed: how fast the emulator clock runs against real time (60 = a minute a second).
    :param query_qps: per-key rate limit of each of query, list, cancel and customization
        (<= 0: unlimited).
    :param list_qps: per-key rate limit of the task list (``GET /tasks``) alone, when set; ``None``
        (the default): ``query_qps``, counted in a bucket of its own (the list's quota is its own).
    :param list_lag_seconds: how far the task list trails the query: the list shows the account as it
        was this many seconds ago (a task appears once it is that old, with the status it had then).
        0, the default: the list is as fresh as the query.
    :param max_files_per_task: when set, the most files one submit may carry for every model,
        instead of the model table's ``max_files`` (``None``, the default: the table's).
    :param max_files_per_model: per-model overrides (undated or dated names); they win over both.
    :param retention_hours: how long a finished task stays queryable (then ``UNKNOWN``).
    :param workspace: when set, a request naming another ``X-DashScope-WorkSpace`` gets 403.
    :param funasr_all_failed_status: task status of a multi-file task whose every file failed:
        ``FAILED`` (default) or ``SUCCEEDED`` (what one documentation example shows).
    :param submit_per_second: when > 0, a submit rate per key and model family for every model, on
        top of the documented per-minute quota (for tests of a client's pacing). 0: only the
        documented quota (``submits_per_minute`` of the model table).
    :param speaker_id_style: ``speaker_id`` in diarized Fun-ASR result files: ``int`` (``0``, the
        default) or ``spk`` (``"spk0"``).
    :param max_vocabularies_per_key: the most hot-word tables one key may hold (assumed: 10).
    """

    api_keys: tuple[str, ...] = ("sk-emulator",)
    pending_seconds: float = 0.2
    running_seconds: float = 0.5
    time_speed: float = 1.0
    query_qps: float = 20.0
    list_qps: float | None = None
    list_lag_seconds: float = 0.0
    max_files_per_task: int | None = None
    max_files_per_model: Mapping[str, int] = field(default_factory=dict)
    retention_hours: float = 24.0
    workspace: str | None = None
    funasr_all_failed_status: str = "FAILED"
    submit_per_second: float = 0.0
    speaker_id_style: str = "int"
    max_vocabularies_per_key: int = 10

    def __post_init__(self) -> None:
        if self.speaker_id_style not in SPEAKER_ID_STYLES:
            raise ValueError(f"speaker_id_style must be one of {', '.join(SPEAKER_ID_STYLES)}")

    def max_files_for(self, model: str, table_limit: int) -> int:
        """The file limit of one submit for ``model``, whose model table row allows ``table_limit``.

        A ``max_files_per_model`` entry for the model as named, then for its undated name, wins;
        then ``max_files_per_task`` when set; then the table's.
        """
        found = resolve_model(model)
        for name in (model, found[0] if found else None):
            if name is not None and name in self.max_files_per_model:
                return int(self.max_files_per_model[name])
        if self.max_files_per_task is not None:
            return int(self.max_files_per_task)
        return table_limit

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
            elif name == "speaker_id_style":
                if value not in SPEAKER_ID_STYLES:
                    raise ValueError(f"speaker_id_style must be one of {', '.join(SPEAKER_ID_STYLES)}")
                clean[name] = value
            elif name == "max_files_per_task":
                clean[name] = None if value is None else int(value)
            elif name == "list_qps":
                clean[name] = None if value is None else float(value)
            elif name == "max_vocabularies_per_key":
                clean[name] = int(value)
            else:
                clean[name] = float(value)
        return dataclasses.replace(self, **clean)
