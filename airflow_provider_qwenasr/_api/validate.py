"""What a user passes, checked before a billed call: task ids, audio URLs, the submit body."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from airflow_provider_qwenasr.exceptions import QwenASRInputError, redact_url

__all__ = [
    "KNOWN_MODELS",
    "MAX_FILES_PER_TASK",
    "build_submit_body",
    "model_family",
    "validate_file_url",
    "validate_task_id",
]

#: Files per Fun-ASR task: older documentation allows 100; the service refuses more.
MAX_FILES_PER_TASK = 100

QWEN3_MODEL_PREFIXES = ("qwen3-asr", "qwen-asr")
KNOWN_MODELS = frozenset(
    {
        "qwen3-asr-flash-filetrans",
        "fun-asr",
        "fun-asr-mtl",
        "fun-asr-2025-11-07",
        "fun-asr-2025-08-25",
        "paraformer-v2",
        "paraformer-v1",
        "paraformer-8k-v2",
        "paraformer-8k-v1",
        "paraformer-mtl-v1",
        "sensevoice-v1",
    }
)
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
#: What a template renders when the XCom it reads is empty (Python's, Jinja's and JSON's nothing).
_NO_VALUE = frozenset({"none", "null", "undefined", "nan"})


def validate_task_id(task_id: object) -> str:
    """Return ``task_id`` stripped, or raise if it cannot be a DashScope task id.

    :raises QwenASRInputError: for an empty, non-string or malformed id (slashes, spaces, …), and for
        ``"None"``/``"null"``, what a template renders from an upstream task that returned nothing.
    """
    if not isinstance(task_id, str) or not task_id.strip():
        raise QwenASRInputError(
            f"asr_task_id must be a non-empty string, got {task_id!r}",
            hint="Pass the submit task's output, e.g. asr_task_id=submit.output",
        )
    value = task_id.strip()
    if value.lower() in _NO_VALUE:
        raise QwenASRInputError(
            f"asr_task_id rendered to {value!r}: the upstream task returned no task id",
            hint="Check that the upstream task returned the submit operator's output (its return "
            "value is the task id), e.g. asr_task_id=submit.output",
        )
    if not _TASK_ID.match(value):
        raise QwenASRInputError(
            f"asr_task_id {value[:80]!r} is not a DashScope task id",
            hint="A task id looks like 8fab76d0-0eed-4d20-929f-0123456789ab; check the templated value",
        )
    return value


def validate_file_url(url: object) -> str:
    """Return an audio URL DashScope can download, percent-encoding spaces and non-ASCII characters.

    :raises QwenASRInputError: for anything but an ``http``, ``https`` or ``oss`` URL with a host.
    """
    if not isinstance(url, str) or not url.strip():
        raise QwenASRInputError(f"file_url must be a non-empty string, got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https", "oss"} or not parts.netloc:
        raise QwenASRInputError(
            f"file_url {redact_url(url)!r} is not an http(s) or oss:// URL",
            hint="DashScope downloads the audio itself: give a public or pre-signed URL, "
            "or audio_path= to have the provider sign or upload it",
        )
    safe = "/%:@!$&'()*+,;=-._~"
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe + "?"),
            "",
        )
    )


def model_family(model: str) -> str:
    """``"qwen3"`` for Qwen3-ASR filetrans models (one ``file_url``), ``"funasr"`` for the rest."""
    return "qwen3" if model.lower().startswith(QWEN3_MODEL_PREFIXES) else "funasr"


def build_submit_body(
    model: str,
    *,
    file_url: str | None = None,
    file_urls: Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    resources: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build and validate a submit body; nothing billed happens before this passes.

    Qwen3 models take exactly one ``file_url``; Fun-ASR/Paraformer models take ``file_urls`` (a single
    ``file_url`` is wrapped). Unknown model names pass through with a warning, since DashScope adds
    models faster than this list.

    :raises QwenASRInputError: for a missing model, no or too many files, bad URLs or parameters
        that are not a dict.
    """
    if not isinstance(model, str) or not model.strip():
        raise QwenASRInputError("model must be a non-empty string, e.g. 'qwen3-asr-flash-filetrans'")
    model = model.strip()
    if model not in KNOWN_MODELS:
        warnings.warn(
            f"Model {model!r} is not one this provider knows; sending it as is",
            UserWarning,
            stacklevel=3,
        )
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise QwenASRInputError(
            f"parameters must be a dict, got {type(parameters).__name__}",
            hint='e.g. parameters={"language": "en", "enable_words": True}',
        )
    if file_url is not None and file_urls is not None:
        raise QwenASRInputError("Pass file_url or file_urls, not both")
    urls: list[str]
    if file_urls is not None:
        if isinstance(file_urls, str) or not isinstance(file_urls, Sequence):
            raise QwenASRInputError("file_urls must be a list of URLs")
        urls = [validate_file_url(u) for u in file_urls]
    elif file_url is not None:
        urls = [validate_file_url(file_url)]
    else:
        urls = []
    if not urls:
        raise QwenASRInputError("No audio given: pass file_url (or file_urls for Fun-ASR models)")
    input_: dict[str, Any]
    if model_family(model) == "qwen3":
        if len(urls) != 1:
            raise QwenASRInputError(
                f"Model {model} takes exactly one file per task, got {len(urls)}",
                hint="Map the operator over the files instead: .expand(file_url=[...])",
            )
        input_ = {"file_url": urls[0]}
    else:
        if len(urls) > MAX_FILES_PER_TASK:
            raise QwenASRInputError(
                f"{len(urls)} files in one task; DashScope accepts at most {MAX_FILES_PER_TASK}",
                hint="Split the list into several tasks, e.g. with dynamic task mapping",
            )
        input_ = {"file_urls": urls}
    body: dict[str, Any] = {"model": model, "input": input_, "parameters": dict(parameters)}
    if resources:
        body["resources"] = [dict(r) for r in resources]
    return body
