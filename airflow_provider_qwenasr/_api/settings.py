"""The API's location and the connection's settings: base URLs, regions, the service's time zone."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_qwenasr.exceptions import QwenASRInputError

__all__ = [
    "DEFAULT_BASE_URLS",
    "DEFAULT_QUERY_QPS",
    "SERVICE_TZ",
    "ApiSettings",
    "normalize_base_url",
    "region_of",
]

DEFAULT_BASE_URLS = {
    "cn": "https://dashscope.aliyuncs.com/api/v1",
    "intl": "https://dashscope-intl.aliyuncs.com/api/v1",
}
#: Per-process query ceiling: below the account's documented 20 queries/s, leaving room for others.
DEFAULT_QUERY_QPS = 15.0
#: The zone of the service's clock: task times and list filters are Beijing time (UTC+8).
SERVICE_TZ = timezone(timedelta(hours=8))


def region_of(base_url: str, region: str | None) -> str:
    """The region of a connection: ``region`` when set, else ``intl`` for a Singapore host, else ``cn``."""
    if region:
        return region.strip().lower()
    host = urlsplit(base_url).netloc.lower()
    return "intl" if "dashscope-intl." in host or ".ap-southeast-1." in host else "cn"


def normalize_base_url(host: str | None, *, region: str | None = None, port: int | None = None) -> str:
    """Return the API base URL ending in ``/api/v1`` from a connection's host and region.

    ``https://dashscope.aliyuncs.com``, ``https://dashscope.aliyuncs.com/api/v1/`` and
    ``dashscope.aliyuncs.com`` all give ``https://dashscope.aliyuncs.com/api/v1``. A host without a
    scheme is HTTPS, except a loopback host (the emulator), which is HTTP. An empty host gives the
    region's default (``cn`` unless ``region`` is ``intl``).

    :raises QwenASRInputError: for an unknown region or a host that is not a URL.
    """
    if not host or not host.strip():
        key = (region or "cn").strip().lower()
        if key not in DEFAULT_BASE_URLS:
            raise QwenASRInputError(
                f"Unknown region {region!r} in the connection's extra",
                hint=f"Use one of {sorted(DEFAULT_BASE_URLS)} or set the connection's host to a base URL",
            )
        return DEFAULT_BASE_URLS[key]
    text = host.strip()
    if "://" not in text:
        bare = text.split("/", 1)[0].split(":", 1)[0]
        scheme = "http" if bare in {"127.0.0.1", "localhost", "::1", "[::1]"} else "https"
        text = f"{scheme}://{text}"
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise QwenASRInputError(
            f"The connection's host {host!r} is not an http(s) URL",
            hint="Set it to e.g. https://dashscope-intl.aliyuncs.com, or leave it empty and set a region",
        )
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    if not path.endswith("/api/v1"):
        path = f"{path}/api/v1"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What a hook needs to talk to DashScope, read once from an Airflow connection."""

    base_url: str
    api_key: str = field(repr=False)
    workspace: str | None = None
    query_qps: float = DEFAULT_QUERY_QPS
    expected_processes: int = 1
    #: ``extra.read_timeout``: seconds to wait for an answer; None for the hook's default.
    read_timeout: float | None = None
    #: ``cn`` (Beijing) or ``intl`` (Singapore): ``extra.region``, else told from the base URL.
    region: str = "cn"
    #: ``extra.status_sweep``: deferred waits learn of finished tasks from a sweep of the task list
    #: (:mod:`airflow_provider_qwenasr.triggers.board`) instead of polling each task.
    status_sweep: bool = True

    @property
    def host(self) -> str:
        """``scheme://host:port`` of the API: the key of the shared connection pool."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def key_fingerprint(self) -> str:
        """A short, one-way fingerprint of the API key (for sharing a budget without holding the key)."""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:16]

    def submit_ceiling(self, submits_per_minute: float) -> float:
        """Submits per second this process may send under a quota of ``submits_per_minute``.

        Nine tenths of the quota, shared by ``expected_processes`` (as the query rate keeps to 15 of 20).
        """
        return 0.9 * submits_per_minute / 60 / max(1, self.expected_processes)

    @property
    def rate_ceiling(self) -> float:
        """Queries per second this process may send: ``query_qps / expected_processes``."""
        return self.query_qps / max(1, self.expected_processes)
