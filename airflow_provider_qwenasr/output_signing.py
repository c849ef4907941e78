"""Signatures on the outputs a manifest names, so the UI serves only what the provider wrote.

The manifest lives in XCom, which DAG authors and, through the REST API, any user allowed to edit
XComs can rewrite. The api-server reads outputs with its own credentials, so a rewritten manifest
could make it serve any object a connection reaches. Each output the fetch operators write is
therefore signed in the task: an HMAC-SHA256 over the task instance (DAG, run, task, map index),
the file index, the format, the URI and the output connection id, with a key from the
deployment's configuration. The UI serves an output only when its signature checks.

The key is ``[qwen_asr] ui_signing_key`` (comma-separated: the first signs, every one verifies,
for rotation), else ``[core] fernet_key``. Workers and the api-server must see the same value;
without a key nothing is signed and the UI serves no output (it says why).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OutputOwner", "output_signature_valid", "sign_manifest", "signing_keys"]

_DOMAIN = b"airflow-provider-qwenasr/ui-output/v1\x00"
#: Where each file entry of a manifest keeps its outputs' signatures, by format.
SIGNATURES_KEY = "output_signatures"


@dataclass(frozen=True)
class OutputOwner:
    """The task instance whose XCom holds the manifest."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int

    @classmethod
    def of(cls, ti: Any) -> OutputOwner:
        """The owner from a running task instance (``context["ti"]``)."""
        map_index = getattr(ti, "map_index", -1)
        return cls(
            str(ti.dag_id), str(ti.run_id), str(ti.task_id), -1 if map_index is None else int(map_index)
        )


def signing_keys() -> list[bytes]:
    """The deployment's keys, the signing one first; empty when none is configured."""
    from airflow.configuration import conf

    configured = conf.get("qwen_asr", "ui_signing_key", fallback="") or ""
    secrets = [part.strip() for part in configured.split(",") if part.strip()]
    if not secrets:
        fernet = (conf.get("core", "fernet_key", fallback="") or "").strip()
        secrets = [fernet] if fernet else []
    # Derived, never used as is: a signature must not help anyone against the Fernet key itself.
    return [hashlib.sha256(_DOMAIN + secret.encode("utf-8")).digest() for secret in secrets]


def _signature(key: bytes, owner: OutputOwner, index: int, fmt: str, uri: str, conn_id: str | None) -> str:
    message = json.dumps(
        [owner.dag_id, owner.run_id, owner.task_id, owner.map_index, index, fmt, uri, conn_id],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_manifest(manifest: dict[str, Any], owner: OutputOwner) -> bool:
    """Add ``output_signatures`` to each file entry of ``manifest``; ``False`` when no key is set."""
    keys = signing_keys()
    if not keys:
        return False
    conn_id = manifest.get("output_conn_id")
    for position, entry in enumerate(manifest.get("files") or []):
        outputs = entry.get("outputs") or {}
        index = int(entry.get("index", position))
        entry[SIGNATURES_KEY] = {
            fmt: _signature(keys[0], owner, index, fmt, uri, conn_id) for fmt, uri in outputs.items()
        }
    return True


def output_signature_valid(
    manifest: Mapping[str, Any], entry: Mapping[str, Any], owner: OutputOwner, index: int, fmt: str, uri: str
) -> bool:
    """Whether ``entry`` carries a valid signature of output ``fmt`` (``uri``) for ``owner``."""
    signatures = entry.get(SIGNATURES_KEY)
    given = signatures.get(fmt) if isinstance(signatures, Mapping) else None
    if not isinstance(given, str):
        return False
    conn_id = manifest.get("output_conn_id")
    if conn_id is not None and not isinstance(conn_id, str):
        return False
    return any(
        hmac.compare_digest(given, _signature(key, owner, index, fmt, uri, conn_id)) for key in signing_keys()
    )
