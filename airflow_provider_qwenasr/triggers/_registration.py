"""What the status board keeps of each registered wait, and why it wakes one (:mod:`.board`)."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

from airflow_provider_qwenasr.models import TaskStatus

__all__ = ["Counters", "Registration", "Wake"]


class Wake(str, enum.Enum):
    """Why :meth:`StatusBoard.wait` returned."""

    #: A sweep no longer lists the task as PENDING or RUNNING: confirm it.
    SWEPT = "swept"
    #: The safety poll interval passed: query the task anyway.
    SAFETY = "safety"
    #: The board fell back to per-task polling: poll as without a board.
    FALLBACK = "fallback"
    #: The list shows the task in a new open status (PENDING -> RUNNING): log it, no query needed.
    LISTED = "listed"


@dataclass(eq=False)
class Registration:
    """One trigger's entry on the board: its task, and what the sweeps learned of it."""

    task_id: str
    registered_at: float
    #: The model the task was submitted with, when the trigger knows it (the sweep's filter).
    model: str | None = None
    created_ms: int | None = None
    #: Whether a sweep has listed the task, and the open status it was last listed with (as told).
    seen: bool = False
    listed: TaskStatus | None = None
    waiting: bool = False
    reason: Wake | None = None
    not_before: float = 0.0
    #: The pause after the next false wake (``None``: :data:`.board.FALSE_WAKE_PAUSE`).
    pause: float | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


@dataclass
class Counters:
    """What a board has done, for tests and benchmarks."""

    sweeps: int = 0
    pages: int = 0
    wakes: int = 0
    false_wakes: int = 0
    fallbacks: int = 0
