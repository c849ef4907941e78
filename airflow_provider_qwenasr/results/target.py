"""The output target, checked before any query: its connection, its file system, and a probe write.

:func:`check_output_target` proves the folder can be written (a probe object created and removed)
and turns each failure into a :class:`~airflow_provider_qwenasr.exceptions.QwenASRInputError` that
says why, with the path shown without its query or credentials.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_qwenasr.exceptions import QwenASRInputError, redact_url

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

__all__ = ["check_output_target"]


def check_output_target(output_path: str, output_conn_id: str | None) -> ObjectStoragePath:
    """The output folder, with its connection and file system checked: call it before any query.

    Airflow's S3 file system falls back to ambient credentials when the connection is missing, which
    would fail only at the first write (or write with the wrong identity): refuse it up front.

    :raises QwenASRInputError: for a connection Airflow does not know, or an unusable URI.
    """
    from airflow_provider_qwenasr.results.storage import is_local, output_root

    if output_conn_id:
        from airflow_provider_qwenasr._compat import BaseHook

        try:
            BaseHook.get_connection(output_conn_id)
        except Exception as exc:  # AirflowNotFoundException, whose import path moved between versions
            raise QwenASRInputError(
                f"output_conn_id {output_conn_id!r} is not a connection Airflow knows ({type(exc).__name__})",
                hint=f"Create it, or set AIRFLOW_CONN_{output_conn_id.upper()}",
            ) from None
    try:
        root = output_root(str(output_path), output_conn_id)
        if not is_local(root):
            # Resolves the protocol's file system: an unknown scheme or a missing package fails here.
            root.fs  # noqa: B018
    except (ValueError, ImportError) as exc:
        raise QwenASRInputError(
            f"output_path {redact_url(str(output_path))!r} cannot be used: {exc}",
            hint="Use a URI Airflow's ObjectStoragePath supports (s3://, gs://, file://…) and install "
            "its file system package",
        ) from None
    if is_local(root):
        _check_local_target(str(output_path), root)
    else:
        _probe_remote_target(str(output_path), root)
    return root


def _probe_name() -> str:
    import uuid

    return f".qwenasr-probe-{uuid.uuid4().hex}"


def _check_local_target(output_path: str, root: ObjectStoragePath) -> None:
    """Refuse a relative path; prove a probe file can be created and removed under the local root."""
    import os

    shown = redact_url(output_path)
    raw = output_path
    if raw.startswith("file://"):
        raw = raw[len("file://") :]
    elif raw.startswith("local://"):
        raw = raw[len("local://") :]
    if not os.path.isabs(raw):
        raise QwenASRInputError(
            f"output_path {shown!r} is a relative path: it would write into the worker's working directory",
            hint="Pass an absolute file:// URI, e.g. 'file:///data/transcripts'",
        )
    folder = Path(root.path)
    probe = folder / _probe_name()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with probe.open("xb"):
            pass
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        raise QwenASRInputError(
            f"output_path {shown!r} cannot be written: {_why_local(exc)}",
            hint="Pass an absolute file:// URI of a directory the worker can create files in",
        ) from None


def _why_local(exc: OSError) -> str:
    import errno

    if isinstance(exc, NotADirectoryError) or exc.errno == errno.ENOTDIR:
        return f"a part of it is a regular file, not a directory ({exc.filename or ''})".replace(" ()", "")
    if isinstance(exc, FileExistsError):
        return "it exists and is not a directory"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied ({exc.strerror})"
    if isinstance(exc, FileNotFoundError):
        return f"a parent directory cannot be created ({exc.strerror})"
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def _probe_remote_target(output_path: str, root: ObjectStoragePath) -> None:
    """Prove an object can be created and removed under the remote root (bucket exists, permissions)."""
    shown = redact_url(output_path)
    probe = root / _probe_name()
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except Exception as exc:  # botocore / fsspec errors, whose types vary by store
        raise QwenASRInputError(
            f"output_path {shown!r} cannot be written: {_why_remote(exc)}",
            hint="Create the bucket, fix the path, or give output_conn_id's identity permission to put "
            "and delete objects there",
        ) from None


def _why_remote(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if "nosuchbucket" in lowered or "bucket does not exist" in lowered or "specified bucket" in lowered:
        return "the bucket does not exist"
    if isinstance(exc, FileNotFoundError):
        return "the bucket does not exist or the path is not found"
    if isinstance(exc, PermissionError) or "accessdenied" in lowered or "forbidden" in lowered:
        return "permission denied"
    return redact_url(text[:300])
