"""Answers as the server sends them: status, headers and a body (bytes or a file to stream)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

JSON = "application/json"


@dataclass
class Reply:
    """One HTTP answer. ``file``, when set, is streamed instead of ``body``."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer; its ``request_id``, if any, is echoed as ``X-Request-ID`` like DashScope."""
    extra = dict(headers or {})
    if isinstance(document, dict) and isinstance(document.get("request_id"), str):
        extra.setdefault("X-Request-ID", document["request_id"])
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, JSON, extra)


def error_reply(status: int, code: str, message: str, request_id: str | None = None) -> Reply:
    """A DashScope error: ``{code, message, request_id}`` as JSON with ``X-Request-ID``."""
    rid = request_id or str(uuid.uuid4())
    return json_reply(status, {"code": code, "message": message, "request_id": rid})


def oss_error_reply(status: int, code: str, message: str, details: dict[str, str] | None = None) -> Reply:
    """An OSS error: XML, with ``x-oss-request-id``."""
    rid = uuid.uuid4().hex[:24].upper()
    extra = "".join(f"\n  <{k}>{escape(v)}</{k}>" for k, v in (details or {}).items())
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{escape(code)}</Code>\n  <Message>{escape(message)}</Message>\n"
        f"  <RequestId>{rid}</RequestId>\n  <HostId>127.0.0.1</HostId>{extra}\n</Error>\n"
    )
    return Reply(status, xml.encode("utf-8"), "application/xml", {"x-oss-request-id": rid})
