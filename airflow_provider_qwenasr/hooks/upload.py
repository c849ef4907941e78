"""DashScope's temporary storage (Beijing only): posting a local file under an upload policy.

The policy comes from ``GET /uploads?action=getPolicy`` (the hook asks for it); the file goes to the
policy's OSS host as a form POST, and is then submitted as ``oss://{key}`` with the resolve header.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_qwenasr.exceptions import QwenASRApiError, QwenASRConnectionError

__all__ = ["post_to_temporary_storage"]


def post_to_temporary_storage(
    policy: Mapping[str, Any], source: Path, *, timeout: tuple[float, float]
) -> str:
    """POST ``source`` to the policy's host; return its ``oss://`` URL (valid 48 hours).

    :raises QwenASRApiError: when the policy lacks a field or the storage refuses the file.
    :raises QwenASRConnectionError: when the storage cannot be reached.
    """
    import requests

    try:
        key = f"{policy['upload_dir']}/{source.name}"
        fields = {
            "OSSAccessKeyId": policy["oss_access_key_id"],
            "Signature": policy["signature"],
            "policy": policy["policy"],
            "key": key,
            "x-oss-object-acl": policy["x_oss_object_acl"],
            "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
            "success_action_status": "200",
            "x-oss-content-type": mimetypes.guess_type(source.name)[0] or "application/octet-stream",
        }
        host = str(policy["upload_host"])
    except KeyError as missing:
        raise QwenASRApiError(f"The upload policy lacks {missing}") from None
    with source.open("rb") as handle:
        try:
            response = requests.post(
                host, data=fields, files={"file": (source.name, handle)}, timeout=timeout
            )
        except requests.RequestException as exc:
            raise QwenASRConnectionError(
                f"Upload to temporary storage failed ({type(exc).__name__})"
            ) from None
    if response.status_code != 200:
        raise QwenASRApiError(
            f"Upload to temporary storage failed with HTTP {response.status_code}",
            http_status=response.status_code,
            service_message=response.text[:200],
        )
    return f"oss://{key}"
