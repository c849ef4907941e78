"""Errors raised by the Qwen-ASR provider.

Every error carries what a user needs to act on it: the DashScope task id, DashScope's ``code``,
``message`` and ``request_id``, the HTTP status, and a hint of what to do next. None of them ever
holds the API key or a signed URL's query string (see :func:`redact_url`).

The tree::

    QwenASRError                         base of everything raised here
    ├── QwenASRInputError                bad arguments, refused before any billed call (also a ValueError)
    ├── QwenASRApiError                  DashScope answered with an error document
    │   ├── QwenASRAuthError             401/403: key, workspace or model access
    │   ├── QwenASRThrottledError        429: over the account's rate quota (transient)
    │   └── QwenASRServerError           5xx: the service failed (transient)
    ├── QwenASRConnectionError           no answer: refused, reset, timed out, truncated (transient)
    ├── QwenASRSubmitUnknownError        a submit whose outcome is unknown and no matching task was found
    ├── QwenASRTaskFailedError           the task ended FAILED (or every file of it failed)
    ├── QwenASRTaskCanceledError         the task was canceled
    ├── QwenASRTaskExpiredError          the service no longer knows the task (UNKNOWN: expired, foreign id)
    ├── QwenASRTimeoutError              our own wait deadline passed first
    └── QwenASRResultError               the result file: expired link, bad JSON, too large, truncated

Transient errors (``is_transient`` True) are retried by reads; a submit is never retried blindly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "QwenASRApiError",
    "QwenASRAuthError",
    "QwenASRConnectionError",
    "QwenASRError",
    "QwenASRInputError",
    "QwenASRResultError",
    "QwenASRServerError",
    "QwenASRSubmitUnknownError",
    "QwenASRTaskCanceledError",
    "QwenASRTaskExpiredError",
    "QwenASRTaskFailedError",
    "QwenASRThrottledError",
    "QwenASRTimeoutError",
    "redact_url",
]


def redact_url(url: str) -> str:
    """Return ``url`` without its query string and credentials, safe for logs and messages.

    A signed result URL is a credential until it expires; its query (``Signature=…``) must never be
    shown. ``https://bucket.example/r.json?Expires=1&Signature=x`` becomes ``https://bucket.example/r.json?…``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class QwenASRError(Exception):
    """Base class of every error raised by the provider.

    :param message: what failed, in plain words.
    :param task_id: the DashScope task id, when one is concerned.
    :param code: DashScope's error code (``InvalidApiKey``, ``FILE_404_NOT_FOUND``, …).
    :param service_message: DashScope's own message for ``code``.
    :param request_id: DashScope's request id, for a support ticket.
    :param http_status: the HTTP status of the answer, when there was one.
    :param hint: what to do next.
    """

    is_transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        task_id: str | None = None,
        code: str | None = None,
        service_message: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.task_id = task_id
        self.code = code
        self.service_message = service_message
        self.request_id = request_id
        self.http_status = http_status
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        details = [
            f"{label}={value}"
            for label, value in (
                ("asr_task_id", self.task_id),
                ("http_status", self.http_status),
                ("code", self.code),
                ("message", self.service_message),
                ("request_id", self.request_id),
            )
            if value not in (None, "")
        ]
        text = self.message
        if details:
            text += f" ({', '.join(details)})"
        if self.hint:
            text += f". {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Return the error as a small JSON-safe dict (for trigger events and XCom)."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "task_id": self.task_id,
            "code": self.code,
            "service_message": self.service_message,
            "request_id": self.request_id,
            "http_status": self.http_status,
            "hint": self.hint,
        }


class QwenASRInputError(QwenASRError, ValueError):
    """Raised for bad arguments (task id, file URL, parameters, paths), before any billed call."""


class QwenASRApiError(QwenASRError):
    """Raised when DashScope answers with an error document (HTTP status and ``code``)."""


class QwenASRAuthError(QwenASRApiError):
    """Raised on 401 ``InvalidApiKey`` and 403 ``AccessDenied*``: check the key, region and workspace."""


class QwenASRThrottledError(QwenASRApiError):
    """Raised on 429 ``Throttling*`` once retries are spent; ``retry_after`` holds the server's hint."""

    is_transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class QwenASRServerError(QwenASRApiError):
    """Raised on a 5xx answer once retries are spent."""

    is_transient = True


class QwenASRConnectionError(QwenASRError):
    """Raised when no complete answer arrived: refused, reset, timed out or truncated.

    ``request_sent`` is False only when the connection itself failed (refused, connect timeout), so
    the service cannot have acted on the request; a billed submit may then be sent again safely.
    ``answer_started`` is True when the status line arrived and the body was cut: the service has
    then finished acting on the request.
    """

    is_transient = True
    request_sent = True
    answer_started = False


class QwenASRSubmitUnknownError(QwenASRError):
    """Raised when a submit got no answer and no task matching it could be found.

    The task may or may not exist (and be billed). It is not resubmitted automatically.
    """


class QwenASRTaskFailedError(QwenASRError):
    """Raised when a task ends ``FAILED``, or ``SUCCEEDED`` with files that failed and no partial allowed.

    :param failed_files: ``[{"file_url": …, "code": …, "message": …}]`` for Fun-ASR tasks.
    """

    def __init__(
        self, message: str, *, failed_files: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        self.failed_files = failed_files or []
        super().__init__(message, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Return the error with its per-file failures."""
        return {**super().to_dict(), "failed_files": self.failed_files}


class QwenASRTaskCanceledError(QwenASRError):
    """Raised when the task was canceled before it ran."""


class QwenASRTaskExpiredError(QwenASRError):
    """Raised when DashScope answers ``UNKNOWN``: the id is wrong, of another account, or past 24 h."""


class QwenASRTimeoutError(QwenASRError):
    """Raised when our own wait deadline passes while the task is still pending or running."""


class QwenASRResultError(QwenASRError):
    """Raised when the result file cannot be used: expired or altered link, truncated, invalid, too large."""
