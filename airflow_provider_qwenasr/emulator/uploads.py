"""The temporary-file upload: upload policies, the OSS form POST, and ``oss://`` resolution."""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from .errors import OssError
from .signing import Signer

POLICY_SECONDS = 300
MAX_FILE_MB = 1024
FILE_RETENTION_SECONDS = 48 * 3600


def account_of(api_key: str) -> str:
    """The account id behind a key (one key, one account), as it shows in upload directories."""
    return hashlib.md5(api_key.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file: who may use it, for which model, until when."""

    account: str
    model: str
    path: Path
    expires: float


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The fields of a ``multipart/form-data`` body (the file field's content as bytes).

    :raises OssError: when the body is not multipart.
    """
    if not content_type.lower().startswith("multipart/form-data"):
        raise OssError(400, "InvalidArgument", "The body of a POST object must be multipart/form-data.")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, bytes] = {}
    if not message.is_multipart():
        raise OssError(400, "InvalidArgument", "Malformed multipart body.")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = payload if isinstance(payload, bytes) else b""
    return fields


class UploadStore:
    """Policies handed out and files received, kept under ``root``."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self.root: Path | None = None

    def policy(self, api_key: str, model: str, now: float, upload_host: str) -> dict[str, Any]:
        """The ``data`` of a ``getPolicy`` answer for this key and model."""
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        upload_dir = f"dashscope-instant/{account_of(api_key)}/{day}/{uuid.uuid4()}"
        expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + POLICY_SECONDS))
        document = {
            "expiration": expiration,
            "conditions": [
                ["content-length-range", 0, MAX_FILE_MB * 1024 * 1024],
                ["starts-with", "$key", upload_dir],
                {"bucket": "dashscope-file-mgr"},
                {"x-oss-object-acl": "private"},
                {"x-oss-forbid-overwrite": "true"},
                # Not an OSS condition: lets the emulator tie the file to the model asked for.
                {"x-emulator-model": model},
            ],
        }
        policy = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
        return {
            "policy": policy,
            "signature": self._signer.policy_signature(policy),
            "upload_dir": upload_dir,
            "upload_host": upload_host,
            "expire_in_seconds": POLICY_SECONDS,
            "max_file_size_mb": MAX_FILE_MB,
            "capacity_limit_mb": 999999999,
            "oss_access_key_id": self._signer.access_key_id,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }

    def receive(self, fields: Mapping[str, bytes], now: float) -> str:
        """Check a form POST against its policy and store the file; return the object key.

        :raises OssError: as OSS answers: 403 for a bad signature or an expired or violated
            policy, 409 when the key exists, 400 for a malformed form.
        """
        text = {k: v.decode("utf-8", "replace") for k, v in fields.items() if k != "file"}
        for required in ("OSSAccessKeyId", "Signature", "policy", "key"):
            if not text.get(required):
                raise OssError(400, "InvalidArgument", f"Missing form field {required}.")
        if "file" not in fields:
            raise OssError(400, "InvalidArgument", "Missing form field file.")
        if text["OSSAccessKeyId"] != self._signer.access_key_id:
            raise OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist.")
        if not self._signer.check_policy(text["policy"], text["Signature"]):
            raise OssError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        document = json.loads(base64.b64decode(text["policy"]))
        expiration = time.strptime(document["expiration"].split(".")[0], "%Y-%m-%dT%H:%M:%S")
        if now > calendar.timegm(expiration):
            raise OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        conditions = document["conditions"]
        prefix = next(c[2] for c in conditions if isinstance(c, list) and c[0] == "starts-with")
        model = next(
            c["x-emulator-model"] for c in conditions if isinstance(c, dict) and "x-emulator-model" in c
        )
        key = text["key"]
        if not key.startswith(prefix + "/") or ".." in key.split("/"):
            raise OssError(
                403,
                "AccessDenied",
                f'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "{prefix}"]',
            )
        if len(fields["file"]) > MAX_FILE_MB * 1024 * 1024:
            raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        assert self.root is not None, "the server sets the storage root before serving"
        with self._lock:
            if key in self._files:
                raise OssError(
                    409,
                    "FileAlreadyExists",
                    "The object you specified already exists and can not be overwritten.",
                )
            path = self.root / hashlib.sha256(key.encode()).hexdigest()
            path.write_bytes(fields["file"])
            self._files[key] = StoredFile(prefix.split("/")[1], model, path, now + FILE_RETENTION_SECONDS)
        return key

    def resolve(self, key: str, api_key: str, model: str, now: float) -> bool:
        """Whether ``oss://key`` is a live upload of this key's account for this model."""
        with self._lock:
            stored = self._files.get(key)
        return (
            stored is not None
            and stored.account == account_of(api_key)
            and stored.model == model
            and now <= stored.expires
        )

    def clear(self) -> None:
        """Forget and delete every upload."""
        with self._lock:
            for stored in self._files.values():
                stored.path.unlink(missing_ok=True)
            self._files.clear()
