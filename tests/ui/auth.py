"""An auth manager for the tests: SimpleAuthManager, plus a user who may not read ``ui_private``
and one who may read no task log.

SimpleAuthManager grants by role only (a viewer reads every DAG), while FAB or Keycloak deployments
grant per DAG. ``outsider`` models such a user; the UI only ever asks the auth manager, so it must
refuse them ``ui_private`` on every route. A user whose role is None is refused every DAG.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

PRIVATE_DAG = "ui_private"
OUTSIDER = "outsider"
#: A viewer who may read every DAG but no task log.
NO_LOGS = "nologs"


class RestrictedAuthManager(SimpleAuthManager):
    """SimpleAuthManager where ``outsider`` may not access :data:`PRIVATE_DAG`, nor ``nologs`` task logs."""

    def is_authorized_dag(
        self, *, method: Any, user: SimpleAuthManagerUser, access_entity: Any = None, details: Any = None
    ) -> bool:
        """Deny ``outsider`` the private DAG and ``nologs`` every task log; the rest as the base decides."""
        if user.username == OUTSIDER and details is not None and details.id == PRIVATE_DAG:
            return False
        if user.username == NO_LOGS and access_entity == DagAccessEntity.TASK_LOGS:
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
