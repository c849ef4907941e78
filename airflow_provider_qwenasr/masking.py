"""What the provider hides: secrets registered with Airflow's masker, URL queries cut from documents.

The query string of an audio or result URL may be a credential (OSS ``Signature=`` and
``OSSAccessKeyId=``, S3 ``X-Amz-Signature=`` and ``X-Amz-Credential=``, a CDN token…), so the
provider treats every query as one: it is masked wherever Airflow shows a value (logs, rendered
template fields) and replaced by ``…`` (:func:`~airflow_provider_qwenasr.exceptions.redact_url`) in
the documents the provider writes (the ``json`` output, ``xcom_output="full"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_qwenasr.exceptions import redact_url

__all__ = ["copy_without_url_queries", "mask", "mask_url_queries", "redact_secrets", "scrub", "url_query"]

#: Query parameters whose value is masked on its own too (it may show up outside its URL).
_CREDENTIAL_PARAMS = re.compile(r"signature|credential|accesskeyid|security-token|token|sig$", re.IGNORECASE)
#: The head of a result document searched for its ``file_url`` as the service encoded it.
_HEAD_BYTES = 64 * 1024
_FILE_URL_TOKEN = re.compile(rb'"file_url"\s*:\s*("(?:[^"\\]|\\.)*")')
_CHUNK = 1 << 20
#: Anything that looks like a URL: scheme, ``://``, then up to a space, a quote or a bracket.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>()\[\]{}]+")
#: A ``name=value`` whose name says credential, outside any URL (``Signature=…`` quoted alone).
_CREDENTIAL_PAIR = re.compile(
    r"(?i)\b([\w.-]*(?:signature|credential|accesskeyid|security-token|token)[\w.-]*)=[^&\s\"'<>]+"
)


def mask(secret: str) -> None:
    """Register ``secret`` with Airflow's secrets masker, wherever this Airflow version keeps it."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow < 3.1 keeps it elsewhere
        try:
            from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]
        except ImportError:
            return
    mask_secret(secret)


def redact_secrets(value: str) -> str:
    """``value`` with every secret Airflow's masker knows replaced (as is where there is no masker)."""
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow < 3.2 keeps the masker elsewhere
        try:
            from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef]
        except ImportError:
            try:
                from airflow.utils.log.secrets_masker import redact  # type: ignore[no-redef]
            except ImportError:
                return value
    redacted = redact(value)
    return redacted if isinstance(redacted, str) else value


def scrub(value: Any) -> Any:
    """A JSON-safe copy of ``value`` for durable state: URLs without their queries, no credential.

    Strings show each URL without its query, a credential-like ``name=value`` outside a URL as
    ``name=***``, and no secret Airflow's masker knows.
    """
    if isinstance(value, str):
        text = _URL.sub(lambda match: redact_url(match.group(0)), value)
        return redact_secrets(_CREDENTIAL_PAIR.sub(r"\1=***", text))
    if isinstance(value, Mapping):
        return {str(key): scrub(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return scrub(str(value))


def url_query(url: object) -> str:
    """The query string of ``url`` (``""`` for none, a non-string or an unparsable URL)."""
    if not isinstance(url, str):
        return ""
    try:
        return urlsplit(url).query
    except ValueError:
        return ""


def mask_url_queries(urls: Iterable[object]) -> None:
    """Mask the query string of each URL, and each credential-like value in it, in Airflow's output.

    Rendered template fields, logs and error messages then show ``https://host/a.wav?***``.
    """
    for url in urls:
        query = url_query(url)
        if not query:
            continue
        mask(query)
        for name, value in parse_qsl(query):
            if _CREDENTIAL_PARAMS.search(name) and len(value) > 4:
                mask(value)


def copy_without_url_queries(source: Path, target: Path, urls: Iterable[str | None]) -> bool:
    """Copy a result document, replacing each URL in ``urls`` that has a query by its redacted form.

    The copy is byte for byte, streamed, except for those URLs' JSON strings: the document's own
    ``file_url`` token as the service encoded it, and the usual JSON encodings of each URL.
    Returns ``False`` (and writes nothing) when no URL has a query: the source is then the output.
    """
    signed = {u for u in urls if u and url_query(u)}
    if not signed:
        return False
    swaps: dict[bytes, bytes] = {}
    for url in signed:
        new = json.dumps(redact_url(url), ensure_ascii=False).encode("utf-8")
        for old in (
            json.dumps(url),
            json.dumps(url, ensure_ascii=False),
            json.dumps(url).replace("/", "\\/"),
        ):
            swaps[old.encode("utf-8")] = new
    with source.open("rb") as head:
        found = _FILE_URL_TOKEN.search(head.read(_HEAD_BYTES))
    if found is not None:
        token = found.group(1)
        try:
            value = json.loads(token)
        except ValueError:
            value = None
        if isinstance(value, str) and url_query(value):
            swaps[token] = json.dumps(redact_url(value), ensure_ascii=False).encode("utf-8")
    _stream_replace(source, target, swaps)
    return True


def _stream_replace(source: Path, target: Path, swaps: dict[bytes, bytes]) -> None:
    """Copy ``source`` to ``target`` in chunks, replacing every key of ``swaps`` by its value."""
    pattern = re.compile(b"|".join(re.escape(k) for k in sorted(swaps, key=len, reverse=True)))
    keep = max(len(k) for k in swaps) - 1
    with source.open("rb") as src, target.open("wb") as out:
        pending = b""
        while True:
            chunk = src.read(_CHUNK)
            data = pending + chunk
            if not chunk:
                out.write(pattern.sub(lambda m: swaps[m.group(0)], data))
                return
            # Replace in all but the last ``keep`` bytes, where a match may continue into the next chunk;
            # a match that starts before that cut is finished here.
            cut = len(data) - keep
            done, position = [], 0
            for match in pattern.finditer(data):
                if match.start() >= cut:
                    break
                done.append(data[position : match.start()])
                done.append(swaps[match.group(0)])
                position = match.end()
            safe = max(cut, position)
            done.append(data[position:safe])
            out.write(b"".join(done))
            pending = data[safe:]
