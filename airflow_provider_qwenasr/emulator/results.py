"""Result documents: realistic transcripts made up from a small corpus, written as a stream.

A document depends only on the file URL (its hash seeds everything), the model family and the
request parameters, so the same request always gives the same document. Documents are written
straight to disk in one pass with bounded memory: ten hours of audio with words is fine.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from airflow_provider_qwenasr._api.catalog import ModelFamily

from .hints import AudioFacts

QWEN3 = "qwen3"
FUNASR = "funasr"

_EN = (
    "Senior staff, Principal Doris Jackson, Wakefield faculty, and of course my fellow classmates.",
    "I am honored to have been chosen to speak before my classmates along with the students across "
    "America today.",
    "Hello world, this is the Alibaba speech lab.",
    "Let's review the quarterly numbers before we move on to the roadmap.",
    "The weather in Hangzhou has been unusually warm this week.",
    "Could you send me the meeting notes after the call?",
    "We expect the migration to finish by the end of the month.",
    "Thank you all for joining, and please hold your questions until the end.",
    "The new model handles long recordings much better than the old one.",
    "Our team shipped three releases in the last quarter.",
    "Please make sure the audio is recorded at sixteen kilohertz.",
    "Does anyone have concerns about the proposed timeline?",
)
# Chinese sentences pre-segmented into words with "|", as the recogniser segments them.
_ZH = (
    "这里是|阿里巴巴|语音|实验室。",
    "欢迎|大家|参加|今天|的|会议。",
    "我们|先|回顾|一下|上个|季度|的|数据。",
    "这个|模型|对|长|音频|的|识别|效果|更好。",
    "请|大家|在|会后|把|问题|发给|我。",
    "杭州|这周|的|天气|特别|暖和。",
    "迁移|工作|预计|月底|完成。",
    "感谢|各位|的|耐心|等待，|我们|马上|开始。",  # noqa: RUF001 - Chinese punctuation
    "下面|请|产品|经理|介绍|新|功能。",
    "录音|的|采样率|建议|使用|十六|千赫兹。",
)
_PUNCTUATION = ",.?!;:，。？！、；："  # noqa: RUF001 - Chinese punctuation
_EMOTIONS = ("neutral", "happy", "surprised", "sad", "disgusted", "angry", "fearful")
_EMOTION_WEIGHTS = (70, 12, 6, 5, 2, 3, 2)
# Languages whose text comes from the Chinese corpus; every other one uses the English corpus.
_ZH_LIKE = frozenset({"zh", "yue"})


def _js(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class _Word:
    chars: int
    qwen3: str  # the "text" and "punctuation" members, pre-encoded, qwen3 spacing
    funasr: str  # the same, Fun-ASR spacing


@dataclass(frozen=True)
class _Sentence:
    text: str  # JSON-encoded
    raw: str
    words: tuple[_Word, ...]


def _split(token: str) -> tuple[str, str]:
    word = token.rstrip(_PUNCTUATION)
    return word, token[len(word) :]


def _english(sentence: str) -> _Sentence:
    tokens = sentence.split(" ")
    words = []
    for index, token in enumerate(tokens):
        word, punct = _split(token)
        last = index == len(tokens) - 1
        if punct:
            # qwen3 puts the bare word and its mark; Fun-ASR keeps the space after the mark.
            q = (word, punct)
            f = (word, punct if last else punct + " ")
        else:
            q = f = (word if last else word + " ", "")
        words.append(
            _Word(
                chars=len(word),
                qwen3=f'"text":{_js(q[0])},"punctuation":{_js(q[1])}',
                funasr=f'"text":{_js(f[0])},"punctuation":{_js(f[1])}',
            )
        )
    return _Sentence(_js(sentence), sentence, tuple(words))


def _chinese(sentence: str) -> _Sentence:
    words = []
    for token in sentence.split("|"):
        word, punct = _split(token)
        encoded = f'"text":{_js(word)},"punctuation":{_js(punct)}'
        words.append(_Word(chars=len(word) * 2, qwen3=encoded, funasr=encoded))
    raw = sentence.replace("|", "")
    return _Sentence(_js(raw), raw, tuple(words))


_CORPUS = {"en": tuple(_english(s) for s in _EN), "zh": tuple(_chinese(s) for s in _ZH)}


@dataclass(frozen=True)
class _Utterance:
    begin: int
    end: int
    language: str
    sentence: _Sentence
    word_times: tuple[tuple[int, int], ...]
    emotion: str
    speaker: int


def _utterances(seed: int, audio_ms: int, languages: tuple[str, ...], speakers: int) -> Iterator[_Utterance]:
    """The sentences of one channel, in time order, until the audio ends."""
    rng = random.Random(seed)
    cursor = rng.randint(100, 800)
    primary = languages[0]
    speaker = 0
    while True:
        language = primary if len(languages) == 1 or rng.random() < 0.8 else rng.choice(languages)
        sentence = rng.choice(_CORPUS["zh" if language in _ZH_LIKE else "en"])
        times = []
        t = cursor
        for word in sentence.words:
            length = 90 + word.chars * rng.randint(45, 75)
            times.append((t, t + length))
            t += length + rng.choice((0, 0, 0, 40, 80, 160))
        end = times[-1][1]
        if end > audio_ms - 50:
            return
        if speakers > 1 and rng.random() < 0.4:
            speaker = (speaker + rng.randint(1, speakers - 1)) % speakers
        emotion = rng.choices(_EMOTIONS, _EMOTION_WEIGHTS)[0]
        yield _Utterance(cursor, end, language, sentence, tuple(times), emotion, speaker)
        cursor = end + rng.randint(250, 1800)


@dataclass(frozen=True)
class _Layout:
    """How one family's result files read: the format, which language parameters it takes, tags."""

    format: str  # QWEN3 or FUNASR
    takes_language: bool  # parameters.language (Qwen3)
    takes_hints: bool  # parameters.language_hints
    inline_tags: bool = False  # SenseVoice's <|en|><|HAPPY|><|Speech|>…<|/Speech|>
    speaker_style: str = "int"  # speaker_id 0, or "spk0"


def _layout(family: str | ModelFamily, speaker_style: str) -> _Layout:
    if isinstance(family, ModelFamily):
        return _Layout(
            family.result_format,
            "language" in family.parameters,
            "language_hints" in family.parameters,
            family.inline_tags,
            speaker_style,
        )
    if family not in (QWEN3, FUNASR):
        raise ValueError(f"unknown result format {family!r}")
    return _Layout(family, family == QWEN3, family == FUNASR, speaker_style=speaker_style)


def _languages(
    layout: _Layout, parameters: Mapping[str, Any], facts: AudioFacts, rng: random.Random
) -> tuple:
    if layout.takes_language and isinstance(parameters.get("language"), str):
        return (parameters["language"],)
    hints = parameters.get("language_hints")
    if layout.takes_hints and isinstance(hints, list) and hints and all(isinstance(h, str) for h in hints):
        return tuple(hints)
    if facts.language:
        return (facts.language,)
    # No language given: mostly one language, with the other mixed in now and then.
    return ("zh", "en") if rng.random() < 0.5 else ("en", "zh")


#: SenseVoice's audio events, by the remainder of a sentence's start time: mostly plain speech.
_EVENTS = ("BGM", "Laughter", "Applause") + ("Speech",) * 9


def _tagged(u: _Utterance) -> str:
    """A SenseVoice sentence text, JSON-encoded: language, emotion and event tags, then the words
    inside the event (``<|en|><|NEUTRAL|><|Speech|>Hello.<|/Speech|>``)."""
    event = _EVENTS[u.begin % len(_EVENTS)]
    return _js(f"<|{u.language}|><|{u.emotion.upper()}|><|{event}|>{u.sentence.raw}<|/{event}|>")


def channel_ids(parameters: Mapping[str, Any]) -> list[int]:
    """The requested tracks (``parameters.channel_id``, default ``[0]``)."""
    value = parameters.get("channel_id")
    if isinstance(value, list) and value and all(isinstance(c, int) and c >= 0 for c in value):
        return list(value)
    return [0]


def write_result(
    path: Path,
    family: str | ModelFamily,
    file_url: str,
    facts: AudioFacts,
    parameters: Mapping[str, Any],
    speaker_style: str = "int",
) -> None:
    """Write the result document of one file to ``path`` (atomically: a temporary file, renamed).

    :param family: the model's family, or a bare result format (``qwen3``, ``funasr``).
    :param speaker_style: ``int`` (``"speaker_id": 0``) or ``spk`` (``"speaker_id": "spk0"``).
    """
    layout = _layout(family, speaker_style)
    rng = random.Random(facts.seed)
    languages = _languages(layout, parameters, facts, rng)
    audio_ms = int(facts.audio_seconds * 1000)
    words_on = layout.format == FUNASR or bool(parameters.get("enable_words"))
    speakers = 0
    if layout.format == FUNASR and parameters.get("diarization_enabled"):
        count = parameters.get("speaker_count")
        speakers = count if isinstance(count, int) and count > 0 else rng.randint(2, 3)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with open(fd, "w", encoding="utf-8", buffering=1 << 20) as out:
            out.write(f'{{"file_url":{_js(file_url)},')
            if layout.format == QWEN3:
                out.write(f'"audio_info":{{"format":{_js(facts.format)},"sample_rate":{facts.sample_rate}}},')
            else:
                audio_format = "pcm_s16le" if facts.format == "wav" else facts.format
                out.write(
                    f'"properties":{{"audio_format":{_js(audio_format)},'
                    f'"channels":{json.dumps(list(range(facts.channels)))},'
                    f'"original_sampling_rate":{facts.sample_rate},'
                    f'"original_duration_in_milliseconds":{audio_ms}}},'
                )
            out.write('"transcripts":[')
            for n, channel in enumerate(channel_ids(parameters)):
                if n:
                    out.write(",")
                seed = facts.seed ^ (channel + 1) * 0x9E3779B97F4A7C15
                utterances = _utterances(seed, audio_ms, languages, max(speakers, 1))
                _write_channel(out, layout, channel, utterances, words_on, speakers > 0)
            out.write("]}")
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise


def _write_channel(
    out: IO[str],
    layout: _Layout,
    channel: int,
    utterances: Iterator[_Utterance],
    words_on: bool,
    diarized: bool,
) -> None:
    """One ``transcripts[]`` item. Its ``text`` (and Fun-ASR's speech duration) precede the
    sentences but are known only after them, so sentences go to a spool file first."""
    family = layout.format
    first_id = 0 if family == QWEN3 else 1
    speech_ms = 0
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as text_spool,
        tempfile.TemporaryFile("w+", encoding="utf-8") as sentence_spool,
    ):
        previous_language = ""
        for index, u in enumerate(utterances):
            speech_ms += u.end - u.begin
            if index:
                sentence_spool.write(",")
                # Sentences join with a space in English and with nothing in Chinese.
                if not (u.language in _ZH_LIKE and previous_language in _ZH_LIKE):
                    text_spool.write(" ")
            previous_language = u.language
            text = _tagged(u) if layout.inline_tags else u.sentence.text
            text_spool.write(text[1:-1])
            words = ""
            if words_on:
                encoded = [w.qwen3 if family == QWEN3 else w.funasr for w in u.sentence.words]
                words = (
                    ',"words":['
                    + ",".join(
                        f'{{"begin_time":{b},"end_time":{e},{w}}}'
                        for (b, e), w in zip(u.word_times, encoded, strict=True)
                    )
                    + "]"
                )
            if family == QWEN3:
                sentence_spool.write(
                    f'{{"sentence_id":{first_id + index},"begin_time":{u.begin},"end_time":{u.end},'
                    f'"language":{_js(u.language)},"emotion":"{u.emotion}","text":{text}{words}}}'
                )
            else:
                label = f'"spk{u.speaker}"' if layout.speaker_style == "spk" else str(u.speaker)
                speaker = f',"speaker_id":{label}' if diarized else ""
                sentence_spool.write(
                    f'{{"begin_time":{u.begin},"end_time":{u.end},"text":{text},'
                    f'"sentence_id":{first_id + index}{speaker}{words}}}'
                )
        out.write(f'{{"channel_id":{channel},')
        if family == FUNASR:
            out.write(f'"content_duration_in_milliseconds":{speech_ms},')
        out.write('"text":"')
        text_spool.seek(0)
        shutil.copyfileobj(text_spool, out, 1 << 20)
        out.write('","sentences":[')
        sentence_spool.seek(0)
        shutil.copyfileobj(sentence_spool, out, 1 << 20)
        out.write("]}")
