"""What a user passes, checked before a billed call: task ids, audio URLs, the submit body."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from airflow_provider_qwenasr._api.catalog import ModelFamily, family_of, known_models, likely_family
from airflow_provider_qwenasr._api.parameters import check_hot_words, check_parameters
from airflow_provider_qwenasr.exceptions import QwenASRInputError, redact_url

__all__ = [
    "KNOWN_MODELS",
    "MAX_FILES_PER_TASK",
    "SubmitPlan",
    "build_submit_body",
    "model_family",
    "plan_submit",
    "validate_file_url",
    "validate_task_id",
]

#: Files per Fun-ASR task: older documentation allows 100; the service refuses more.
MAX_FILES_PER_TASK = 100
#: Every model the table holds (undated names; dated versions of them are known too).
KNOWN_MODELS = frozenset(known_models())
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
    """The key of ``model``'s family in the model table (``qwen3``, ``qwen-audio``, ``fun-asr``…).

    A model the table lacks gets the family its name suggests (see
    :func:`~airflow_provider_qwenasr._api.catalog.likely_family`).
    """
    return likely_family(model).key


@dataclass(frozen=True)
class SubmitPlan:
    """A checked submit for one model, waiting for its audio URLs (see :func:`plan_submit`)."""

    model: str
    family: ModelFamily
    parameters: Mapping[str, Any]
    input_extras: Mapping[str, Any] = field(default_factory=dict)
    resources: tuple[Mapping[str, Any], ...] = ()

    @property
    def submits_per_minute(self) -> int | None:
        """The account's documented submit quota for this model's family, if any."""
        return self.family.submits_per_minute if family_of(self.model) else None

    def body(self, *, file_url: str | None = None, file_urls: Sequence[str] | None = None) -> dict[str, Any]:
        """The submit body with these audio URLs (checked: scheme, count, the family's input shape)."""
        input_ = _audio_input(self.model, self.family, _urls(file_url, file_urls))
        input_.update(self.input_extras)
        body: dict[str, Any] = {"model": self.model, "input": input_, "parameters": dict(self.parameters)}
        if self.resources:
            body["resources"] = [dict(r) for r in self.resources]
        return body


def plan_submit(
    model: str,
    *,
    parameters: Mapping[str, Any] | None = None,
    resources: Sequence[Mapping[str, Any]] | None = None,
    context: str | Sequence[Any] | None = None,
    hot_words: Mapping[str, int] | None = None,
    vocabulary_id: str | None = None,
    region: str | None = None,
) -> SubmitPlan:
    """Check everything of a submit but its audio, from the model table; nothing is sent.

    The model's family (:mod:`~airflow_provider_qwenasr._api.catalog`) decides the input shape
    (``file_url`` or ``file_urls``), how many files one task takes, which ``parameters`` it documents
    (each checked, see :mod:`~airflow_provider_qwenasr._api.parameters`) and where the context and
    hot words go. An unknown model passes through with one warning, shaped by its name.

    :param context: text that helps recognition: Qwen3's ``parameters.text``, Qwen-Audio's
        ``input.context`` (a string becomes a one-item list).
    :param hot_words: instant hot words ``{word: weight}`` (Qwen-Audio's ``parameters.vocabulary``).
    :param vocabulary_id: a hot-word table (``parameters.vocabulary_id``; Fun-ASR and Paraformer).
    :param region: the connection's region (``cn`` or ``intl``), to refuse a model not served there.
    :raises QwenASRInputError: for a missing model, or a parameter, context or hot word the model
        does not take.
    """
    if not isinstance(model, str) or not model.strip():
        raise QwenASRInputError("model must be a non-empty string, e.g. 'qwen3-asr-flash-filetrans'")
    model = model.strip()
    known = family_of(model)
    family = known or likely_family(model)
    if known is None:
        near = family_of(model.lower())
        warnings.warn(
            f"Model {model!r} is not one this provider knows; sending it as is, shaped like {family.title}"
            + (f" (model names are case-sensitive: did you mean {model.lower()!r}?)" if near else ""),
            UserWarning,
            stacklevel=3,
        )
    elif region is not None and region not in family.regions:
        raise QwenASRInputError(
            f"Model {model} ({family.title}) is not served in the {region!r} region",
            hint=f"Use a connection of region {' or '.join(sorted(family.regions))}, or another model",
        )
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise QwenASRInputError(
            f"parameters must be a dict, got {type(parameters).__name__}",
            hint='e.g. parameters={"language": "en", "enable_words": True}',
        )
    params = dict(parameters)
    extras: dict[str, Any] = {}
    _add_extras(model, family, params, extras, context, hot_words, vocabulary_id, known=known is not None)
    check_parameters(model, family, params, known=known is not None)
    return SubmitPlan(model, family, params, extras, tuple(dict(r) for r in resources or ()))


def build_submit_body(
    model: str,
    *,
    file_url: str | None = None,
    file_urls: Sequence[str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Build and validate a submit body; nothing billed happens before this passes.

    ``options`` are :func:`plan_submit`'s (``parameters``, ``resources``, ``context``,
    ``hot_words``, ``vocabulary_id``, ``region``).

    :raises QwenASRInputError: for a missing model, no or too many files, bad URLs, or a parameter,
        context or hot word the model does not take.
    """
    return plan_submit(model, **options).body(file_url=file_url, file_urls=file_urls)


def _urls(file_url: str | None, file_urls: Sequence[str] | None) -> list[str]:
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
    return urls


def _audio_input(model: str, family: ModelFamily, urls: list[str]) -> dict[str, Any]:
    limit = min(family.max_files, MAX_FILES_PER_TASK)
    if len(urls) > limit:
        if limit == 1:
            raise QwenASRInputError(
                f"Model {model} takes exactly one file per task, got {len(urls)}",
                hint="Map the operator over the files instead: .expand(file_url=[...])",
            )
        raise QwenASRInputError(
            f"{len(urls)} files in one task; DashScope accepts at most {limit}",
            hint="Split the list into several tasks, e.g. with dynamic task mapping",
        )
    if family.input_field == "file_url":
        return {"file_url": urls[0]}
    return {"file_urls": urls}


def _add_extras(
    model: str,
    family: ModelFamily,
    params: dict[str, Any],
    input_: dict[str, Any],
    context: str | Sequence[Any] | None,
    hot_words: Mapping[str, int] | None,
    vocabulary_id: str | None,
    *,
    known: bool,
) -> None:
    """Put the context, instant hot words and table id where ``family`` takes them.

    ``parameters.vocabulary_id`` and ``parameters.vocabulary`` are checked as the arguments are; a
    value given both ways is refused, as is ``context`` beside ``parameters.text``.
    """
    given = (("hot_words", "vocabulary", hot_words), ("vocabulary_id", "vocabulary_id", vocabulary_id))
    for argument, key, value in given:
        if key in params and value is not None:
            raise QwenASRInputError(f"Pass {argument}= or parameters[{key!r}], not both")
    if "vocabulary_id" in params:
        vocabulary_id = params.pop("vocabulary_id")
    if "vocabulary" in params:
        hot_words = params.pop("vocabulary")
    if context is not None and (not isinstance(context, str) or context.strip()):
        if "context" in family.input_fields:
            input_["context"] = [context] if isinstance(context, str) else list(context)
        elif "text" in family.parameters:
            if not isinstance(context, str):
                raise QwenASRInputError(f"context for {model} must be one string (parameters.text)")
            if "text" in params:
                raise QwenASRInputError("Pass context= or parameters['text'], not both")
            params["text"] = context
        else:
            raise QwenASRInputError(
                f"Model {model} ({family.title}) takes no context text",
                hint="Context works with Qwen3-ASR filetrans (parameters.text) and Qwen-Audio "
                "filetrans (input.context); for this model use a hot-word table (vocabulary_id)",
            )
    if hot_words:
        if known and "vocabulary" not in family.parameters:
            raise QwenASRInputError(
                f"Model {model} ({family.title}) takes no instant hot words",
                hint="Instant hot words work with Qwen-Audio filetrans; for Fun-ASR or Paraformer "
                "create a hot-word table and pass its vocabulary_id",
            )
        check_hot_words(model, hot_words)
        params["vocabulary"] = dict(hot_words)
    if vocabulary_id is not None and (not isinstance(vocabulary_id, str) or vocabulary_id.strip()):
        if known and not family.takes_vocabulary_table:
            raise QwenASRInputError(
                f"Model {model} ({family.title}) takes no hot-word table (vocabulary_id)",
                hint="Hot-word tables work with Fun-ASR and Paraformer models; "
                + ("pass hot_words= instead" if "vocabulary" in family.parameters else "drop vocabulary_id"),
            )
        params["vocabulary_id"] = vocabulary_id.strip() if isinstance(vocabulary_id, str) else vocabulary_id
