"""The task status enum, with which statuses are terminal."""

from __future__ import annotations

import enum

__all__ = ["TaskStatus"]


class TaskStatus(str, enum.Enum):
    """A DashScope task's ``task_status`` (or a Fun-ASR file's ``subtask_status``)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    #: The service no longer knows the task: a wrong or foreign id, or past its 24 h retention.
    UNKNOWN = "UNKNOWN"
    #: A status this provider does not know yet; treated as still in progress.
    OTHER = "OTHER"

    @classmethod
    def parse(cls, value: object) -> TaskStatus:
        """Return the member for ``value``, or :attr:`OTHER` for a status the service added later."""
        try:
            return cls(str(value).upper())
        except ValueError:
            return cls.OTHER

    @property
    def is_terminal(self) -> bool:
        """Whether the task can no longer change (SUCCEEDED, FAILED, CANCELED or UNKNOWN)."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """Whether the task is queued or running (or in a state we do not know, and may still finish)."""
        return not self.is_terminal


_TERMINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.UNKNOWN})
