"""Fixtures of the UI tests: a migrated Airflow DB holding real task runs, and the real api-server app.

``airflow dags test`` (a subprocess sharing this process's AIRFLOW_HOME and database) runs
``dag_files/ui_fixture_dags.py``, whose tasks write outputs under a temp folder and return
manifests. The app is Airflow's own ``create_app()``, with the provider's plugin loaded from a
plugins folder exactly as the api-server loads plugins, and :class:`tests.ui.auth.RestrictedAuthManager`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = Path(__file__).parent / "dag_files" / "ui_fixture_dags.py"
JWT_SECRET = "qwenasr-ui-tests-jwt-secret-" + "0123456789abcdef" * 4
#: Workers and api-server share it, as a deployment does ([core] fernet_key is random per process
#: in unit-test mode, so it cannot stand in here).
SIGNING_KEY = "qwenasr-ui-tests-signing-key-" + "fedcba9876543210" * 2


@dataclass(frozen=True)
class UiData:
    """Where the fixture runs left their outputs, and their run ids."""

    out: Path
    run_id: str
    private_run_id: str


def _airflow(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def _run_id(dag_id: str) -> str:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run_id = session.scalar(
            select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc())
        )
    assert run_id, f"no run of {dag_id}"
    return run_id


@pytest.fixture(scope="session")
def ui_data(tmp_path_factory: pytest.TempPathFactory) -> UiData:
    """Migrate the DB and run the fixture DAGs once for the session (``ui_private`` runs last)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    dags = home / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    shutil.copy(DAG_FILE, dags / DAG_FILE.name)
    out = tmp_path_factory.mktemp("ui-outputs")
    env = {
        **os.environ,
        "QWENASR_UI_OUT": str(out),
        "AIRFLOW__QWEN_ASR__UI_SIGNING_KEY": SIGNING_KEY,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    _airflow("db", "migrate", env=env)
    # The run fails (the ``failing`` task fails on purpose); what matters is what it left behind.
    _airflow("dags", "test", "ui_fixture", env=env, check=False)
    _airflow("dags", "test", "ui_private", env=env)
    return UiData(out=out, run_id=_run_id("ui_fixture"), private_run_id=_run_id("ui_private"))


def _clear_plugin_caches() -> None:
    from airflow import plugins_manager

    for cached in (
        plugins_manager._get_plugins,
        plugins_manager.get_fastapi_plugins,
        plugins_manager._get_ui_plugins,
    ):
        cached.cache_clear()


@pytest.fixture(scope="session")
def ui_app(ui_data: UiData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Airflow's api-server app with the provider's plugin mounted, as ``airflow api-server`` builds it."""
    from airflow import settings

    # The plugin comes from the package's airflow.plugins entry point, as in a real deployment;
    # an empty plugins folder keeps the developer's own plugins out.
    plugins = tmp_path_factory.mktemp("plugins")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW__CORE__AUTH_MANAGER", "tests.ui.auth.RestrictedAuthManager")
    mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "viewer:viewer,outsider:viewer,nologs:viewer")
    mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", JWT_SECRET)
    mp.setenv("AIRFLOW__QWEN_ASR__UI_LOCAL_ROOTS", str(ui_data.out))
    mp.setenv("AIRFLOW__QWEN_ASR__UI_SIGNING_KEY", SIGNING_KEY)
    mp.setattr(settings, "PLUGINS_FOLDER", str(plugins))
    _clear_plugin_caches()
    from airflow.api_fastapi.app import create_app

    try:
        yield create_app()
    finally:
        mp.undo()
        _clear_plugin_caches()


@pytest.fixture(scope="session")
def tokens(ui_app: Any) -> dict[str, str]:
    """JWTs from the app's auth manager: ``viewer``, ``outsider`` (no ui_private), ``nologs`` (no task
    logs), ``nobody`` (no role)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    manager = get_auth_manager()
    users = {"viewer": "viewer", "outsider": "viewer", "nologs": "viewer", "nobody": None}
    return {
        name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))
        for name, role in users.items()
    }


@pytest.fixture
def client(ui_app: Any) -> Iterator[Any]:
    """An anonymous TestClient of the api-server app."""
    from fastapi.testclient import TestClient

    with TestClient(ui_app) as test_client:
        yield test_client
