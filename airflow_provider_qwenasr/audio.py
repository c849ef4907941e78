"""Audio that is not public: turning an object-storage path into a URL DashScope can download.

DashScope fetches the audio itself, so it needs an internet-reachable URL. For a private object in a
store that can sign (S3, GCS, OSS…) we hand it a short-lived pre-signed URL; for a local file we use
DashScope's temporary upload (``oss://`` URL, Beijing region, 48 h, not for production volumes).

A signed URL is a credential: it is registered with Airflow's secret masker and never logged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.masking import mask

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

__all__ = ["DEFAULT_AUDIO_URL_EXPIRY", "audio_url"]

#: How long a pre-signed audio URL stays valid: the task may wait in the queue before DashScope
#: downloads the file, and an expired URL fails the task with FILE_403_FORBIDDEN.
DEFAULT_AUDIO_URL_EXPIRY = timedelta(hours=24)


def audio_url(
    path: str,
    *,
    hook: QwenASRHook,
    model: str,
    conn_id: str | None = None,
    expiry: timedelta = DEFAULT_AUDIO_URL_EXPIRY,
) -> str:
    """Return a URL DashScope can download ``path`` from.

    :param path: an ``ObjectStoragePath`` URI (``s3://bucket/key.wav``, ``gs://…``, ``file:///…``) or
        a local path.
    :param hook: the Qwen-ASR hook (used for the temporary upload of local files).
    :param model: the model the task will use (a temporary upload is valid for that model only).
    :param conn_id: the object store's Airflow connection (e.g. an ``aws`` connection).
    :param expiry: how long a pre-signed URL stays valid.
    :raises QwenASRInputError: when the object is missing, or its store cannot sign URLs.
    """
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_qwenasr.results.storage import is_local

    try:
        source = ObjectStoragePath(path, conn_id=conn_id)
        # With universal-pathlib 0.2 (Airflow 3.0, 3.1) an unknown scheme fails only here, when the
        # file system is first needed: "No filesystem registered for scheme ...".
        is_file = source.is_file()
    except Exception as error:  # ObjectStoragePath raises assorted errors for unknown schemes
        raise QwenASRInputError(
            f"audio_path {path!r} is not an object storage path ({type(error).__name__}: {error})",
            hint="Use a URI such as s3://bucket/key.wav, gs://bucket/key.wav or file:///path/to/audio.wav",
        ) from None
    if not is_file:
        raise QwenASRInputError(
            f"audio_path {path!r} does not exist or is not a file",
            hint="Check the path and that audio_conn_id can read it",
        )
    if is_local(source):
        return hook.upload_file(source.path, model=model)
    try:
        url = str(source.fs.sign(source.path, expiration=int(expiry.total_seconds())))
    except NotImplementedError:
        raise QwenASRInputError(
            f"The {source.protocol}:// store cannot make signed URLs for DashScope to download from",
            hint="Give file_url= a public or pre-signed URL, or keep the audio in S3, GCS, OSS or locally",
        ) from None
    mask(url)
    return url
