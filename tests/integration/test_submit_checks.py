"""Submit parameters checked before billing, against the emulator over 127.0.0.1 (issue 15).

Every documented check refuses a bad submit with :class:`QwenASRInputError` naming the parameter,
what it may be and the model, and the emulator's log proves that nothing was sent (nothing billed).
What passes goes where the model table says: Qwen3's context in ``parameters.text``, Qwen-Audio's
in ``input.context``, instant hot words in ``parameters.vocabulary``, a table in
``parameters.vocabulary_id``. A model or parameter the table lacks passes with one warning. A local
file on a Singapore connection is refused before any request. A burst of Qwen-Audio submits over a
low submit limit is paced by the family's own budget and pays once per submit.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr._api.parameters import MAX_CONTEXT_CHARS
from airflow_provider_qwenasr.audio import audio_url
from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers
from airflow_provider_qwenasr.exceptions import QwenASRApiError, QwenASRInputError
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.models import AsrTask, TaskStatus
from airflow_provider_qwenasr.rate import budget_for, reset_budgets
from tests.conftest import EMULATOR_API_KEY, FAST_RETRIES, connection_json

QWEN3 = "qwen3-asr-flash-filetrans"
QWEN_AUDIO = "qwen-audio-3.1-asr-flash-filetrans"
FUN_ASR = "fun-asr"
PARAFORMER = "paraformer-v2"
AUDIO = "https://example.com/meeting.wav"
FAST = FAST_RETRIES


@pytest.fixture
def hook(fast_hook: QwenASRHook) -> QwenASRHook:
    return fast_hook


@pytest.fixture
def intl_hook(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[QwenASRHook]:
    """A hook on a Singapore (``intl``) connection, still pointed at the emulator."""
    reset_budgets()
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_ASR_INTL", connection_json(emulator.base_url, region="intl", query_qps=200)
    )
    hook = QwenASRHook("qwen_asr_intl", **FAST)
    yield hook
    hook.close()


def submitted(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """The submit requests the emulator received, in order."""
    return emulator.backend.requests.entries("submit")


def submit(hook: QwenASRHook, model: str, **options: Any) -> AsrTask:
    """One submit with the URL shape of ``model``'s family."""
    if model == QWEN3:
        return hook.submit_transcription(model, file_url=AUDIO, **options)
    return hook.submit_transcription(model, file_urls=[AUDIO], **options)


def provider_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


# -- refused before billing --------------------------------------------------------------------

#: (model, submit options, fragments the error must name: the parameter, what it may be, the model).
REFUSED: list[Any] = [
    pytest.param(
        FUN_ASR,
        {"parameters": {"special_word_filter": {"filter_with_signed": {"word_list": ["x"]}}}},
        ["special_word_filter", "JSON string", FUN_ASR],
        id="special_word_filter-dict",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"special_word_filter": "{not json"}},
        ["special_word_filter", "JSON string", FUN_ASR],
        id="special_word_filter-not-json",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"diarization_enabled": True, "speaker_count": 1}},
        ["speaker_count", "2 to 100", FUN_ASR],
        id="speaker_count-1",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"diarization_enabled": True, "speaker_count": 101}},
        ["speaker_count", "2 to 100", FUN_ASR],
        id="speaker_count-101",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"speaker_count": True}},
        ["speaker_count", "2 to 100", FUN_ASR],
        id="speaker_count-bool",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"diarization_enabled": True, "channel_id": [0, 1]}},
        ["diarization_enabled", "mono", "channel_id=[0]", FUN_ASR],
        id="diarization-two-channels",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"language_hints": ["zh", "en"]}},
        ["language_hints", "at most 1", "one value", FUN_ASR],
        id="language_hints-two-for-fun-asr",
    ),
    pytest.param(
        "fun-asr-2025-11-07",
        {"parameters": {"language_hints": ["zh", "en"]}},
        ["language_hints", "at most 1", "fun-asr-2025-11-07"],
        id="language_hints-two-for-dated-fun-asr",
    ),
    pytest.param(
        QWEN_AUDIO,
        {"parameters": {"language_hints": ["zh", "en", "ja", "ko", "fr"]}},
        ["language_hints", "at most 4", QWEN_AUDIO],
        id="language_hints-five-for-qwen-audio",
    ),
    pytest.param(
        QWEN3,
        {"parameters": {"enable_itn": True, "language": "ja"}},
        ["enable_itn", "'ja'", "zh and en", QWEN3],
        id="enable_itn-ja",
    ),
    pytest.param(
        QWEN3,
        {"parameters": {"language": "xx"}},
        ["parameters.language", "one of zh, yue, en", QWEN3],
        id="language-unknown",
    ),
    pytest.param(
        QWEN3,
        {"parameters": {"enable_words": "yes"}},
        ["enable_words", "true or false", QWEN3],
        id="enable_words-string",
    ),
    pytest.param(
        QWEN3,
        {"parameters": {"channel_id": [-1]}},
        ["channel_id", "non-negative integers", QWEN3],
        id="channel_id-negative",
    ),
    pytest.param(
        QWEN3,
        {"parameters": {"channel_id": "0"}},
        ["channel_id", "non-negative integers", QWEN3],
        id="channel_id-string",
    ),
    pytest.param(
        QWEN3,
        {"parameters": {"channel_id": [True]}},
        ["channel_id", "non-negative integers", QWEN3],
        id="channel_id-bool",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"channel_id": []}},
        ["channel_id", "non-empty list", FUN_ASR],
        id="channel_id-empty",
    ),
    pytest.param(
        FUN_ASR,
        {"context": "a meeting about Qwen-ASR"},
        ["context", FUN_ASR, "parameters.text", "input.context"],
        id="context-fun-asr",
    ),
    pytest.param(
        QWEN3,
        {"context": ["one", "two"]},
        ["context", QWEN3, "one string", "parameters.text"],
        id="context-list-for-qwen3",
    ),
    pytest.param(
        FUN_ASR,
        {"hot_words": {"Qwen": 4}},
        ["hot words", FUN_ASR, "vocabulary_id"],
        id="hot_words-fun-asr",
    ),
    pytest.param(
        QWEN_AUDIO,
        {"hot_words": {"Qwen": 6}},
        ["parameters.vocabulary", "1 to 5, or 50", QWEN_AUDIO],
        id="hot_words-weight-6",
    ),
    pytest.param(
        QWEN_AUDIO,
        {"hot_words": {"Qwen": True}},
        ["parameters.vocabulary", "1 to 5, or 50", QWEN_AUDIO],
        id="hot_words-weight-bool",
    ),
    pytest.param(
        QWEN3,
        {"vocabulary_id": "vocab-meetings-0123"},
        ["vocabulary_id", QWEN3, "Fun-ASR and Paraformer"],
        id="vocabulary_id-qwen3",
    ),
    pytest.param(
        QWEN_AUDIO,
        {"vocabulary_id": "vocab-meetings-0123"},
        ["vocabulary_id", QWEN_AUDIO, "hot_words="],
        id="vocabulary_id-qwen-audio",
    ),
    pytest.param(
        FUN_ASR,
        {"parameters": {"vocabulary_id": 123}},
        ["vocabulary_id", "hot-word table id", FUN_ASR],
        id="vocabulary_id-not-a-string",
    ),
    pytest.param(
        QWEN3,
        {"context": "x" * (MAX_CONTEXT_CHARS + 1)},
        ["parameters.text", f"at most {MAX_CONTEXT_CHARS} characters", QWEN3],
        id="context-too-long",
    ),
]


@pytest.mark.parametrize(("model", "options", "fragments"), REFUSED)
def test_bad_parameter_is_refused_before_the_submit(
    hook: QwenASRHook, emulator: EmulatorServer, model: str, options: dict[str, Any], fragments: list[str]
) -> None:
    with pytest.raises(QwenASRInputError) as caught:
        submit(hook, model, **options)
    text = str(caught.value)
    missing = [f for f in fragments if f not in text]
    assert not missing, f"{missing} not in {text!r}"
    assert len(text) < 1000  # a long value is cut, not echoed whole
    assert submitted(emulator) == []  # nothing reached the service: nothing billed


def test_check_runs_before_the_connection_is_used(emulator: EmulatorServer, hook: QwenASRHook) -> None:
    """The plan alone (no audio yet) refuses a bad parameter, and sends nothing at all."""
    with pytest.raises(QwenASRInputError, match="speaker_count"):
        hook.plan_submit(FUN_ASR, parameters={"speaker_count": 0})
    assert emulator.backend.requests.entries() == []


def test_model_not_served_in_the_region(intl_hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """Paraformer is Beijing-only: an ``intl`` connection refuses it before sending."""
    with pytest.raises(QwenASRInputError) as caught:
        intl_hook.submit_transcription(PARAFORMER, file_urls=[AUDIO])
    text = str(caught.value)
    for fragment in (PARAFORMER, "'intl'", "region cn"):
        assert fragment in text
    assert emulator.backend.requests.entries() == []
    # The same connection takes a model served in Singapore.
    task = intl_hook.submit_transcription(FUN_ASR, file_urls=[AUDIO])
    assert task.status is TaskStatus.PENDING
    assert len(submitted(emulator)) == 1


def test_paraformer_on_a_beijing_connection_is_sent(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    task = hook.submit_transcription(PARAFORMER, file_urls=[AUDIO])
    assert task.status is TaskStatus.PENDING
    (entry,) = submitted(emulator)
    assert entry["status"] == 200
    assert entry["body"]["input"] == {"file_urls": [AUDIO]}


# -- boundaries that pass ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "parameters"),
    [
        pytest.param(FUN_ASR, {"diarization_enabled": True, "speaker_count": 2}, id="speaker_count-2"),
        pytest.param(FUN_ASR, {"diarization_enabled": True, "speaker_count": 100}, id="speaker_count-100"),
        pytest.param(FUN_ASR, {"diarization_enabled": True, "channel_id": [0]}, id="diarization-mono"),
        pytest.param(FUN_ASR, {"language_hints": ["zh"]}, id="one-language-hint"),
        pytest.param(
            FUN_ASR, {"special_word_filter": '{"filter_with_signed": {"word_list": ["x"]}}'}, id="swf"
        ),
        pytest.param(QWEN3, {"enable_itn": True, "language": "en"}, id="itn-en"),
        pytest.param(QWEN3, {"enable_itn": False, "language": "ja"}, id="no-itn-ja"),
        pytest.param(QWEN3, {"channel_id": [0, 1]}, id="two-channels"),
        pytest.param(QWEN_AUDIO, {"language_hints": ["zh", "en", "ja", "ko"]}, id="four-hints"),
    ],
)
def test_valid_parameters_are_sent_as_given(
    hook: QwenASRHook, emulator: EmulatorServer, model: str, parameters: dict[str, Any]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # documented parameters pass without a warning
        task = submit(hook, model, parameters=parameters)
    assert task.status is TaskStatus.PENDING
    (entry,) = submitted(emulator)
    assert entry["status"] == 200
    assert entry["body"]["parameters"] == parameters


def test_context_at_the_limit_passes(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    context = "x" * MAX_CONTEXT_CHARS
    submit(hook, QWEN3, context=context)
    (entry,) = submitted(emulator)
    assert entry["body"]["parameters"]["text"] == context


# -- where context, hot words and tables go ------------------------------------------------------


def test_qwen3_context_goes_to_parameters_text(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    submit(hook, QWEN3, context="Speakers: Ana, Bo. Topic: Qwen-ASR.", parameters={"language": "en"})
    (entry,) = submitted(emulator)
    assert entry["status"] == 200
    assert entry["body"]["input"] == {"file_url": AUDIO}
    assert entry["body"]["parameters"] == {"language": "en", "text": "Speakers: Ana, Bo. Topic: Qwen-ASR."}


def test_qwen_audio_context_goes_to_input_context(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    submit(hook, QWEN_AUDIO, context="Topic: Qwen-ASR")
    submit(hook, QWEN_AUDIO, context=["Topic: Qwen-ASR", "Speakers: Ana, Bo"])
    first, second = submitted(emulator)
    assert first["status"] == second["status"] == 200
    assert first["body"]["input"] == {"file_urls": [AUDIO], "context": ["Topic: Qwen-ASR"]}
    assert second["body"]["input"]["context"] == ["Topic: Qwen-ASR", "Speakers: Ana, Bo"]
    assert "text" not in first["body"]["parameters"]


def test_qwen_audio_hot_words_go_to_parameters_vocabulary(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    submit(hook, QWEN_AUDIO, hot_words={"Qwen-ASR": 5, "DashScope": 50})
    (entry,) = submitted(emulator)
    assert entry["status"] == 200
    assert entry["body"]["parameters"] == {"vocabulary": {"Qwen-ASR": 5, "DashScope": 50}}


def test_fun_asr_table_goes_to_parameters_vocabulary_id(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    submit(hook, FUN_ASR, vocabulary_id="  vocab-meetings-0123  ", parameters={"language_hints": ["en"]})
    (entry,) = submitted(emulator)
    assert entry["status"] == 200  # an unknown table fails the task later, not the submit
    assert entry["body"]["parameters"] == {"language_hints": ["en"], "vocabulary_id": "vocab-meetings-0123"}


# -- what the table does not know passes with one warning --------------------------------------------


def test_unknown_model_passes_with_one_warning(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """Sent as is (shaped by its name); the emulator, serving only the table's models, answers
    400 ``InvalidParameter`` "Model not exist." (dashscope-api.md §5), and the submit is not retried."""
    model = "qwen3-asr-flash-filetrans-preview"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(QwenASRApiError) as error:
            hook.submit_transcription(model, file_url=AUDIO, parameters={"language": "en", "new_knob": 1})
    shown = provider_warnings(caught)
    assert len(shown) == 1, shown
    assert model in shown[0]
    assert not isinstance(error.value, QwenASRInputError)
    assert error.value.http_status == 400
    assert error.value.code == "InvalidParameter"
    assert error.value.service_message == "Model not exist."
    (entry,) = submitted(emulator)
    assert entry["status"] == 400
    assert entry["body"] == {
        "model": model,
        "input": {"file_url": AUDIO},  # a qwen3-asr-… name is shaped like Qwen3
        "parameters": {"language": "en", "new_knob": 1},
    }


def test_unknown_model_still_gets_shape_checks(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(QwenASRInputError, match="channel_id"):
            hook.submit_transcription("my-asr-2", file_urls=[AUDIO], parameters={"channel_id": [-1]})
    assert submitted(emulator) == []


def test_undocumented_parameter_passes_with_one_warning(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = submit(hook, QWEN3, parameters={"enable_words": True, "punctuation_prediction": False})
    shown = provider_warnings(caught)
    assert len(shown) == 1, shown
    assert "punctuation_prediction" in shown[0]
    assert QWEN3 in shown[0]
    assert task.status is TaskStatus.PENDING
    (entry,) = submitted(emulator)
    assert entry["status"] == 200
    assert entry["body"]["parameters"] == {"enable_words": True, "punctuation_prediction": False}


def test_another_familys_parameter_passes_with_one_warning(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    """``disfluency_removal_enabled`` is Fun-ASR's: on Qwen3 it is undocumented, so sent with a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        submit(hook, QWEN3, parameters={"disfluency_removal_enabled": True})
    shown = provider_warnings(caught)
    assert len(shown) == 1, shown
    assert "disfluency_removal_enabled" in shown[0]
    (entry,) = submitted(emulator)
    assert entry["body"]["parameters"] == {"disfluency_removal_enabled": True}


# -- local files outside Beijing -----------------------------------------------------------------


@pytest.fixture
def local_audio(tmp_path: Path) -> Path:
    audio = tmp_path / "meeting.wav"
    audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64))
    return audio


def test_upload_on_an_intl_connection_is_refused(
    intl_hook: QwenASRHook, emulator: EmulatorServer, local_audio: Path
) -> None:
    with pytest.raises(QwenASRInputError) as caught:
        intl_hook.upload_file(local_audio, model=QWEN3)
    text = str(caught.value)
    for fragment in ("meeting.wav", "'intl'", "Beijing", "object-storage", "s3://", "URL"):
        assert fragment in text
    assert emulator.backend.requests.entries() == []  # not even the upload policy was asked for


def test_local_audio_path_on_an_intl_connection_is_refused(
    intl_hook: QwenASRHook, hook: QwenASRHook, emulator: EmulatorServer, local_audio: Path
) -> None:
    with pytest.raises(QwenASRInputError) as caught:
        audio_url(str(local_audio), hook=intl_hook, model=QWEN3)
    assert "object-storage" in str(caught.value)
    assert "pre-signed URL" in str(caught.value)
    assert emulator.backend.requests.entries() == []
    # The same path on a Beijing connection goes through the temporary upload.
    url = audio_url(str(local_audio), hook=hook, model=QWEN3)
    assert url.startswith("oss://")
    assert len(emulator.backend.requests.entries("upload_policy")) == 1


# -- submit pacing ------------------------------------------------------------------------------

BURST = 40
#: The emulator's submit limit for the burst: below the provider's Qwen-Audio budget of
#: 0.9 x 600 / 60 = 9 submits/s, so a client that did not adapt would keep drawing 429s.
EMULATOR_SUBMITS_PER_SECOND = 6


def _warm_sessions(emulator: EmulatorServer, count: int) -> list[requests.Session]:
    """``count`` sessions, each holding an open keep-alive connection to the emulator.

    Opened one after the other, so that the burst measures the submit limit alone, not how fast
    the emulator accepts forty new connections at once.
    """
    sessions = []
    for _ in range(count):
        session = requests.Session()
        session.get(
            f"{emulator.base_url}/tasks/warm-up", headers=dashscope_headers(EMULATOR_API_KEY), timeout=10
        )
        sessions.append(session)
    return sessions


def _raw_burst(emulator: EmulatorServer, count: int) -> list[int]:
    """``count`` submits at once, unpaced (no provider code), and the HTTP statuses they got."""
    sessions = _warm_sessions(emulator, count)
    barrier = threading.Barrier(count)
    body = {"model": QWEN_AUDIO, "input": {"file_urls": [AUDIO]}, "parameters": {}}
    url = f"{emulator.base_url}/services/audio/asr/transcription"
    headers = dashscope_headers(EMULATOR_API_KEY, submit=True)

    def one(session: requests.Session) -> int:
        barrier.wait()
        return session.post(url, json=body, headers=headers, timeout=10).status_code

    try:
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, sessions))
    finally:
        for session in sessions:
            session.close()


def test_submit_burst_is_paced_and_pays_once(qwen_conn: str, emulator: EmulatorServer) -> None:
    """Forty workers submit Qwen-Audio at once over a 6/s submit limit: each gets exactly one task.

    First the same burst without the provider shows that the limit bites; then the hooks' shared
    per-family budget keeps the 429s to a fraction of the submits, and every 429 is one the budget
    saw (and cut its rate for). No wall-clock assertion: counts only.
    """
    # Warm-up reads are not what is measured: no query limit.
    emulator.backend.update_config({"submit_per_second": EMULATOR_SUBMITS_PER_SECOND, "query_qps": 0})
    unpaced = _raw_burst(emulator, BURST)
    assert set(unpaced) <= {200, 429}
    unpaced_throttled = unpaced.count(429)
    assert unpaced_throttled >= BURST // 2  # the knob really throttles a burst

    emulator.backend.reset()  # tasks, log, counters and rate windows; the config stays
    reset_budgets()
    options = {**FAST, "max_retries": 30, "retry_base_delay": 0.05, "retry_max_delay": 0.5}
    hooks = [QwenASRHook(qwen_conn, **options) for _ in range(BURST)]
    for warm in hooks:  # one worker each, its connection open (see _warm_sessions)
        warm.get_task("warm-up")
    barrier = threading.Barrier(BURST)

    def worker(index: int) -> str:
        barrier.wait()
        task = hooks[index].submit_transcription(QWEN_AUDIO, file_urls=[f"{AUDIO}?n={index}"])
        return task.task_id

    try:
        with ThreadPoolExecutor(BURST) as pool:
            task_ids = list(pool.map(worker, range(BURST)))
    finally:
        for each in hooks:
            each.close()

    entries = submitted(emulator)
    statuses = [e["status"] for e in entries]
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) == BURST
    assert len(set(task_ids)) == BURST
    assert emulator.backend.task_count() == BURST  # one task per submit: paid once
    # Each file was submitted successfully exactly once.
    accepted = sorted(e["body"]["input"]["file_urls"][0] for e in entries if e["status"] == 200)
    assert accepted == sorted(f"{AUDIO}?n={i}" for i in range(BURST))

    throttled = emulator.backend.stats.snapshot(0)["throttled"].get("submit", 0)
    assert throttled == statuses.count(429)
    assert throttled < BURST
    assert throttled < unpaced_throttled
    settings = hooks[0].settings
    budget = budget_for(
        f"{settings.host}#submit:qwen-audio", settings.key_fingerprint, settings.submit_ceiling(600)
    )
    assert budget.ceiling == pytest.approx(9.0)  # 0.9 x 600 / 60, one process
    assert budget.counters.throttled == throttled  # every 429 reached the budget
    assert budget.counters.granted == len(entries)  # every submit sent took a slot
    if throttled:
        assert budget.counters.cuts >= 1
    # The query budget is separate: only the warm-up reads spent it.
    assert hooks[0]._budget(settings).counters.granted == BURST


def test_expected_processes_shares_the_submit_budget(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``extra.expected_processes`` divides the per-family submit budget, as it divides the query one."""
    reset_budgets()
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_ASR_SHARED",
        connection_json(emulator.base_url, expected_processes=3, query_qps=200),
    )
    hook = QwenASRHook("qwen_asr_shared", **FAST)
    hook.submit_transcription(QWEN_AUDIO, file_urls=[AUDIO])
    settings = hook.settings
    budget = budget_for(f"{settings.host}#submit:qwen-audio", settings.key_fingerprint, 1e9)
    assert budget.ceiling == pytest.approx(3.0)
    assert budget.counters.granted == 1
    # A family without a documented submit quota spends no submit budget.
    hook.submit_transcription(FUN_ASR, file_urls=[AUDIO])
    fun_budget = budget_for(f"{settings.host}#submit:fun-asr", settings.key_fingerprint, 1e9)
    assert fun_budget.counters.granted == 0
    assert len(submitted(emulator)) == 2
