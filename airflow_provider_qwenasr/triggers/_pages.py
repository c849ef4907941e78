"""Reading the task list's open tasks page by page for the status board, page shifts included.

See :mod:`airflow_provider_qwenasr.triggers.board` for what the board does with them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from airflow_provider_qwenasr.models import TaskListItem, TaskPage

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook

__all__ = ["PAGE_SIZE", "Sweep", "read_pass"]

#: Rows per list call: the most the list gives.
PAGE_SIZE = 100


@dataclass
class Sweep:
    """What one sweep saw: the open tasks (by id) and the gaps a page shift may hide."""

    started: float
    window_start_ms: int
    #: The ``model_name`` the sweep listed (``None``: every model).
    model: str | None = None
    open: dict[str, TaskListItem] = field(default_factory=dict)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    pages: int = 0

    def may_have_skipped(self, created_ms: int) -> bool:
        """Whether a task created at ``created_ms`` lies in a stretch a page shift may have hidden."""
        return any(low <= created_ms <= high for low, high in self.gaps)


async def read_pass(
    hook: QwenASRAsyncHook,
    sweep: Sweep,
    status: str,
    window: tuple[datetime, datetime],
    created: list[tuple[int, str]],
) -> None:
    """Read every page of ``status`` in the window into ``sweep``.

    When the list shrank between two pages (a task ended), the later pages moved up and rows
    created between the two pages' edges may be on neither. If one of our tasks lies there and
    was not seen, the earlier page is read again at once: the rows it lost are now at its end.
    If the list shrank again meanwhile, that stretch is left unsure (not woken this sweep).
    """
    page_no, previous_last, previous_total = 1, None, 0
    while True:
        page = await _page(hook, sweep, window, status, page_no)
        sweep.pages += 1
        rows = page.items
        for row in rows:
            sweep.open[row.task_id] = row
        first = rows[0].created_ms if rows else None
        shrank = previous_last is not None and first is not None and page.total < previous_total
        if shrank and _unseen_between(created, first or 0, previous_last or 0, sweep.open):
            again = await _page(hook, sweep, window, status, page_no - 1)
            sweep.pages += 1
            for row in again.items:
                sweep.open[row.task_id] = row
            if again.total < page.total:
                sweep.gaps.append((first or 0, previous_last or 0))
        if not rows or page_no >= page.total_page:
            return
        previous_last, previous_total = rows[-1].created_ms, page.total
        page_no += 1


async def _page(
    hook: QwenASRAsyncHook, sweep: Sweep, window: tuple[datetime, datetime], status: str, page_no: int
) -> TaskPage:
    start, end = window
    return await hook.list_tasks(
        start_time=start,
        end_time=end,
        model_name=sweep.model,
        status=status,
        page_no=page_no,
        page_size=PAGE_SIZE,
        retry=False,
    )


def _unseen_between(
    created: list[tuple[int, str]], low: int, high: int, seen: dict[str, TaskListItem]
) -> bool:
    """Whether one of our tasks created from ``low`` to ``high`` (ms) is not in ``seen``."""
    index = bisect.bisect_left(created, (low, ""))
    while index < len(created) and created[index][0] <= high:
        if created[index][1] not in seen:
            return True
        index += 1
    return False
