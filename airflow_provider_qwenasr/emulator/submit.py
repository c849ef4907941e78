"""The submit's checks: what ``POST /services/audio/asr/transcription`` refuses, in the service's order.

The models served are exactly those of the provider's model table (:mod:`~airflow_provider_qwenasr.
_api.catalog`) and their dated versions (``<model>-YYYY-MM-DD``); the table says which input field
each family takes and how many files. Every code here is one ``dashscope-api.md`` §5 lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_qwenasr._api.catalog import ModelFamily, resolve_model

from .config import EmulatorConfig
from .errors import ServiceError, invalid, json_object, missing
from .results import channel_ids

__all__ = ["Submission", "parse_submit", "served_model"]


@dataclass(frozen=True)
class Submission:
    """A submit that passed the synchronous checks.

    :param model: the model as submitted (dated or not).
    :param base_model: its undated name.
    :param family: its row of the model table.
    """

    model: str
    base_model: str
    family: ModelFamily
    urls: list[str]
    parameters: dict[str, Any]
    resolve_oss: bool


def served_model(model: object) -> tuple[str, ModelFamily] | None:
    """``(undated name, family)`` of a model the emulator serves: a model of the table or a dated
    version of one, spelled exactly (model names are case-sensitive), else ``None``."""
    if not isinstance(model, str) or model != model.strip().lower():
        return None
    return resolve_model(model)


def parse_submit(headers: Mapping[str, str], body: bytes, config: EmulatorConfig) -> Submission:
    """Check a submit (``headers`` with lower-case names) and return what it asks for.

    :raises ServiceError: the answer the service gives a bad submit.
    """
    if headers.get("x-dashscope-async", "").lower() != "enable":
        raise ServiceError(403, "AccessDenied", "current user api does not support synchronous calls")
    if "application/json" not in headers.get("content-type", "").lower():
        raise invalid("Content-Type must be application/json.")
    request = json_object(body)
    model = request.get("model")
    if not model:
        raise missing("model", "BadRequest.EmptyModel")
    served = served_model(model)
    if served is None:
        raise invalid("Model not exist.")
    payload = request.get("input")
    if not payload:
        raise missing("input", "BadRequest.EmptyInput")
    # Only ``model`` and ``input`` are required (dashscope-api.md §8): no ``parameters``, or
    # ``null``, is none. BadRequest.EmptyParameters exists, but no document says when it is sent.
    parameters = request.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(payload, dict) or not isinstance(parameters, dict):
        raise invalid("input and parameters must be JSON objects.")
    base_model, family = served
    urls = _file_urls(str(model), family, payload, config)
    channel = parameters.get("channel_id")
    if channel is not None and channel_ids(parameters) != channel:
        raise invalid("channel_id must be a non-empty list of non-negative integers.")
    speakers = parameters.get("speaker_count")
    if speakers is not None and (
        not isinstance(speakers, int) or isinstance(speakers, bool) or not 2 <= speakers <= 100
    ):
        raise invalid("speaker_count must be an integer from 2 to 100.")
    table = parameters.get("vocabulary_id")
    if table is not None and family.takes_vocabulary_table and not isinstance(table, str):
        raise invalid("vocabulary_id must be a string.")
    resolve = headers.get("x-dashscope-ossresourceresolve", "").lower() == "enable"
    return Submission(str(model), base_model, family, urls, parameters, resolve)


def _file_urls(
    model: str, family: ModelFamily, payload: Mapping[str, Any], config: EmulatorConfig
) -> list[str]:
    if family.input_field == "file_url":
        if "file_url" not in payload and "file_urls" in payload:
            raise invalid(f"Model {model} takes input.file_url (one URL string), not input.file_urls.")
        urls = [payload.get("file_url")]
    else:
        if "file_urls" not in payload and "file_url" in payload:
            raise invalid(f"Model {model} takes input.file_urls (a list of URLs), not input.file_url.")
        value = payload.get("file_urls")
        urls = value if isinstance(value, list) and value else [None]
        limit = config.max_files_for(model, family.max_files)
        if len(urls) > limit:
            raise invalid(f"Too many files: input.file_urls holds {len(urls)}, the limit is {limit}.")
    for url in urls:
        if not isinstance(url, str) or not url:
            raise invalid("Each file URL must be a non-empty string.")
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https", "oss"):
            raise invalid(
                "The file URL is invalid: only http, https and oss URLs are accepted.", "InvalidURL"
            )
    return [str(u) for u in urls]
