"""Result files: streaming a signed result URL, bounded in size, and downloading it whole with retries.

A result URL carries its own signature (no Authorization header is sent), and is a credential: it
never appears in an error or a log line, only its path
(:func:`~airflow_provider_qwenasr.exceptions.redact_url`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_qwenasr import metrics
from airflow_provider_qwenasr._api.errors import result_error
from airflow_provider_qwenasr._api.retry import RetryPolicy
from airflow_provider_qwenasr.exceptions import QwenASRConnectionError, QwenASRResultError, redact_url

if TYPE_CHECKING:
    import requests

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "download_result", "open_result"]

#: The largest result file downloaded (1 GiB); the fetch operators' ``max_result_bytes`` default.
DEFAULT_MAX_RESULT_BYTES = 1 << 30
_TOO_BIG_HINT = "Raise max_result_bytes on the operator if this is expected"


@contextlib.contextmanager
def open_result(
    url: str,
    *,
    timeout: tuple[float, float],
    max_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    chunk_size: int = 1 << 20,
) -> Iterator[Iterator[bytes]]:
    """Open a signed result URL and yield an iterator over its bytes, streamed in chunks.

    Not retried: see :func:`download_result`.

    :raises QwenASRResultError: on 403 (expired or altered link), 404, or a file over ``max_bytes``.
    :raises QwenASRConnectionError: when the connection drops or the body is shorter than announced.
    """
    import requests

    shown = redact_url(url)
    try:
        response = requests.get(url, stream=True, timeout=timeout)
    except requests.RequestException as exc:
        # The exception's text holds the full URL, signature included: name only its type.
        raise QwenASRConnectionError(
            f"Could not download the result from {shown} ({type(exc).__name__})"
        ) from None
    with response:
        if response.status_code != 200:
            raise result_error(response.status_code, response.content[:4096], response.headers, shown)
        announced = response.headers.get("Content-Length")
        if announced and announced.isdigit() and int(announced) > max_bytes:
            raise QwenASRResultError(
                f"The result file is {int(announced):,} bytes, over the limit of {max_bytes:,} bytes",
                hint=_TOO_BIG_HINT,
            )
        yield _counted_chunks(response, chunk_size, max_bytes, announced, shown)


def download_result(
    url: str,
    sink: IO[bytes],
    *,
    timeout: tuple[float, float],
    retry_policy: RetryPolicy,
    log: logging.Logger | Any,
    max_bytes: int = DEFAULT_MAX_RESULT_BYTES,
) -> int:
    """Stream a result file into ``sink`` (a seekable binary file); return the byte count.

    A transient failure restarts the download from the beginning (the sink is rewound and
    truncated), as ``retry_policy`` allows.
    """

    def once() -> int:
        sink.seek(0)
        sink.truncate()
        written = 0
        with open_result(url, timeout=timeout, max_bytes=max_bytes) as chunks:
            for chunk in chunks:
                sink.write(chunk)
                written += len(chunk)
        sink.flush()
        return written

    return retry_policy.call(once, what="Result download", log=log)


def _counted_chunks(
    response: requests.Response, chunk_size: int, max_bytes: int, announced: str | None, shown: str
) -> Iterator[bytes]:
    import requests

    received = 0
    try:
        for chunk in response.iter_content(chunk_size):
            received += len(chunk)
            if received > max_bytes:
                raise QwenASRResultError(
                    f"The result file is over the limit of {max_bytes:,} bytes", hint=_TOO_BIG_HINT
                )
            yield chunk
    except requests.RequestException as exc:
        raise QwenASRConnectionError(
            f"The result download from {shown} broke after {received:,} bytes ({type(exc).__name__})"
        ) from None
    finally:  # every byte received counts, the body complete, cut short or abandoned
        metrics.result_bytes(received)
    if announced and announced.isdigit() and received != int(announced):
        raise QwenASRConnectionError(
            f"The result download from {shown} ended after {received:,} of {int(announced):,} bytes"
        )
