"""What differs between the Airflow 3 minor releases the provider supports (3.0 to 3.3), in one place.

Each shim names the release that made it unnecessary, so it can go when the floor moves past it.
See docs/compatibility.md for what each Airflow version gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow import __version__ as _airflow_version
from airflow.configuration import conf
from packaging.version import Version

if TYPE_CHECKING:
    from airflow.sdk import Connection

try:  # Airflow >= 3.2 (3.1 still keeps them in airflow.exceptions only)
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, AirflowTaskTimeout
except ImportError:  # pragma: no cover - Airflow 3.0 and 3.1
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined,unused-ignore]
        AirflowFailException,
        AirflowSkipException,
        AirflowTaskTimeout,
    )

try:  # Airflow >= 3.1
    from airflow.sdk import BaseHook
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

__all__ = [
    "AIRFLOW_VERSION",
    "READS_CONN_FIELDS",
    "AirflowFailException",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "BaseHook",
    "aget_connection",
    "airflow_at_least",
    "conf",
    "default_deferrable",
    "stats",
]

#: The running Airflow's release, without pre-release or local parts (``3.0.6``).
AIRFLOW_VERSION = Version(Version(_airflow_version).base_version)


def airflow_at_least(version: str) -> bool:
    """Whether the running Airflow is ``version`` or newer (``airflow_at_least("3.2")``)."""
    return Version(version) <= AIRFLOW_VERSION


#: Airflow >= 3.2 builds the connection form from the provider info's ``conn-fields`` and
#: ``ui-field-behaviour``; older releases only ask the hook (``get_connection_form_widgets``).
READS_CONN_FIELDS = airflow_at_least("3.2")


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, the Airflow-wide default for ``deferrable``."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


async def aget_connection(conn_id: str) -> Connection:
    """Read a connection without blocking the event loop: ``BaseHook.aget_connection`` (Airflow >= 3.1).

    Airflow 3.0 has only the sync lookup, which inside the triggerer talks to the supervisor through
    ``async_to_sync``: it must run in a worker thread started by asgiref's ``sync_to_async`` (which
    hands that call back to this loop), not on the loop itself nor in a bare ``asyncio.to_thread``.
    """
    lookup = getattr(BaseHook, "aget_connection", None)
    if lookup is None:  # Airflow 3.0
        from asgiref.sync import sync_to_async

        lookup = sync_to_async(BaseHook.get_connection)
    connection: Connection = await lookup(conn_id)
    return connection


def stats() -> Any:
    """Airflow's ``Stats``, which every metric of the provider goes through (imported on first use).

    Airflow >= 3.2 has it in ``airflow.sdk.observability.stats``: set up from ``[metrics]`` in the
    task runner and in the triggerer (when ``airflow.sdk.serde`` loads); ``airflow.stats`` is a
    deprecated alias there. Airflow 3.0 and 3.1: ``airflow.stats.Stats``, set up from ``[metrics]``
    on first use. Both take ``incr``, ``gauge`` and ``timing`` with ``tags=``.
    """
    try:  # Airflow >= 3.2
        from airflow.sdk.observability.stats import Stats
    except ImportError:  # pragma: no cover - Airflow 3.0 and 3.1
        from airflow.stats import Stats  # type: ignore[attr-defined,no-redef,unused-ignore]
    return Stats
