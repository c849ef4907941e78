"""What every e2e fixture does around a deployment, in one place: start it, then stop it and prove
that nothing of it survived; and how tests read what the emulator received."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from tests.e2e.deployment import AirflowDeployment
from tests.e2e.services import MARKER_ENV, processes_with_env


def stop_and_check(dep: AirflowDeployment, *, failed: bool) -> list[str]:
    """Stop ``dep`` by pid and return what went wrong (an empty list when all is well).

    When a test failed, every component's log tail is printed first; pytest shows teardown output in
    the failure report.
    """
    errors = []
    if failed:
        print(f"\n===== e2e deployment {dep.base_dir} (test failed) =====\n{dep.describe(80)}")
    try:
        dep.stop()
    except Exception as exc:
        errors.append(f"{dep.base_dir}: {exc}")
    # stop() already kills by marker; this double-checks that nothing of ours survived.
    if leftovers := processes_with_env(MARKER_ENV, dep.deployment_id):
        errors.append(f"{dep.base_dir}: leftover processes {[(p.pid, p.cmdline) for p in leftovers]}")
    # Visible with ``-rP``/``-s``: how long migrations, start-up and shutdown took here.
    timings = {k: round(v, 1) for k, v in dep.timings.items()}
    print(f"\ne2e deployment {dep.base_dir} timings (s): {timings}")
    return errors


@contextlib.contextmanager
def running(dep: AirflowDeployment, request: pytest.FixtureRequest) -> Iterator[AirflowDeployment]:
    """Start ``dep`` for a module-scoped fixture; stop and check it when the module is done."""
    failed_before = request.session.testsfailed
    try:
        dep.start()
        yield dep
    finally:
        errors = stop_and_check(dep, failed=request.session.testsfailed > failed_before)
        if errors:
            pytest.fail("e2e teardown problems:\n" + "\n".join(errors), pytrace=False)


def recorded(emulator: EmulatorServer, endpoint: str) -> list[dict[str, Any]]:
    """Requests of one kind the emulator received, read through its control API."""
    resp = requests.get(
        f"{emulator.root_url}/emulator-api/requests", params={"endpoint": endpoint}, timeout=30
    )
    resp.raise_for_status()
    return [r for r in resp.json()["requests"] if r["endpoint"] == endpoint]
