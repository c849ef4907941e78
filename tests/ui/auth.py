"""An auth manager for the tests: SimpleAuthManager plus one user who may not read ``ui_private``.

SimpleAuthManager grants by role only (a viewer reads every DAG), while FAB or Keycloak deployments
grant per DAG. ``outsider`` models such a user; the UI only ever asks the auth manager, so it must
refuse them ``ui_private`` on every route. A user whose role is None is refused every DAG.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

PRIVATE_DAG = "ui_private"
OUTSIDER = "outsider"


class RestrictedAuthManager(SimpleAuthManager):
    """SimpleAuthManager in which the user ``outsider`` may not access :data:`PRIVATE_DAG`."""

    def is_authorized_dag(
        self, *, method: Any, user: SimpleAuthManagerUser, access_entity: Any = None, details: Any = None
    ) -> bool:
        """Deny ``outsider`` the private DAG; everything else as SimpleAuthManager decides."""
        if user.username == OUTSIDER and details is not None and details.id == PRIVATE_DAG:
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
