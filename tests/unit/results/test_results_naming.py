"""Output names: per task and per input file, readable, safe and unique."""

from __future__ import annotations

import pytest

from airflow_provider_qwenasr.results.naming import MAX_STEM_CHARS, OutputNames, stem_from_url


@pytest.mark.parametrize(
    ("url", "stem"),
    [
        ("https://host/audio/meeting.wav", "meeting"),
        ("https://host/audio/meeting.wav?Expires=1&Signature=abc", "meeting"),
        ("https://host/a/meeting%202024-01.final.mp3", "meeting_2024-01.final"),
        ("oss://dashscope-instant/abc/2024-07-18/call.m4a", "call"),
        ("https://host/%E4%BC%9A%E8%AE%AE.wav", "会议"),
        ("https://host/a/..%2F..%2Fetc%2Fpasswd.txt", "passwd"),
        ("https://host/.hidden.wav", "hidden"),
        ("https://host/noext", "noext"),
        ("https://***.wav", None),
        ("https://host/dir/", "dir"),
        ("https://host/", None),
        ("", None),
        (None, None),
    ],
)
def test_stem_from_url(url: str | None, stem: str | None) -> None:
    """The base name without extension, sanitised; None when nothing usable is left."""
    assert stem_from_url(url) == stem


def test_stems_are_bounded() -> None:
    """A very long name is cut to a length every store accepts."""
    stem = stem_from_url("https://host/" + "a" * 500 + ".wav")
    assert stem is not None
    assert len(stem) == MAX_STEM_CHARS


def test_unique_names_stay_plain() -> None:
    """Distinct stems are used as they are; a missing one falls back to the file index."""
    names = OutputNames(["https://h/a.wav", "https://h/b.wav", None])
    assert [names.name(0), names.name(1), names.name(2)] == ["a", "b", "file-2"]


def test_shared_stems_get_the_file_index_whatever_the_order() -> None:
    """Every file sharing a stem (ignoring case) gets its index, so names do not depend on order."""
    urls = ["https://h/x/a.wav", "https://h/b.wav", "https://h/y/A.mp3", "https://h/z/a.wav"]
    names = OutputNames(urls)
    assert names.name(3) == "a-3"
    assert [names.name(i) for i in range(4)] == ["a-0", "b", "A-2", "a-3"]


def test_document_name_is_used_when_the_query_has_none() -> None:
    """Qwen3: the query has no file_url, so the result document's is used."""
    names = OutputNames([None])
    assert names.name(0, "https://audio.test/interview.wav?x=1") == "interview"
    assert names.name(0, "https://other.test/ignored.wav") == "interview"


def test_late_names_and_literal_suffixes_never_collide() -> None:
    """A name met again (a late document name, or a literal "a-1") is disambiguated."""
    names = OutputNames(["https://h/a.wav", None, "https://h/a-1.wav"])
    given = [names.name(0), names.name(1, "https://h/a.wav"), names.name(2)]
    assert len({g.casefold() for g in given}) == 3
    assert given[0] == "a"
