"""How outputs are named: ``{output_path}/{asr_task_id}/{stem}.{ext}``, one stem per input file.

The stem is the input file URL's last path segment without its extension, percent-decoded and
sanitised to letters, digits, ``_``, ``-`` and ``.`` (other characters become ``_``). For Qwen3 the
query does not name the input file, so the ``file_url`` inside the result document is used. A URL
without a usable name gives ``file-{index}``. When several files of one task share a stem (compared
without case, as some file systems do), each of them gets its file index appended: ``a-0``, ``a-2``.
The task id directory keeps mapped transcriptions writing into one folder apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

__all__ = ["OutputNames", "stem_from_url"]

#: Longest stem kept (characters); S3 keys allow 1,024 bytes and most file systems 255 per name.
MAX_STEM_CHARS = 120
_UNSAFE = re.compile(r"[^\w.-]+")


def stem_from_url(url: str | None) -> str | None:
    """Return the sanitised base name of ``url`` without its extension, or ``None`` if it has none.

    >>> stem_from_url("https://host/audio/meeting%202024.wav?Expires=1&Signature=x")
    'meeting_2024'
    >>> stem_from_url("oss://dashscope-instant/abc/2024-07-18/call.final.mp3")
    'call.final'
    >>> stem_from_url("https://host/") is None
    True
    """
    if not url:
        return None
    try:
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    except ValueError:
        return None
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    # Decoding can reveal separators ("..%2Fx"): only what follows the last one is the name.
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    if "." in name.lstrip("."):
        name = name.rsplit(".", 1)[0]
    # \w keeps letters and digits of every script (a Chinese file name stays readable); anything
    # else, path separators and control characters included, becomes one underscore.
    name = _UNSAFE.sub("_", name).strip("._-")[:MAX_STEM_CHARS].strip("._-")
    return name or None


class OutputNames:
    """Allocate one unique output stem per file of a task (see the module docstring for the rule).

    :param file_urls: the input URL of each file, by file index, as the task query gives them
        (``None`` where the query does not say, as for Qwen3).
    """

    def __init__(self, file_urls: Sequence[str | None]) -> None:
        stems = [stem_from_url(url) for url in file_urls]
        shared = Counter(s.casefold() for s in stems if s)
        self._planned: dict[int, str] = {
            index: f"{stem}-{index}" if shared[stem.casefold()] > 1 else stem
            for index, stem in enumerate(stems)
            if stem
        }
        self._given: dict[int, str] = {}
        self._used: set[str] = set()

    def name(self, index: int, document_file_url: str | None = None) -> str:
        """Return the stem of file ``index``; the same index always gets the same stem.

        :param document_file_url: the ``file_url`` of the result document, used when the query gave
            no usable URL for this file.
        """
        if index in self._given:
            return self._given[index]
        stem = self._planned.get(index) or stem_from_url(document_file_url) or f"file-{index}"
        # A stem can still meet another file's: a late (document) name, or a literal "a-2".
        while stem.casefold() in self._used or self._clashes_with_plan(index, stem):
            stem = f"{stem}-{index}"
        self._used.add(stem.casefold())
        self._given[index] = stem
        return stem

    def _clashes_with_plan(self, index: int, stem: str) -> bool:
        return any(
            other != index and planned.casefold() == stem.casefold()
            for other, planned in self._planned.items()
        )
