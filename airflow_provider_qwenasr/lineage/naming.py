"""Dataset names by OpenLineage's naming spec, for the audio read and the objects written.

* ``s3://bucket/key`` → namespace ``s3://bucket``, name ``key`` (as the Amazon provider names S3);
  ``gs://``, ``oss://`` and other object stores alike (``gcs://`` as ``gs://``, ``s3a://`` as ``s3://``);
* a local file, ``file:///data/a.wav`` or ``/data/a.wav`` → namespace ``file``, name ``/data/a.wav``
  (as the common-io provider names a file asset; ``file://host/path`` → ``file://host``);
* ``https://host:8443/a.wav?Signature=…`` → namespace ``https://host:8443``, name ``/a.wav``.

The query string (a pre-signed URL's signature), the fragment and any ``user:password@`` never go
into a name. Nothing here imports OpenLineage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DatasetName", "dataset_name", "dataset_names"]

#: Schemes written another way by OpenLineage's naming spec.
_SCHEMES = {"gcs": "gs", "s3a": "s3", "s3n": "s3", "local": "file"}
#: Azure's authority is ``container@account…``: the part before ``@`` is the container, no credential.
_AZURE = frozenset({"abfs", "abfss", "wasb", "wasbs", "az", "adl"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class DatasetName:
    """An OpenLineage dataset's identity: its namespace (where) and its name (what, in there)."""

    namespace: str
    name: str


def dataset_name(location: str) -> DatasetName | None:
    """The dataset of an audio URL, an object-storage URI or a local path; ``None`` when it names none.

    ``None`` for an empty or unparsable location, or a URL without a host or bucket.
    """
    try:
        parts = urlsplit(location.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = _SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme in ("", "file"):
        host = parts.hostname
        if not parts.path:
            return None
        if host and host != "localhost":
            return DatasetName(f"file://{host}", parts.path)
        return DatasetName("file", parts.path)
    host = parts.hostname
    if not host:
        return None
    if scheme in _DEFAULT_PORTS:
        authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
        return DatasetName(f"{scheme}://{authority}", parts.path or "/")
    authority = parts.netloc if scheme in _AZURE else (f"{host}:{port}" if port else host)
    return DatasetName(f"{scheme}://{authority}", parts.path.lstrip("/") or "/")


def dataset_names(locations: Iterable[str | None]) -> list[DatasetName]:
    """The datasets of ``locations``, each once and in order, skipping those that name none."""
    found: dict[DatasetName, None] = {}
    for location in locations:
        if location:
            name = dataset_name(location)
            if name is not None:
                found.setdefault(name)
    return list(found)
