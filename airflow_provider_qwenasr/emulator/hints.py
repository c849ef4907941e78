"""Scenario hints read from an audio URL's query string, and facts derived from the URL.

Everything the emulator "knows" about an audio file comes from its URL: hints when present,
otherwise values drawn from a hash of the URL, so the same URL always gives the same answer.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

#: The hints understood; see docs/emulator.md.
HINT_NAMES = (
    "audio_seconds",
    "fail",
    "pending_seconds",
    "running_seconds",
    "channels",
    "sample_rate",
    "language",
)

_FORMATS = {
    "wav": "wav",
    "mp3": "mp3",
    "m4a": "m4a",
    "aac": "aac",
    "flac": "flac",
    "ogg": "ogg",
    "opus": "opus",
}


def _hint_map(file_url: str) -> dict[str, str]:
    try:
        query = urlsplit(file_url).query
    except ValueError:
        return {}
    return {k: v for k, v in parse_qsl(query, keep_blank_values=True) if k in HINT_NAMES}


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


@dataclass(frozen=True)
class AudioFacts:
    """What the emulator pretends an audio file is.

    :param seed: hash of the URL; seeds the transcript.
    :param audio_seconds: audio length.
    :param channels: tracks in the file (at least one more than the highest requested channel).
    :param sample_rate: sampling rate in Hz.
    :param format: container format, from the URL's extension (default ``wav``).
    :param fail: error code the file fails with, or ``None``.
    :param language: forced transcript language, or ``None``.
    :param pending_seconds: per-task override of the pending time, or ``None``.
    :param running_seconds: per-task override of the running time, or ``None``.
    """

    seed: int
    audio_seconds: float
    channels: int
    sample_rate: int
    format: str
    fail: str | None
    language: str | None
    pending_seconds: float | None
    running_seconds: float | None


def audio_facts(file_url: str, model: str, channel_ids: list[int]) -> AudioFacts:
    """Derive the facts of the file at ``file_url`` (hints first, then the URL's hash)."""
    seed = int.from_bytes(hashlib.sha256(file_url.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    hints = _hint_map(file_url)
    seconds = _float(hints.get("audio_seconds"))
    drawn_seconds = round(rng.uniform(5.0, 60.0), 3)
    channels_hint = _float(hints.get("channels"))
    needed = max(channel_ids, default=0) + 1
    channels = max(needed, int(channels_hint)) if channels_hint else needed
    default_rate = 8000 if "8k" in model else 16000
    rate = _float(hints.get("sample_rate"))
    path = urlsplit(file_url).path if "://" in file_url else file_url
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return AudioFacts(
        seed=seed,
        audio_seconds=drawn_seconds if seconds is None else seconds,
        channels=channels,
        sample_rate=int(rate) if rate else default_rate,
        format=_FORMATS.get(extension, "wav"),
        fail=hints.get("fail") or None,
        language=hints.get("language") or None,
        pending_seconds=_float(hints.get("pending_seconds")),
        running_seconds=_float(hints.get("running_seconds")),
    )
