"""Pytest fixtures for the end-to-end tests (real Airflow processes on 127.0.0.1).

``airflow_deployment`` is a factory: ``dep = airflow_deployment(dags_folder=..., ...)`` creates and
starts an :class:`~tests.e2e.deployment.AirflowDeployment` in a fresh temp dir.  Every deployment it
created is stopped in teardown, by pid, whether the test passed, failed or errored; when the test
failed, the status and log tail of every component is printed (shown in pytest's report).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.deployment import AirflowDeployment
from tests.e2e.lifecycle import stop_and_check
from tests.e2e.services import missing_services

DeploymentFactory = Callable[..., AirflowDeployment]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    """Remember each phase's report on the item so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"e2e_report_{report.when}", report)


def _test_failed(request: pytest.FixtureRequest) -> bool:
    reports = [getattr(request.node, f"e2e_report_{when}", None) for when in ("setup", "call")]
    return any(r is not None and r.failed for r in reports)


def celery_stack_missing() -> list[str]:
    """What is missing for a PostgreSQL + Redis + CeleryExecutor deployment (empty if nothing)."""
    missing = missing_services(postgres=True, redis=True)
    for module, package in (
        ("airflow.providers.celery", "apache-airflow-providers-celery"),
        ("psycopg2", "psycopg2-binary"),
        # Airflow 3 also opens an async engine; for postgresql:// it derives postgresql+asyncpg://.
        ("asyncpg", "asyncpg"),
        ("redis", "redis"),
    ):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(f"python package {package}")
    return missing


@pytest.fixture
def require_celery_stack() -> None:
    """Skip (with the reason) when PostgreSQL/Redis binaries or the Celery packages are absent."""
    missing = celery_stack_missing()
    if missing:
        pytest.skip(
            "CeleryExecutor e2e needs: "
            + ", ".join(missing)
            + " (scripts/install-os-packages.sh; pip install apache-airflow-providers-celery "
            "psycopg2-binary asyncpg redis)"
        )


@pytest.fixture
def e2e_dags_folder(tmp_path: Path) -> Path:
    """An empty DAGs folder for the test to write DAG files into (before starting the deployment)."""
    folder = tmp_path / "dags"
    folder.mkdir()
    return folder


@pytest.fixture
def airflow_deployment(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DeploymentFactory]:
    """Factory fixture: create and start deployments; all are stopped in teardown.

    Keyword arguments are those of :class:`AirflowDeployment` (``base_dir`` defaults to a fresh
    sub-directory of ``tmp_path``); pass ``start=False`` to get an unstarted deployment.
    """
    deployments: list[AirflowDeployment] = []

    def make(*, start: bool = True, **kwargs: Any) -> AirflowDeployment:
        kwargs.setdefault("base_dir", tmp_path / f"deployment{len(deployments)}")
        dep = AirflowDeployment(**kwargs)
        deployments.append(dep)  # registered before start(): teardown covers a failing start
        if start:
            dep.start()
        return dep

    yield make

    failed = _test_failed(request)
    errors = [error for dep in reversed(deployments) for error in stop_and_check(dep, failed=failed)]
    if errors:
        pytest.fail("e2e teardown problems:\n" + "\n".join(errors), pytrace=False)
