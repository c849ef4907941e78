"""The model table, and the submit body the one builder makes from it."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from airflow_provider_qwenasr._api.catalog import FAMILIES, family_of, known_models, resolve_model
from airflow_provider_qwenasr._api.validate import build_submit_body
from airflow_provider_qwenasr.exceptions import QwenASRInputError

URL = "https://example.com/a.wav"
QWEN3 = "qwen3-asr-flash-filetrans"
AUDIO = "qwen-audio-3.1-asr-flash-filetrans"


@pytest.mark.parametrize(
    ("model", "base", "family"),
    [
        (QWEN3, QWEN3, "qwen3"),
        ("qwen3-asr-flash-filetrans-2025-11-17", QWEN3, "qwen3"),
        ("fun-asr-2025-11-07", "fun-asr", "fun-asr"),
        ("fun-asr-mtl-2025-08-25", "fun-asr-mtl", "fun-asr"),
        (AUDIO, AUDIO, "qwen-audio"),
        ("qwen-audio-3.0-asr-flash-filetrans", "qwen-audio-3.0-asr-flash-filetrans", "qwen-audio"),
        ("sensevoice-v1", "sensevoice-v1", "sensevoice"),
        (" paraformer-v2 ", "paraformer-v2", "paraformer"),
    ],
)
def test_resolve_model(model: str, base: str, family: str) -> None:
    found = resolve_model(model)
    assert found is not None
    assert found[0] == base
    assert found[1].key == family


def test_model_names_are_case_sensitive_and_the_warning_says_so() -> None:
    """The service (and the emulator) refuse ``Fun-ASR``: it is unknown here too, with a hint."""
    import warnings

    from airflow_provider_qwenasr._api.validate import build_submit_body

    assert resolve_model("Paraformer-V2") is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = build_submit_body("Fun-ASR", file_urls=["https://example.com/a.wav"])
    assert body["model"] == "Fun-ASR"
    (warning,) = caught
    assert "did you mean 'fun-asr'?" in str(warning.message)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"parameters": {"vocabulary_id": "vocab-x"}}, "takes no hot-word table"),
        ({"parameters": {"vocabulary_id": "vocab-x"}, "vocabulary_id": "vocab-y"}, "not both"),
        ({"parameters": {"text": "a"}, "context": "b"}, "not both"),
    ],
)
def test_a_value_given_both_ways_or_in_parameters_is_checked_alike(options: dict, match: str) -> None:  # type: ignore[type-arg]
    from airflow_provider_qwenasr._api.validate import build_submit_body
    from airflow_provider_qwenasr.exceptions import QwenASRInputError

    with pytest.raises(QwenASRInputError, match=match):
        build_submit_body(QWEN3, file_url="https://example.com/a.wav", **options)


def test_hot_words_in_parameters_are_checked_like_the_argument() -> None:
    from airflow_provider_qwenasr._api.validate import build_submit_body
    from airflow_provider_qwenasr.exceptions import QwenASRInputError

    body = build_submit_body(
        AUDIO, file_urls=["https://example.com/a.wav"], parameters={"vocabulary": {"Qwen": 5}}
    )
    assert body["parameters"]["vocabulary"] == {"Qwen": 5}
    with pytest.raises(QwenASRInputError, match="vocabulary"):
        build_submit_body(
            AUDIO, file_urls=["https://example.com/a.wav"], parameters={"vocabulary": {"Qwen": 9}}
        )


@pytest.mark.parametrize("model", ["fun-asr-2025", "gpt-4o", "qwen3-asr-flash", "fun-asr-2025-11-07-x"])
def test_unknown_models_are_not_in_the_table(model: str) -> None:
    assert family_of(model) is None


def test_every_model_is_in_one_family() -> None:
    names = [m for family in FAMILIES for m in family.models]
    assert len(names) == len(set(names)) == len(known_models())
    assert {f.key for f in FAMILIES} == {"qwen3", "qwen-audio", "fun-asr", "paraformer", "sensevoice"}


def test_qwen_audio_takes_file_urls_and_instant_hot_words() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = build_submit_body(
            AUDIO, file_url=URL, hot_words={"Qwen": 5, "DashScope": 50}, context="a call"
        )
    assert body == {
        "model": AUDIO,
        "input": {"file_urls": [URL], "context": ["a call"]},
        "parameters": {"vocabulary": {"Qwen": 5, "DashScope": 50}},
    }


def test_qwen3_context_goes_to_parameters_text() -> None:
    body = build_submit_body(QWEN3, file_url=URL, context="Speakers: Ann, Bo.", parameters={"language": "en"})
    assert body["parameters"] == {"language": "en", "text": "Speakers: Ann, Bo."}
    assert body["input"] == {"file_url": URL}


def test_vocabulary_id_goes_to_fun_asr_parameters() -> None:
    body = build_submit_body("fun-asr", file_url=URL, vocabulary_id=" vocab-x-1 ")
    assert body["parameters"] == {"vocabulary_id": "vocab-x-1"}


def test_dated_model_builds_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = build_submit_body("qwen3-asr-flash-filetrans-2025-11-17", file_url=URL)
    assert body["input"] == {"file_url": URL}


def test_unknown_model_warns_once_and_goes_through() -> None:
    with pytest.warns(UserWarning, match="'fun-asr-next' is not one this provider knows") as caught:
        body = build_submit_body("fun-asr-next", file_url=URL, parameters={"foo": 1})
    assert len(caught) == 1
    assert body["parameters"] == {"foo": 1}


@pytest.mark.parametrize(
    ("model", "kwargs", "words"),
    [
        ("fun-asr", {"hot_words": {"a": 3}}, ["fun-asr", "instant hot words", "vocabulary_id"]),
        (QWEN3, {"vocabulary_id": "vocab-1"}, ["hot-word table", QWEN3]),
        (AUDIO, {"vocabulary_id": "vocab-1"}, ["hot_words="]),
        ("paraformer-v2", {"context": "x"}, ["no context"]),
        (AUDIO, {"hot_words": {"a": 6}}, ["vocabulary", "1 to 5, or 50", "'a'"]),
        (AUDIO, {"hot_words": {"a": True}}, ["vocabulary"]),
        (AUDIO, {"file_urls": [URL, URL]}, ["exactly one file"]),
        ("paraformer-v2", {"region": "intl"}, ["'intl' region", "cn"]),
    ],
)
def test_arguments_the_model_does_not_take_are_refused(
    model: str, kwargs: dict[str, Any], words: list[str]
) -> None:
    if "file_urls" not in kwargs:
        kwargs = {"file_url": URL, **kwargs}
    with pytest.raises(QwenASRInputError) as caught:
        build_submit_body(model, **kwargs)
    for word in words:
        assert word in str(caught.value) + (caught.value.hint or "")


BAD_PARAMETERS = [
    (
        "fun-asr",
        {"special_word_filter": {"filter_with_signed": {"word_list": ["x"]}}},
        "special_word_filter",
        "JSON string",
    ),
    ("fun-asr", {"special_word_filter": "{not json"}, "special_word_filter", "JSON string"),
    ("fun-asr", {"speaker_count": 1, "diarization_enabled": True}, "speaker_count", "2 to 100"),
    ("fun-asr", {"speaker_count": 101}, "speaker_count", "2 to 100"),
    ("paraformer-v2", {"speaker_count": True}, "speaker_count", "2 to 100"),
    ("fun-asr", {"diarization_enabled": True, "channel_id": [0, 1]}, "diarization_enabled", "mono"),
    ("fun-asr", {"language_hints": ["zh", "en"]}, "language_hints", "at most 1"),
    ("sensevoice-v1", {"language_hints": ["zh", "en"]}, "language_hints", "at most 1"),
    (AUDIO, {"language_hints": ["zh", "en", "ja", "ko", "fr"]}, "language_hints", "at most 4"),
    ("fun-asr", {"language_hints": "zh"}, "language_hints", "list of language codes"),
    (QWEN3, {"enable_itn": True, "language": "ja"}, "enable_itn", "zh and en"),
    (QWEN3, {"language": "klingon"}, "language", "one of zh, yue, en"),
    (QWEN3, {"enable_words": "yes"}, "enable_words", "true or false"),
    (QWEN3, {"channel_id": 0}, "channel_id", "non-negative integers"),
    ("fun-asr", {"channel_id": [0, -1]}, "channel_id", "non-negative integers"),
    ("fun-asr", {"channel_id": []}, "channel_id", "non-negative integers"),
    ("fun-asr", {"channel_id": [0.0]}, "channel_id", "non-negative integers"),
    (QWEN3, {"text": "x" * 40_001}, "text", "40000 characters"),
]


@pytest.mark.parametrize(("model", "parameters", "name", "allowed"), BAD_PARAMETERS)
def test_bad_parameters_are_refused_naming_parameter_values_and_model(
    model: str, parameters: dict[str, Any], name: str, allowed: str
) -> None:
    with pytest.raises(QwenASRInputError) as caught:
        build_submit_body(model, file_url=URL, parameters=parameters)
    message = str(caught.value)
    assert f"parameters.{name}" in message
    assert allowed in message
    assert model in message


def test_good_parameters_pass_unchanged() -> None:
    parameters = {
        "channel_id": [0],
        "language_hints": ["zh"],
        "special_word_filter": json.dumps({"filter_with_signed": {"word_list": ["x"]}}),
        "diarization_enabled": True,
        "speaker_count": 2,
        "disfluency_removal_enabled": False,
        "timestamp_alignment_enabled": True,
        "vocabulary_id": "vocab-a-1",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build_submit_body("fun-asr", file_url=URL, parameters=parameters)["parameters"] == parameters
        qwen3 = {"channel_id": [0, 1], "enable_itn": True, "language": "en", "enable_words": True}
        assert build_submit_body(QWEN3, file_url=URL, parameters=qwen3)["parameters"] == qwen3


def test_undocumented_parameter_passes_with_one_warning() -> None:
    with pytest.warns(
        UserWarning, match="parameters.brand_new is not a documented parameter of fun-asr"
    ) as caught:
        body = build_submit_body("fun-asr", file_url=URL, parameters={"brand_new": 1, "channel_id": [0]})
    assert len(caught) == 1
    assert body["parameters"]["brand_new"] == 1
