"""The documented submit ``parameters`` of each model family, checked before anything is billed.

One checker per parameter name says what is wrong with a value, or nothing; the rules that join two
parameters (diarization on one channel, ``enable_itn`` for Qwen3's languages) follow. A parameter the
family does not document passes through with one warning: the service adds parameters faster than
the documentation lists them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_qwenasr._api.catalog import LANGUAGES, ModelFamily
from airflow_provider_qwenasr.exceptions import QwenASRInputError

__all__ = ["MAX_CONTEXT_CHARS", "check_hot_words", "check_parameters"]

#: The longest context text sent: Qwen3 takes about 10,000 tokens, which is about 40,000 characters
#: of English (a CJK text reaches the token limit sooner; the service then refuses it itself).
MAX_CONTEXT_CHARS = 40_000
#: The weights an instant hot word may carry (``parameters.vocabulary``): 1 to 5, or 50 to force it.
HOT_WORD_WEIGHTS = "an integer from 1 to 5, or 50"
_ITN_LANGUAGES = frozenset({"zh", "en"})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bool(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _channels(value: object) -> str | None:
    ok = isinstance(value, list) and value and all(_is_int(c) and c >= 0 for c in value)
    return None if ok else "a non-empty list of non-negative integers, e.g. [0] or [0, 1]"


def _speaker_count(value: object) -> str | None:
    return None if _is_int(value) and 2 <= value <= 100 else "an integer from 2 to 100"  # type: ignore[operator]


def _language(value: object) -> str | None:
    return None if value in LANGUAGES else f"one of {', '.join(LANGUAGES)}"


def _language_hints(value: object) -> str | None:
    ok = isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
    return None if ok else 'a non-empty list of language codes, e.g. ["zh"]'


def _special_word_filter(value: object) -> str | None:
    hint = 'a JSON string, e.g. json.dumps({"filter_with_signed": {"word_list": ["..."]}})'
    if not isinstance(value, str):
        return hint
    try:
        json.loads(value)
    except ValueError:
        return hint
    return None


def _text(value: object) -> str | None:
    if isinstance(value, str) and len(value) <= MAX_CONTEXT_CHARS:
        return None
    return f"a string of at most {MAX_CONTEXT_CHARS} characters (about 10,000 tokens)"


def _vocabulary_id(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a hot-word table id, e.g. 'vocab-abc-0123'"


def _hot_words(value: object) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return "a non-empty dict of {word: weight}"
    for word, weight in value.items():
        if not isinstance(word, str) or not word.strip():
            return "a dict whose keys are non-empty words"
        if not (_is_int(weight) and (1 <= weight <= 5 or weight == 50)):
            return f"a dict of {{word: weight}}, each weight {HOT_WORD_WEIGHTS} ({word!r} has {weight!r})"
    return None


_CHECKS: dict[str, Callable[[object], str | None]] = {
    "channel_id": _channels,
    "enable_itn": _bool,
    "enable_words": _bool,
    "language": _language,
    "text": _text,
    "vocabulary": _hot_words,
    "vocabulary_id": _vocabulary_id,
    "language_hints": _language_hints,
    "special_word_filter": _special_word_filter,
    "diarization_enabled": _bool,
    "speaker_count": _speaker_count,
    "disfluency_removal_enabled": _bool,
    "timestamp_alignment_enabled": _bool,
}


def _refuse(model: str, name: str, value: object, allowed: str) -> QwenASRInputError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return QwenASRInputError(
        f"parameters.{name}={shown} is not valid for {model}: it must be {allowed}",
        hint="Fix the value, or leave the parameter out to use the service's default",
    )


def check_hot_words(model: str, hot_words: object) -> None:
    """Raise :class:`QwenASRInputError` unless ``hot_words`` is a valid ``{word: weight}`` dict."""
    problem = _hot_words(hot_words)
    if problem:
        raise _refuse(model, "vocabulary", hot_words, problem)


def check_parameters(model: str, family: ModelFamily, parameters: Mapping[str, Any], *, known: bool) -> None:
    """Check ``parameters`` against what ``family`` documents, before the submit.

    :param known: whether the model is in the table; for a model it lacks, only the shape of each
        documented value is checked, and no parameter is called unknown.
    :raises QwenASRInputError: naming the parameter, its allowed values and the model.
    """
    for name, value in parameters.items():
        check = _CHECKS.get(name)
        if check is None or (known and name not in family.parameters):
            if known:
                warnings.warn(
                    f"parameters.{name} is not a documented parameter of {model} ({family.title}); "
                    "sending it as is",
                    UserWarning,
                    stacklevel=4,
                )
            continue
        problem = check(value)
        if problem:
            raise _refuse(model, name, value, problem)
    _check_combinations(model, family, parameters, known=known)


def _check_combinations(
    model: str, family: ModelFamily, parameters: Mapping[str, Any], *, known: bool
) -> None:
    hints = parameters.get("language_hints")
    if known and hints is not None and family.max_language_hints and len(hints) > family.max_language_hints:
        raise _refuse(
            model,
            "language_hints",
            hints,
            f"a list of at most {family.max_language_hints} language code"
            + ("s" if family.max_language_hints > 1 else "")
            + f" ({family.title} uses {'one value' if family.max_language_hints == 1 else 'that many'})",
        )
    if parameters.get("diarization_enabled") is True and len(parameters.get("channel_id") or [0]) > 1:
        raise QwenASRInputError(
            f"parameters.diarization_enabled is set on a request of {len(parameters['channel_id'])} "
            f"channels for {model}: speaker diarization works on mono (one-channel) audio only",
            hint="Pass channel_id=[0] (one track) with diarization, or turn diarization off",
        )
    language = parameters.get("language")
    if parameters.get("enable_itn") is True and language is not None and language not in _ITN_LANGUAGES:
        raise QwenASRInputError(
            f"parameters.enable_itn=True with language={language!r} for {model}: inverse text "
            "normalisation supports zh and en only",
            hint="Drop enable_itn, or set language to 'zh' or 'en'",
        )
