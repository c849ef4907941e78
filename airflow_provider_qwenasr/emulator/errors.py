"""DashScope-style errors: raised by the backend, turned into JSON answers by the server."""

from __future__ import annotations

import json
from typing import Any

#: The code a bare HTTP status maps to (``dashscope-api.md`` section 5), with a plausible message.
DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidParameter", "The request parameters are invalid."),
    401: ("InvalidApiKey", "Invalid API-key provided."),
    403: ("AccessDenied", "Access denied."),
    404: ("ModelNotFound", "Model can not be found."),
    413: ("BadRequest.TooLarge", "Payload Too Large."),
    415: ("BadRequest.UnsupportedFileFormat", "The file format is not supported."),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    500: (
        "InternalError",
        "An internal error has occured, please try again later or contact service support.",
    ),
    502: ("InternalError", "Bad gateway, please try again later."),
    503: ("ModelUnavailable", "Model is unavailable, please try again later."),
    504: ("GatewayTimeout", "Gateway timeout, please try again later."),
}


def default_error(status: int) -> tuple[str, str]:
    """The ``(code, message)`` DashScope would most likely send with ``status``."""
    if status in DEFAULT_ERRORS:
        return DEFAULT_ERRORS[status]
    if status >= 500:
        return DEFAULT_ERRORS[500]
    # No other code is documented for a 4xx: the generic one (dashscope-api.md section 5).
    return ("InvalidParameter", f"Request failed with HTTP {status}.")


class ServiceError(Exception):
    """An answer other than 200, as DashScope gives it: HTTP status, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str, code: str = "InvalidParameter") -> ServiceError:
    """A 400 with ``code`` (``InvalidParameter`` unless told)."""
    return ServiceError(400, code, message)


def missing(name: str, code: str) -> ServiceError:
    """400 ``code`` (``BadRequest.EmptyModel``, ``BadRequest.EmptyInput``) for a required field that
    is absent or empty."""
    return invalid(f'Required parameter "{name}" missing from request.', code)


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object, else 400 ``InvalidParameter``."""
    try:
        request = json.loads(body or b"null")
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(request, dict):
        raise invalid("The request body must be a JSON object.")
    return request


class OssError(Exception):
    """An answer of the OSS side (result downloads, form uploads): XML, not JSON."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
