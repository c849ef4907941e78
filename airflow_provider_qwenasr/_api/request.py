"""Every DashScope request, built once for both hooks: URL, headers, body, query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_qwenasr._api.settings import SERVICE_TZ, ApiSettings
from airflow_provider_qwenasr._api.validate import validate_task_id

__all__ = ["ApiRequest", "list_params"]


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One HTTP request to DashScope, ready for requests or httpx."""

    #: What the call is, for logs, errors and the rate budget: submit, query, cancel, list, customization,
    #: upload_policy.
    endpoint: str
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    params: Mapping[str, str] | None = None
    json: Mapping[str, Any] | None = None
    task_id: str | None = None

    @classmethod
    def build(
        cls,
        settings: ApiSettings,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        task_id: str | None = None,
    ) -> ApiRequest:
        """Build a request: bearer auth, optional workspace header, ``Content-Type`` only with a body."""
        headers = {"Authorization": f"Bearer {settings.api_key}", "Accept": "application/json"}
        if settings.workspace:
            headers["X-DashScope-WorkSpace"] = settings.workspace
        if json is not None:
            headers["Content-Type"] = "application/json"
        headers.update(extra_headers or {})
        return cls(
            endpoint=endpoint,
            method=method,
            url=f"{settings.base_url}/{path.lstrip('/')}",
            headers=headers,
            params=params,
            json=json,
            task_id=task_id,
        )

    @classmethod
    def submit(
        cls, settings: ApiSettings, body: Mapping[str, Any], *, oss_resolve: bool = False
    ) -> ApiRequest:
        """``POST /services/audio/asr/transcription`` (asynchronous: ``X-DashScope-Async: enable``)."""
        headers = {"X-DashScope-Async": "enable"}
        if oss_resolve:
            headers["X-DashScope-OssResourceResolve"] = "enable"
        return cls.build(
            settings, "submit", "POST", "services/audio/asr/transcription", json=body, extra_headers=headers
        )

    @classmethod
    def query(cls, settings: ApiSettings, task_id: str) -> ApiRequest:
        """``GET /tasks/{task_id}``."""
        task_id = validate_task_id(task_id)
        return cls.build(settings, "query", "GET", f"tasks/{task_id}", task_id=task_id)

    @classmethod
    def cancel(cls, settings: ApiSettings, task_id: str) -> ApiRequest:
        """``POST /tasks/{task_id}/cancel`` (no body; PENDING tasks only)."""
        task_id = validate_task_id(task_id)
        return cls.build(settings, "cancel", "POST", f"tasks/{task_id}/cancel", task_id=task_id)

    @classmethod
    def list_tasks(cls, settings: ApiSettings, params: Mapping[str, str]) -> ApiRequest:
        """``GET /tasks?…`` with the given filters."""
        return cls.build(settings, "list", "GET", "tasks", params=params)

    @classmethod
    def customization(cls, settings: ApiSettings, body: Mapping[str, Any]) -> ApiRequest:
        """``POST /services/audio/asr/customization`` (hot-word tables; no async header)."""
        return cls.build(settings, "customization", "POST", "services/audio/asr/customization", json=body)

    @classmethod
    def upload_policy(cls, settings: ApiSettings, model: str) -> ApiRequest:
        """``GET /uploads?action=getPolicy&model=…`` (temporary file upload, Beijing only)."""
        return cls.build(
            settings, "upload_policy", "GET", "uploads", params={"action": "getPolicy", "model": model}
        )


def list_params(
    start_time: datetime | None,
    end_time: datetime | None,
    model_name: str | None,
    status: str | None,
    task_id: str | None,
    page_no: int,
    page_size: int,
) -> dict[str, str]:
    """The task list's query parameters; times are sent in the service's zone (UTC+8)."""
    params = {"page_no": str(page_no), "page_size": str(page_size)}
    for name, moment in (("start_time", start_time), ("end_time", end_time)):
        if moment is not None:
            aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
            params[name] = aware.astimezone(SERVICE_TZ).strftime("%Y%m%d%H%M%S")
    for name, value in (("model_name", model_name), ("status", status), ("task_id", task_id)):
        if value:
            params[name] = value
    return params
