"""Imports that moved between Airflow 3.0 and 3.3, in one place."""

from __future__ import annotations

from airflow.configuration import conf

try:  # Airflow >= 3.1
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, AirflowTaskTimeout
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined,unused-ignore]
        AirflowFailException,
        AirflowSkipException,
        AirflowTaskTimeout,
    )

__all__ = ["AirflowFailException", "AirflowSkipException", "AirflowTaskTimeout", "conf", "default_deferrable"]


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, the Airflow-wide default for ``deferrable``."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)
