"""The renderers in bounded memory: cues sorted without holding the sentences, channels counted on disk.

The output must equal a plain stable sort of every cue (what the renderers did when they held them
all), whatever the order of the sentences; and the sentences must not stay alive while it is made.
"""

from __future__ import annotations

import io
import random
import tracemalloc
import weakref
from collections.abc import Iterator
from typing import Any, TextIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_qwenasr import _spool, formats
from airflow_provider_qwenasr._spool import StartOrder, hold_first_channel
from airflow_provider_qwenasr.models import Sentence, Transcription, Word
from tests.unit.models.test_models_properties import result_documents


class TrackedSentence(Sentence):
    """A sentence that can be weakly referenced (``Sentence`` has slots only), to count live ones."""


class Sink(io.TextIOBase):
    """A text stream that counts what it is given and keeps nothing, so only the renderer is measured.

    Pass it as ``cast(TextIO, Sink())``: io.TextIOBase is a text stream, though not typed as TextIO.
    """

    def __init__(self) -> None:
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def _sentence(rng: random.Random, number: int, begin: int, cls: type[Sentence] = Sentence) -> Sentence:
    words = [
        Word(
            begin_time=begin + 300 * i,
            end_time=begin + 300 * i + 250,
            text=f"word{number}x{i}",
            punctuation="",
        )
        for i in range(rng.randint(3, 25))
    ]
    return cls(
        sentence_id=number,
        begin_time=begin,
        end_time=begin + 300 * len(words),
        text=" ".join(w.text for w in words),
        speaker_id=rng.choice([None, 0, 1]),
        words=tuple(words),
    )


def _entries(count: int, channels: int = 1, seed: int = 0, cls: type[Sentence] = Sentence) -> Iterator[Any]:
    """``count`` sentences per channel, channel after channel, each channel in time order."""
    rng = random.Random(seed)
    for channel in range(channels):
        begin = 0
        for number in range(count):
            begin += rng.randint(0, 4000)
            yield channel, _sentence(rng, number, begin, cls)


def _reference(entries: list[tuple[int, Sentence]], vtt: bool, **options: Any) -> str:
    """What the renderers wrote when they held every cue: one stable sort by start time."""
    out = io.StringIO()
    writer = formats.write_vtt if vtt else formats.write_srt
    # One sentence at a time, each rendered alone, gives every cue's exact text; cut it back into cues.
    blocks: list[tuple[int, int, str]] = []
    multi = len({channel for channel, _ in entries}) > 1
    for index, pair in enumerate(entries):
        single = io.StringIO()
        writer([pair], single, multi_channel=multi, **options)
        body = single.getvalue().removeprefix("WEBVTT\n\n")
        for cue in filter(None, body.split("\n\n")):
            _, timing, text = cue.split("\n", 2)
            start = timing.split(" --> ")[0]
            blocks.append((_ms(start), index, f"{timing}\n{text}\n"))
    if vtt:
        out.write("WEBVTT\n\n")
    for number, (_, _, block) in enumerate(sorted(blocks, key=lambda b: b[0]), start=1):
        out.write(f"{number}\n{block}\n")
    return out.getvalue()


def _ms(stamp: str) -> int:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    seconds, millis = rest.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


# ---- StartOrder -----------------------------------------------------------------------------------------


@pytest.fixture
def tiny_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs move to disk after 64 bytes and are merged 3 at a time: every code path, on small inputs."""
    monkeypatch.setattr(_spool, "SPOOL_BYTES", 64)
    monkeypatch.setattr(_spool, "FAN_IN", 3)


@pytest.mark.usefixtures("tiny_spool")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.lists(st.integers(0, 20), max_size=4)),
        max_size=80,
    )
)
def test_start_order_is_a_stable_sort(sentences: list[tuple[int, list[int]]]) -> None:
    """Whatever the order of begin times (many runs, merged on several levels), a stable sort."""
    expected: list[tuple[int, str]] = []
    with StartOrder() as order:
        for number, (begin, offsets) in enumerate(sentences):
            cues = [(begin + offset, f"s{number}\nc{i}\n\nx") for i, offset in enumerate(sorted(offsets))]
            order.add(begin, cues)
            expected.extend(cues)
        assert list(order.sorted()) == sorted(expected, key=lambda cue: cue[0])


def test_start_order_keeps_few_runs_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sentences in reverse order make one run each; merging FAN_IN at a time keeps few open."""
    monkeypatch.setattr(_spool, "FAN_IN", 4)
    most = 0
    with StartOrder() as order:
        for begin in range(2000, 0, -1):
            order.add(begin, [(begin, str(begin))])
            most = max(most, len(order._runs))
        assert [start for start, _ in order.sorted()] == list(range(1, 2001))
    # 2,000 runs is five levels of 4: at most 3 runs wait per level.
    assert most <= 3 * 6


def test_start_order_refuses_a_cue_before_its_sentence() -> None:
    with StartOrder() as order, pytest.raises(ValueError, match="before its sentence"):
        order.add(100, [(99, "x")])


def test_hold_first_channel_gives_everything_back_in_order() -> None:
    items = [(0, "a"), (0, "b"), (1, "c"), (0, "d")]
    several, again = hold_first_channel(iter(items), lambda item: item[0])
    assert several
    assert list(again) == items
    several, again = hold_first_channel(iter(items[:2]), lambda item: item[0])
    assert not several
    assert list(again) == items[:2]
    several, again = hold_first_channel(iter([]), lambda item: item[0])
    assert (several, list(again)) == (False, [])


# ---- the renderers: identical output -------------------------------------------------------------------


@pytest.mark.parametrize("vtt", [False, True], ids=["srt", "vtt"])
@pytest.mark.parametrize("channels", [1, 3])
def test_subtitles_equal_a_stable_sort_of_every_cue(vtt: bool, channels: int) -> None:
    entries = list(_entries(150, channels, seed=channels))
    options: dict[str, Any] = {"max_line_chars": 20, "max_lines": 1}
    out = io.StringIO()
    (formats.write_vtt if vtt else formats.write_srt)(iter(entries), out, **options)
    assert out.getvalue() == _reference(entries, vtt, **options)


@pytest.mark.usefixtures("tiny_spool")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(result_documents(), st.sampled_from(["srt", "vtt"]), st.booleans())
def test_one_pass_iterators_render_like_the_model(document: dict[str, Any], fmt: str, shuffle: bool) -> None:
    """A one-pass iterator (channels found on the fly) renders as render() does from the model,
    including sentences out of time order, with runs on disk and merged on several levels."""
    result = Transcription.from_dict(document)
    entries = list(result.channel_sentences())
    out = io.StringIO()
    if shuffle:  # within each channel: channels still arrive in turn
        random.Random(len(entries)).shuffle(entries)
        entries.sort(key=lambda pair: [t.channel_id for t in result.transcripts].index(pair[0]))
    formats.write(fmt, iter(entries), out)
    assert out.getvalue() == _reference(entries, fmt == "vtt")
    if not shuffle:
        assert out.getvalue() == formats.render(fmt, result)


# ---- the renderers: bounded memory ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt", "jsonl"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("multi_channel", [None, "known"])
def test_sentences_are_not_held(fmt: str, channels: int, multi_channel: str | None) -> None:
    """Rendering 1,000 sentences a channel never keeps more than a few of them alive."""
    live: weakref.WeakSet[Sentence] = weakref.WeakSet()
    most = 0

    def entries() -> Iterator[Any]:
        nonlocal most
        for channel, sentence in _entries(1000, channels, cls=TrackedSentence):
            live.add(sentence)
            most = max(most, len(live))
            yield channel, sentence
            del sentence

    options: dict[str, Any] = {}
    if multi_channel == "known" and fmt != "jsonl":
        options["multi_channel"] = channels > 1
    formats.write(fmt, entries(), cast(TextIO, Sink()), **options)
    assert most <= 3


@pytest.mark.parametrize("fmt", ["srt", "txt"])  # vtt takes the srt path: counted live above
def test_peak_memory_does_not_grow_with_the_sentences(fmt: str) -> None:
    """Ten times the sentences (two channels, found on the fly) costs no more traced memory."""

    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            formats.write(fmt, _entries(count, channels=2), cast(TextIO, Sink()))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(200), peak(2000)
    # Holding the sentences (with their words) took ~10 kB each: 36 MB more for the large case.
    assert large < small + 2 * _spool.SPOOL_BYTES, (small, large)
