"""Reading the ``qwen_asr`` Airflow connection into :class:`ApiSettings`."""

from __future__ import annotations

from typing import Any, Protocol, overload

from airflow_provider_qwenasr._api.settings import region_of
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.masking import mask
from airflow_provider_qwenasr.protocol import DEFAULT_QUERY_QPS, ApiSettings, normalize_base_url

__all__ = ["DEFAULT_STATUS_SWEEP", "settings_from_connection"]

#: Whether deferred waits sweep the task list when the connection's ``extra.status_sweep`` is unset:
#: yes (benchmarks/trigger_scale.py: at 1,000 waits a median delay of 2 s instead of 28 s).
DEFAULT_STATUS_SWEEP = True


class _ConnectionLike(Protocol):
    host: str | None
    port: int | None
    schema: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


def settings_from_connection(conn: _ConnectionLike, conn_id: str) -> ApiSettings:
    """Build the API settings from a connection: the key is the password, the host the base URL.

    The host may carry the ``/api/v1`` path or not; an empty host means the region's default
    (``extra.region``: ``cn`` or ``intl``). The key is registered with Airflow's secret masker so
    that it is masked in task logs even if something prints it.

    :raises QwenASRInputError: when the key is missing or the extra is malformed.
    """
    extra = _plain_keys(conn.extra_dejson or {})
    api_key = (conn.password or "").strip()
    if not api_key:
        raise QwenASRInputError(
            f"Connection {conn_id!r} has no API key",
            hint="Put the DashScope API key in the connection's password field",
        )
    mask(api_key)
    host = conn.host or ""
    if host and conn.schema and "/" not in host.split("://", 1)[-1]:
        # URI-style connections split "host/api/v1" into host and schema.
        host = f"{host}/{conn.schema}"
    base_url = normalize_base_url(host, region=extra.get("region"), port=conn.port)
    return ApiSettings(
        base_url=base_url,
        api_key=api_key,
        workspace=(str(extra["workspace"]).strip() or None) if extra.get("workspace") else None,
        query_qps=_positive(extra.get("query_qps"), DEFAULT_QUERY_QPS, "query_qps", conn_id),
        expected_processes=int(_positive(extra.get("expected_processes"), 1, "expected_processes", conn_id)),
        read_timeout=_positive(extra.get("read_timeout"), None, "read_timeout", conn_id),
        region=region_of(base_url, extra.get("region")),
        status_sweep=_flag(extra.get("status_sweep"), DEFAULT_STATUS_SWEEP, "status_sweep", conn_id),
    )


def _plain_keys(extra: dict[str, Any]) -> dict[str, Any]:
    """Accept both ``region`` and the form's legacy ``extra__qwen_asr__region`` spelling."""
    prefix = "extra__qwen_asr__"
    plain = {k[len(prefix) :]: v for k, v in extra.items() if k.startswith(prefix) and v not in (None, "")}
    return {**plain, **{k: v for k, v in extra.items() if not k.startswith(prefix)}}


@overload
def _positive(value: object, default: float, name: str, conn_id: str) -> float: ...
@overload
def _positive(value: object, default: None, name: str, conn_id: str) -> float | None: ...
def _positive(value: object, default: float | None, name: str, conn_id: str) -> float | None:
    if value in (None, ""):
        return default
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise QwenASRInputError(
            f"Connection {conn_id!r} has extra {name}={value!r}; it must be a positive number"
        )
    return number


def _flag(value: object, default: bool, name: str, conn_id: str) -> bool:
    """A yes/no extra: a JSON boolean, or ``true``/``false``/``on``/``off``/``1``/``0`` as text."""
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "on", "yes", "1"):
        return True
    if text in ("false", "off", "no", "0"):
        return False
    raise QwenASRInputError(f"Connection {conn_id!r} has extra {name}={value!r}; it must be true or false")
