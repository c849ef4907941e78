"""Authorization: the api-server's own dependencies, so transcripts are exactly as private as the DAG.

Every route depends on :data:`ReadTranscript` (``requires_access_dag("GET", XCOM)``, what the core
API's XCom endpoints use): an anonymous request gets 401 from ``get_user`` (JWT from the
``Authorization`` header or the UI's ``_token`` cookie), a user the auth manager does not allow to
read the DAG's XComs gets 403. Listing pages filter by the auth manager's
``get_authorized_dag_ids``. Nothing here decides access by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from airflow.models.dag import DagModel
from fastapi import Depends

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

__all__ = ["ReadTranscript", "UserDep", "can_read_logs", "readable_dag_ids"]

#: Read access to the DAG named by the ``dag_id`` path or query parameter (any DAG when absent).
ReadTranscript = Depends(requires_access_dag("GET", DagAccessEntity.XCOM))

#: The authenticated user (401 when there is none).
UserDep = GetUserDep


def readable_dag_ids(user: BaseUser) -> set[str]:
    """The DAG ids whose transcripts ``user`` may read, according to the auth manager."""
    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def can_read_logs(user: BaseUser, dag_id: str) -> bool:
    """Whether ``user`` may read the task logs of ``dag_id`` (needed to show a failure's log lines)."""
    return bool(
        get_auth_manager().is_authorized_dag(
            method="GET",
            access_entity=DagAccessEntity.TASK_LOGS,
            details=DagDetails(id=dag_id, team_name=DagModel.get_team_name(dag_id)),
            user=user,
        )
    )
