"""Writing finished files to object storage through Airflow's ``ObjectStoragePath``, atomically.

A reader must never see a half-written object, and a re-run must overwrite the same keys:

* **local paths** (``file://`` or a bare path): the file is copied to a hidden temporary name in the
  destination directory, flushed to disk, then renamed over the final name with ``os.replace``,
  which is atomic on POSIX and Windows.
* **object stores** (S3, GCS, Azure, OSS, …): one ``put_file`` of the finished local file. A single PUT,
  or a multipart upload that the store assembles only when it completes, becomes visible whole.
* **other fsspec file systems** (SFTP, HDFS, …), whose uploads may be visible while they run: the file
  is uploaded under a hidden temporary name, then moved over the final name.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

__all__ = ["is_local", "object_uri", "output_root", "publish_file"]

_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
#: Stores whose uploads become visible only once complete.
_S3_PROTOCOLS = frozenset({"s3", "s3a", "s3n"})
_S3_PART_BYTES = 8 << 20
_ATOMIC_UPLOAD_PROTOCOLS = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "az", "adl", "oss", "r2", "memory"}
)


def output_root(output_path: str, conn_id: str | None) -> ObjectStoragePath:
    """The ``ObjectStoragePath`` of ``output_path`` (``s3://bucket/prefix``, ``file:///dir``, ``/dir``)."""
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(output_path, conn_id=conn_id)


def is_local(path: ObjectStoragePath) -> bool:
    """Whether ``path`` is on the local file system."""
    return (path.protocol or "") in _LOCAL_PROTOCOLS


def object_uri(path: ObjectStoragePath) -> str:
    """The URI of ``path`` as the manifest shows it: no connection id, no credentials.

    ``ObjectStoragePath`` prints ``s3://conn@bucket/key`` when it has a connection; the manifest
    names the connection once, in ``output_conn_id``, and lists plain ``s3://bucket/key`` URIs that
    are also valid Asset URIs.
    """
    if is_local(path):
        return Path(path.path).absolute().as_uri()
    return f"{path.protocol}://{path.path}"


def publish_file(local: Path, dest: ObjectStoragePath) -> None:
    """Copy the finished local file ``local`` to ``dest`` so that ``dest`` appears whole or not at all."""
    if is_local(dest):
        _replace_local(local, Path(dest.path))
        return
    fs = dest.fs
    if dest.protocol in _ATOMIC_UPLOAD_PROTOCOLS:
        fs.put_file(str(local), dest.path, **_upload_options(dest.protocol, local))
        return
    parent = dest.path.rsplit("/", 1)[0]
    temporary = f"{parent}/.{dest.name}.{uuid.uuid4().hex}.part"
    fs.makedirs(parent, exist_ok=True)
    fs.put_file(str(local), temporary)
    try:
        fs.mv(temporary, dest.path)
    except BaseException:
        fs.rm(temporary)
        raise


def _upload_options(protocol: str, local: Path) -> dict[str, int]:
    """Keep an upload's memory small: s3fs reads a whole file under 100 MiB into memory for one
    PUT, and above that ten 50 MiB parts at once; 8 MiB parts, four at a time, bound it to ~32 MiB."""
    if protocol not in _S3_PROTOCOLS:
        return {}
    # S3 allows 10,000 parts: grow the part size only for files over 80 GB.
    part = max(_S3_PART_BYTES, -(-local.stat().st_size // 10_000))
    return {"chunksize": part, "max_concurrency": 4}


def _replace_local(local: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    # A hidden name in the same directory (so the rename stays on one file system), opened with
    # "x" so it honours the umask like any new file and never reuses another writer's name.
    temporary = final.parent / f".{final.name}.{uuid.uuid4().hex}.part"
    try:
        with local.open("rb") as source, temporary.open("xb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
            target.flush()
            # On disk before the rename: after a power cut the name holds the old or the new file.
            os.fsync(target.fileno())
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
