"""SenseVoice's inline tags: ``<|en|>``, ``<|HAPPY|>``, ``<|Speech|>`` … read out of a sentence's text.

SenseVoice (``sensevoice-v1``) writes Fun-ASR documents whose texts carry what it detected inline:
the language (``<|en|>``), the emotion (``<|HAPPY|>``) and audio events, opened and closed around
the words they cover (``<|Applause|>今天<|/Applause|>``). :func:`read_tags` is the one reader: it
takes the tags out of the text and returns what they mark, so a sentence carries clean text plus its
language, emotion and events, whoever reads the document (the models, the fetch's streaming scan).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["EMOTION_TAGS", "EVENT_TAGS", "TaggedText", "read_tags", "strip_tags"]

#: The emotion tags, and the emotion each gives: lower case, as Qwen3's ``emotion`` field writes it.
EMOTION_TAGS: dict[str, str] = {
    name: name.lower() for name in ("HAPPY", "SAD", "ANGRY", "NEUTRAL", "FEARFUL", "DISGUSTED", "SURPRISED")
}
#: The audio-event tags (matched in any case), by their upper-case name, with the name an event keeps.
EVENT_TAGS: dict[str, str] = {
    name.upper(): name
    for name in ("Speech", "BGM", "Applause", "Laughter", "Cry", "Sneeze", "Breath", "Cough")
}

#: ``<|name|>`` or ``<|/name|>``; the group is the name, with its slash.
_TAG = re.compile(r"<\|(/?[A-Za-z0-9_.\-]{1,40})\|>")
#: A language tag: an ISO 639 code in lower case (``en``, ``yue``); ``<|nospeech|>`` is none.
_LANGUAGE = re.compile(r"[a-z]{2,3}")


class TaggedText(NamedTuple):
    """A sentence's text with its tags taken out, its language and emotion, and the events tagged."""

    text: str
    language: str | None = None
    emotion: str | None = None
    events: tuple[str, ...] = ()


def _join(left: str, right: str) -> str:
    """``left + right`` where a tag was between them: spaces on both sides of it become one."""
    if left[-1:].isspace() and right[:1].isspace():
        right = right.lstrip()
    return left + right


def _pieces(text: str) -> list[str] | None:
    """``[text, tag, text, tag, …, text]``, or None when ``text`` holds no tag (the common case)."""
    if "<|" not in text:
        return None
    pieces = _TAG.split(text)
    return pieces if len(pieces) > 1 else None


def read_tags(text: str, language: str | None = None, emotion: str | None = None) -> TaggedText:
    """Take SenseVoice's tags out of a sentence's ``text`` and say what they marked.

    ``language`` and ``emotion`` are the sentence's own fields: a tag fills one only when it is
    missing or empty (the first language tag, the first emotion tag). A text without tags comes back
    unchanged, byte for byte, with the fields as given. Otherwise every ``<|…|>`` tag is removed
    (an unknown one, such as ``<|withitn|>`` or ``<|SPECIAL_TOKEN_1|>``, is removed and ignored),
    whitespace either side of a removed tag becomes the one run before it, and the result is
    stripped at both ends; whitespace inside the text is left as it was. Events are listed once each,
    in the order they first appear, opening or closing.

    >>> read_tags("<|Speech|> Hello <|HAPPY|> world.<|/Speech|><|en|>")
    TaggedText(text='Hello world.', language='en', emotion='happy', events=('Speech',))
    >>> read_tags("<|Applause|>今天<|/Applause|>天气好棒啊。<|withitn|>").text
    '今天天气好棒啊。'
    """
    pieces = _pieces(text)
    if pieces is None:
        return TaggedText(text, language, emotion)
    tagged_language = tagged_emotion = None
    events: dict[str, None] = {}
    clean = pieces[0]
    for index in range(1, len(pieces), 2):
        name = pieces[index].lstrip("/")
        upper = name.upper()
        if upper in EVENT_TAGS:
            events.setdefault(EVENT_TAGS[upper])
        elif pieces[index][0] != "/":
            if upper in EMOTION_TAGS:
                tagged_emotion = tagged_emotion or EMOTION_TAGS[upper]
            elif _LANGUAGE.fullmatch(name):
                tagged_language = tagged_language or name
        clean = _join(clean, pieces[index + 1])
    return TaggedText(
        clean.strip(),
        language if language or tagged_language is None else tagged_language,
        emotion if emotion or tagged_emotion is None else tagged_emotion,
        tuple(events),
    )


def strip_tags(text: str) -> str:
    """``text`` without SenseVoice's tags, for a word: its own leading and trailing space are kept.

    A word's spacing is part of its text (``"Senior "``), so only the space a tag leaves at an end
    where the word had none is removed. A text without tags comes back unchanged.

    >>> strip_tags("<|Speech|>Hello "), strip_tags("<|HAPPY|>")
    ('Hello ', '')
    """
    pieces = _pieces(text)
    if pieces is None:
        return text
    clean = pieces[0]
    for index in range(2, len(pieces), 2):
        clean = _join(clean, pieces[index])
    if not text[:1].isspace():
        clean = clean.lstrip()
    if not text[-1:].isspace():
        clean = clean.rstrip()
    return clean
