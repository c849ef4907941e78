"""Hot-word tables (custom vocabulary): the customization requests' bodies, checked before sending.

A table is managed through ``POST /services/audio/asr/customization`` with model ``speech-biasing``
and ``input.action`` one of :data:`ACTIONS`; a task uses it through ``parameters.vocabulary_id``, and
the table's ``target_model`` must be the model the task uses (dashscope-api.md §8).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_qwenasr._api.catalog import FAMILIES, family_of
from airflow_provider_qwenasr.exceptions import QwenASRInputError

__all__ = [
    "ACTIONS",
    "VOCABULARY_MODEL",
    "VocabularyTable",
    "check_prefix",
    "check_target_model",
    "check_vocabulary_id",
    "check_words",
    "customization_body",
    "same_words",
]

VOCABULARY_MODEL = "speech-biasing"
ACTIONS = (
    "create_vocabulary",
    "list_vocabulary",
    "query_vocabulary",
    "update_vocabulary",
    "delete_vocabulary",
)
_PREFIX = re.compile(r"^[a-z0-9]{1,10}$")
_TABLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def customization_body(action: str, **fields: Any) -> dict[str, Any]:
    """The body of one customization request: ``{"model": "speech-biasing", "input": {action, …}}``."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown customization action {action!r}")
    return {"model": VOCABULARY_MODEL, "input": {"action": action, **fields}}


def check_prefix(prefix: object) -> str:
    """Return ``prefix`` if it can name tables: 1 to 10 characters of ``a-z`` and ``0-9``."""
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise QwenASRInputError(
            f"Hot-word table prefix {prefix!r} is not valid: it must be 1 to 10 characters of a-z and 0-9",
            hint="e.g. prefix='meetings'",
        )
    return prefix


def check_vocabulary_id(vocabulary_id: object) -> str:
    """Return ``vocabulary_id`` stripped, or raise if it cannot name a table (empty, spaces, slashes)."""
    value = vocabulary_id.strip() if isinstance(vocabulary_id, str) else ""
    if not _TABLE_ID.match(value) or value.lower() in ("none", "null"):
        raise QwenASRInputError(
            f"vocabulary_id {vocabulary_id!r:.80} is not a hot-word table id",
            hint="Pass the create operator's output, e.g. vocabulary_id=create_table.output",
        )
    return value


def check_target_model(model: object) -> str:
    """Return ``model`` if a hot-word table can target it (its family takes ``vocabulary_id``).

    A model the table lacks passes with a warning.
    """
    if not isinstance(model, str) or not model.strip():
        raise QwenASRInputError("target_model must be the model the table is for, e.g. 'fun-asr'")
    model = model.strip()
    family = family_of(model)
    if family is None:
        warnings.warn(
            f"target_model {model!r} is not one this provider knows; sending it as is",
            UserWarning,
            stacklevel=3,
        )
    elif not family.takes_vocabulary_table:
        takers = ", ".join(f.title for f in FAMILIES if f.takes_vocabulary_table)
        raise QwenASRInputError(
            f"target_model {model!r} ({family.title}) takes no hot-word table; tables work with {takers}",
            hint="For Qwen-Audio filetrans pass instant hot words (hot_words=) instead",
        )
    return model


def check_words(vocabulary: object) -> list[dict[str, Any]]:
    """Return the table's words as dicts ``{text, weight, lang?}``, or raise naming the first bad one.

    Each needs a non-empty ``text`` and an integer ``weight`` from 1 to 5; ``lang`` (e.g. ``zh``,
    ``en``) is optional.
    """
    if isinstance(vocabulary, (str, bytes)) or not isinstance(vocabulary, Sequence) or not vocabulary:
        raise QwenASRInputError(
            "vocabulary must be a non-empty list of words",
            hint='e.g. [{"text": "Qwen-ASR", "weight": 4, "lang": "en"}]',
        )
    words = []
    for index, item in enumerate(vocabulary):
        text = item.get("text") if isinstance(item, Mapping) else None
        weight = item.get("weight") if isinstance(item, Mapping) else None
        lang = item.get("lang") if isinstance(item, Mapping) else None
        if not isinstance(text, str) or not text.strip():
            problem = "needs a non-empty text"
        elif not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 5:
            problem = f"has weight {weight!r}; it must be an integer from 1 to 5"
        elif lang is not None and (not isinstance(lang, str) or not lang.strip()):
            problem = f"has lang {lang!r}; it must be a language code such as 'zh' or 'en'"
        else:
            words.append(dict(item))
            continue
        raise QwenASRInputError(
            f"vocabulary[{index}] {item!r:.80} {problem}",
            hint='Each word is {"text": "...", "weight": 1-5, "lang": "en"} (lang optional)',
        )
    return words


def same_words(left: Sequence[Mapping[str, Any]], right: Sequence[Mapping[str, Any]]) -> bool:
    """Whether two word lists hold the same words, weights and languages, in any order."""

    def key(words: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, str]]:
        return sorted(
            (str(w.get("text")), int(w.get("weight") or 0), str(w.get("lang") or "")) for w in words
        )

    return key(left) == key(right)


@dataclass(frozen=True)
class VocabularyTable:
    """One hot-word table as the service lists or answers it (unknown fields are kept in ``raw``)."""

    vocabulary_id: str
    status: str | None = None
    target_model: str | None = None
    gmt_create: str | None = None
    gmt_modified: str | None = None
    vocabulary: tuple[Mapping[str, Any], ...] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_output(cls, output: Mapping[str, Any], vocabulary_id: str | None = None) -> VocabularyTable:
        """Read a ``vocabulary_list[]`` item or a ``query_vocabulary`` answer's ``output``."""
        words = output.get("vocabulary")
        return cls(
            vocabulary_id=str(output.get("vocabulary_id") or vocabulary_id or ""),
            status=output.get("status"),
            target_model=output.get("target_model"),
            gmt_create=output.get("gmt_create"),
            gmt_modified=output.get("gmt_modified"),
            vocabulary=tuple(words) if isinstance(words, list) else None,
            raw=dict(output),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary for XCom (the words are left out: they may be many)."""
        return {
            "vocabulary_id": self.vocabulary_id,
            "status": self.status,
            "target_model": self.target_model,
            "gmt_create": self.gmt_create,
            "gmt_modified": self.gmt_modified,
            "words": None if self.vocabulary is None else len(self.vocabulary),
        }
