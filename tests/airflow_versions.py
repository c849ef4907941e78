"""The one place tests ask which Airflow runs them: for a feature that needs a newer release."""

from __future__ import annotations

import pytest

from airflow_provider_qwenasr._compat import AIRFLOW_VERSION, airflow_at_least

__all__ = ["AIRFLOW_VERSION", "airflow_at_least", "before_airflow", "needs_airflow"]


def needs_airflow(version: str, reason: str) -> pytest.MarkDecorator:
    """Skip a test on an Airflow older than ``version``; ``reason`` says what that release lacks."""
    return pytest.mark.skipif(
        not airflow_at_least(version),
        reason=f"needs Airflow >= {version} (running {AIRFLOW_VERSION}): {reason}",
    )


def before_airflow(version: str, reason: str) -> pytest.MarkDecorator:
    """Run a test only on an Airflow older than ``version``: the degraded behaviour it checks."""
    return pytest.mark.skipif(
        airflow_at_least(version),
        reason=f"checks Airflow < {version} (running {AIRFLOW_VERSION}): {reason}",
    )
