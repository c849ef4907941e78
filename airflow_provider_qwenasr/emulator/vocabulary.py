"""Hot-word tables: ``POST /services/audio/asr/customization`` with model ``speech-biasing``.

One endpoint, the action inside ``input`` (dashscope-api.md §8, ``wire-examples/vocabulary-*.json``):
``create_vocabulary``, ``list_vocabulary``, ``query_vocabulary``, ``update_vocabulary`` and
``delete_vocabulary``. Tables are kept per API key: another key's table answers as one that does not
exist. Every answer is ``{request_id, output, usage: {count: 1}}`` (the documented envelope of
create, list and query; assumed for update and delete, whose ``output`` is empty).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_qwenasr._api.catalog import FAMILIES

from .errors import ServiceError, invalid, json_object, missing
from .submit import served_model
from .tasks import BEIJING

__all__ = ["MAX_WORDS", "VOCABULARY_MODEL", "Table", "VocabularyStore"]

VOCABULARY_MODEL = "speech-biasing"
#: The most words one table holds: 500, as Alibaba's other hot-word APIs state (assumed here).
MAX_WORDS = 500
#: The most tables one list page holds (assumed, as the task list's 100).
MAX_PAGE_SIZE = 100
_PREFIX = re.compile(r"^[a-z0-9]{1,10}$")
_TAKERS = ", ".join(m for f in FAMILIES if f.takes_vocabulary_table for m in f.models)


def gmt(epoch: float) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC+8, as ``gmt_create`` is written (the format is assumed)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch + BEIJING))


@dataclass
class Table:
    """One hot-word table of one key."""

    vocabulary_id: str
    api_key: str
    prefix: str
    target_model: str
    words: list[dict[str, Any]]
    created: float
    modified: float
    #: ``OK`` (ready) or ``UNDEPLOYED`` (documented values); the emulator's tables are always ready.
    status: str = field(default="OK")

    def summary(self) -> dict[str, Any]:
        """A ``vocabulary_list[]`` item."""
        return {
            "vocabulary_id": self.vocabulary_id,
            "gmt_create": gmt(self.created),
            "gmt_modified": gmt(self.modified),
            "status": self.status,
        }


def _words(value: object) -> list[dict[str, Any]]:
    """The table's words, checked: ``[{text, weight 1-5, lang?}]``, at most :data:`MAX_WORDS`."""
    if not isinstance(value, list) or not value:
        raise invalid("vocabulary must be a non-empty list of {text, weight, lang} objects.")
    if len(value) > MAX_WORDS:
        raise invalid(f"vocabulary holds {len(value)} words; a table holds at most {MAX_WORDS}.")
    words = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid(f"vocabulary[{index}] must be an object {{text, weight, lang}}.")
        text, weight, lang = item.get("text"), item.get("weight"), item.get("lang")
        if not isinstance(text, str) or not text.strip():
            raise invalid(f"vocabulary[{index}].text must be a non-empty string.")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 5:
            raise invalid(f"vocabulary[{index}].weight must be an integer from 1 to 5.")
        if lang is not None and not isinstance(lang, str):
            raise invalid(f"vocabulary[{index}].lang must be a string, e.g. zh or en.")
        word: dict[str, Any] = {"text": text, "weight": weight}
        if lang is not None:
            word["lang"] = lang
        words.append(word)
    return words


def _page(payload: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = payload.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(f"{name} must be an integer from {low} to {high}.")
    return value


class VocabularyStore:
    """Every key's hot-word tables, and the customization endpoint's actions over them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[str, Table] = {}

    def clear(self) -> None:
        """Forget every table."""
        with self._lock:
            self._tables.clear()

    def find(self, api_key: str, vocabulary_id: object) -> Table | None:
        """The key's table of that id, or ``None`` (unknown, or another key's)."""
        with self._lock:
            table = self._tables.get(vocabulary_id) if isinstance(vocabulary_id, str) else None
        return table if table is not None and table.api_key == api_key else None

    def handle(self, api_key: str, body: bytes, now: float, limit: int) -> dict[str, Any]:
        """Answer one customization request of ``api_key`` at emulator time ``now``; ``limit`` is the
        most tables one key may hold (passed on each call, so it can change live).

        :raises ServiceError: 400 ``InvalidParameter`` (or ``BadRequest.Empty*``) for bad input.
        """
        request = json_object(body)
        if not request.get("model"):
            raise missing("model", "BadRequest.EmptyModel")
        if request["model"] != VOCABULARY_MODEL:
            raise invalid("Model not exist.")
        payload = request.get("input")
        if not payload:
            raise missing("input", "BadRequest.EmptyInput")
        if not isinstance(payload, dict):
            raise invalid("input must be a JSON object.")
        action = payload.get("action")
        handler = {
            "create_vocabulary": self._create,
            "list_vocabulary": self._list,
            "query_vocabulary": self._query,
            "update_vocabulary": self._update,
            "delete_vocabulary": self._delete,
        }.get(action if isinstance(action, str) else "")
        if handler is None:
            raise invalid(
                f"input.action {action!r} is not one of create_vocabulary, list_vocabulary, "
                "query_vocabulary, update_vocabulary, delete_vocabulary."
            )
        output = handler(api_key, payload, now, limit)
        return {"request_id": str(uuid.uuid4()), "output": output, "usage": {"count": 1}}

    def _table(self, api_key: str, payload: Mapping[str, Any]) -> Table:
        vocabulary_id = payload.get("vocabulary_id")
        if not isinstance(vocabulary_id, str) or not vocabulary_id:
            raise invalid("input.vocabulary_id must be the id of a hot-word table.")
        table = self.find(api_key, vocabulary_id)
        if table is None:
            # The docs name no code for this; InvalidParameter is the documented generic 400.
            raise invalid(f"The vocabulary {vocabulary_id} does not exist.")
        return table

    def _create(self, api_key: str, payload: Mapping[str, Any], now: float, limit: int) -> dict[str, Any]:
        target = payload.get("target_model")
        if not isinstance(target, str) or not target:
            raise invalid("input.target_model must name the model that will use the table, e.g. fun-asr.")
        found = served_model(target)
        if found is None or not found[1].takes_vocabulary_table:
            raise invalid(f"target_model {target} does not take a hot-word table; these do: {_TAKERS}.")
        prefix = payload.get("prefix")
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise invalid("input.prefix must be 1 to 10 characters of a-z and 0-9.")
        words = _words(payload.get("vocabulary"))
        table = Table(f"vocab-{prefix}-{uuid.uuid4().hex}", api_key, prefix, target, words, now, now)
        with self._lock:
            held = sum(1 for t in self._tables.values() if t.api_key == api_key)
            if held >= limit:
                raise ServiceError(
                    400,
                    "InvalidParameter",  # the docs name no quota code for tables: the generic 400
                    f"This account holds {held} hot-word tables, the most allowed; delete one first.",
                )
            self._tables[table.vocabulary_id] = table
        return {"vocabulary_id": table.vocabulary_id}

    def _list(self, api_key: str, payload: Mapping[str, Any], now: float, limit: int) -> dict[str, Any]:
        prefix = payload.get("prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise invalid("input.prefix must be a string.")
        page_index = _page(payload, "page_index", 0, 0, 10**6)
        page_size = _page(payload, "page_size", 10, 1, MAX_PAGE_SIZE)
        with self._lock:  # newest first (assumed); the dict keeps the order of creation
            mine = [
                t for t in self._tables.values() if t.api_key == api_key and prefix in (None, "", t.prefix)
            ]
        mine.reverse()
        page = mine[page_index * page_size : (page_index + 1) * page_size]
        return {"vocabulary_list": [t.summary() for t in page]}

    def _query(self, api_key: str, payload: Mapping[str, Any], now: float, limit: int) -> dict[str, Any]:
        table = self._table(api_key, payload)
        return {
            "vocabulary": [dict(w) for w in table.words],
            "target_model": table.target_model,
            "gmt_create": gmt(table.created),
            "gmt_modified": gmt(table.modified),
            "status": table.status,
        }

    def _update(self, api_key: str, payload: Mapping[str, Any], now: float, limit: int) -> dict[str, Any]:
        table = self._table(api_key, payload)
        words = _words(payload.get("vocabulary"))
        with self._lock:
            table.words = words
            table.modified = max(now, table.modified)
        return {}

    def _delete(self, api_key: str, payload: Mapping[str, Any], now: float, limit: int) -> dict[str, Any]:
        table = self._table(api_key, payload)
        with self._lock:
            self._tables.pop(table.vocabulary_id, None)
        return {}
