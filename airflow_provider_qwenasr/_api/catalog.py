"""The model table: every fact of a DashScope filetrans model family, in one place.

The hooks build submit bodies from it, the operators check their arguments against it, the emulator
serves exactly these models, and ``docs/models.md`` is generated from it
(``python3 scripts/gen_model_table.py``), so the three cannot drift. Facts come from
``dashscope-api.md`` §1 and §8; :attr:`ModelFamily.assumed` lists the ones the documentation does not
state and this table assumes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "FAMILIES",
    "LANGUAGES",
    "ModelFamily",
    "family_of",
    "known_models",
    "likely_family",
    "resolve_model",
]

#: Languages Qwen3-ASR filetrans takes for ``parameters.language`` (dashscope-api.md §4).
LANGUAGES = tuple(
    "zh yue en ja de ko ru fr pt ar it es hi id th tr uk vi cs da fil fi is ms no pl sv".split()  # noqa: SIM905
)
_DATED = re.compile(r"^(?P<base>.+)-(?P<date>\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class ModelFamily:
    """One family of filetrans models and what its submit takes.

    :param key: the family's short name (``qwen3``, ``qwen-audio``, ``fun-asr``, ``paraformer``,
        ``sensevoice``).
    :param title: the name a user reads.
    :param models: the undated model names; a dated version (``<name>-YYYY-MM-DD``) of one belongs
        to the family too.
    :param input_field: ``file_url`` (one URL string) or ``file_urls`` (a list).
    :param max_files: audio files one task takes.
    :param answer: where a query puts the outcome: ``result`` (one) or ``results`` (one per file).
    :param result_format: the layout of its result files: ``qwen3`` or ``funasr``.
    :param parameters: the documented ``parameters`` it takes; others pass with a warning.
    :param input_fields: documented ``input`` fields besides the audio (``context``).
    :param regions: where it is served: ``cn`` (Beijing), ``intl`` (Singapore).
    :param submits_per_minute: the account's submit quota for the family, where documented.
    :param max_language_hints: how many ``language_hints`` values it takes (``None``: no limit known).
    :param inline_tags: its result text holds ``<|…|>`` tags (SenseVoice).
    :param assumed: facts this row assumes rather than sources.
    """

    key: str
    title: str
    models: tuple[str, ...]
    input_field: str
    max_files: int
    answer: str
    result_format: str
    parameters: frozenset[str]
    input_fields: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset({"cn", "intl"})
    submits_per_minute: int | None = None
    max_language_hints: int | None = None
    inline_tags: bool = False
    assumed: tuple[str, ...] = field(default=())

    @property
    def takes_vocabulary_table(self) -> bool:
        """Whether a hot-word table (``parameters.vocabulary_id``) can be used with it."""
        return "vocabulary_id" in self.parameters


_FUN_ASR_PARAMETERS = frozenset(
    {
        "channel_id",
        "vocabulary_id",
        "language_hints",
        "special_word_filter",
        "diarization_enabled",
        "speaker_count",
        "disfluency_removal_enabled",
        "timestamp_alignment_enabled",
    }
)

FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(
        key="qwen3",
        title="Qwen3-ASR filetrans",
        models=("qwen3-asr-flash-filetrans",),
        input_field="file_url",
        max_files=1,
        answer="result",
        result_format="qwen3",
        parameters=frozenset({"channel_id", "enable_itn", "enable_words", "language", "text"}),
    ),
    ModelFamily(
        key="qwen-audio",
        title="Qwen-Audio filetrans",
        models=("qwen-audio-3.1-asr-flash-filetrans", "qwen-audio-3.0-asr-flash-filetrans"),
        input_field="file_urls",
        max_files=1,
        answer="results",
        result_format="qwen3",
        parameters=frozenset({"channel_id", "enable_itn", "enable_words", "language_hints", "vocabulary"}),
        input_fields=frozenset({"context"}),
        submits_per_minute=600,
        max_language_hints=4,
        assumed=(
            "one file per task (the SDK sample sends one URL)",
            "channel_id, enable_itn and enable_words as Qwen3 takes them",
            "served in Beijing and Singapore",
        ),
    ),
    ModelFamily(
        key="fun-asr",
        title="Fun-ASR",
        models=("fun-asr", "fun-asr-mtl"),
        input_field="file_urls",
        max_files=100,
        answer="results",
        result_format="funasr",
        parameters=_FUN_ASR_PARAMETERS,
        max_language_hints=1,
        assumed=("up to 100 files per task (older pages; current pages say one)",),
    ),
    ModelFamily(
        key="paraformer",
        title="Paraformer",
        models=(
            "paraformer-v2",
            "paraformer-8k-v2",
            "paraformer-v1",
            "paraformer-8k-v1",
            "paraformer-mtl-v1",
        ),
        input_field="file_urls",
        max_files=100,
        answer="results",
        result_format="funasr",
        parameters=_FUN_ASR_PARAMETERS,
        regions=frozenset({"cn"}),
        assumed=("up to 100 files per task", "the Fun-ASR parameters"),
    ),
    ModelFamily(
        key="sensevoice",
        title="SenseVoice",
        models=("sensevoice-v1",),
        input_field="file_urls",
        max_files=100,
        answer="results",
        result_format="funasr",
        parameters=frozenset({"channel_id", "language_hints"}),
        max_language_hints=1,
        inline_tags=True,
        assumed=("up to 100 files per task", "served in Beijing and Singapore", "takes channel_id"),
    ),
)

_BY_MODEL = {model: family for family in FAMILIES for model in family.models}


def resolve_model(model: str) -> tuple[str, ModelFamily] | None:
    """Return ``(undated model name, family)`` for a model the table knows, dated versions included.

    Names are case-sensitive, as the service's are: ``FUN-ASR`` is not ``fun-asr``.
    """
    name = model.strip()
    family = _BY_MODEL.get(name)
    if family is not None:
        return name, family
    match = _DATED.match(name)
    if match and match["base"] in _BY_MODEL:
        return match["base"], _BY_MODEL[match["base"]]
    return None


def family_of(model: str) -> ModelFamily | None:
    """The family of ``model`` (dated versions included), or ``None`` for a model the table lacks."""
    found = resolve_model(model)
    return found[1] if found else None


def known_models() -> tuple[str, ...]:
    """Every undated model name the table holds, family by family."""
    return tuple(_BY_MODEL)


_SHAPE_PREFIXES = (
    ("qwen3-asr", "qwen3"),
    ("qwen-asr", "qwen3"),
    ("qwen-audio", "qwen-audio"),
    ("paraformer", "paraformer"),
    ("sensevoice", "sensevoice"),
)


def likely_family(model: str) -> ModelFamily:
    """The family of ``model``, or for a model the table lacks the family its name suggests.

    An unknown ``qwen3-asr-…`` model is sent as Qwen3 (one ``file_url``), anything unrecognised as
    Fun-ASR (``file_urls``): DashScope adds models faster than this table.
    """
    known = family_of(model)
    if known is not None:
        return known
    name = model.strip().lower()
    key = next((key for prefix, key in _SHAPE_PREFIXES if name.startswith(prefix)), "fun-asr")
    return next(family for family in FAMILIES if family.key == key)
