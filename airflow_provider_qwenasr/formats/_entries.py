"""The renderers' input type, ``(channel_id, Sentence)`` pairs, and what a push-style writer offers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from airflow_provider_qwenasr.models import Sentence

__all__ = ["Pairs", "Writer"]

Pairs = Iterable[tuple[int, Sentence]]


class Writer(Protocol):
    """A renderer that is given the sentences one at a time, so one pass can feed several.

    Use it as a context manager (its temporary files, if any, are deleted on the way out), call
    :meth:`add` for every pair in order, then :meth:`finish` once.
    """

    def add(self, channel: int, sentence: Sentence) -> None:
        """Take the next sentence, of channel ``channel``."""

    def finish(self) -> int | None:
        """Write what is still held; return what the format's ``write_*`` function returns."""

    def __enter__(self) -> Writer: ...

    def __exit__(self, *exc: object) -> None: ...
