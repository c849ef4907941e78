"""Files an operator reads at run time (a hot-word list, a context text), found beside the DAG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_qwenasr.exceptions import QwenASRInputError

__all__ = ["read_dag_file"]


def read_dag_file(operator: Any, path: str, *, argument: str, hint: str) -> str:
    """The text of ``path`` (UTF-8), taken relative to the DAG file's folder unless absolute.

    :param operator: the operator reading it (its ``dag.fileloc`` anchors a relative path).
    :param argument: the operator argument that named the file, for the error.
    :param hint: what the file must hold, for the error.
    :raises QwenASRInputError: when the file cannot be read, before anything is billed.
    """
    file = Path(str(path))
    if not file.is_absolute():
        try:
            fileloc = operator.dag.fileloc
        except RuntimeError:  # "has not been assigned to a Dag yet": relative to the working folder
            fileloc = None
        if fileloc:
            file = Path(fileloc).parent / file
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QwenASRInputError(f"{argument} {str(file)!r} cannot be read: {error}", hint=hint) from None
