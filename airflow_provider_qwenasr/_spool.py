"""Bounded-memory helpers for the renderers of :mod:`airflow_provider_qwenasr.formats`.

A result can hold hundreds of thousands of sentences, and the renderers see them one at a time from a
streaming parse. Two layout rules would otherwise make them keep every sentence:

* subtitle cues are written in order of start time (ties in the order the cues were made), while
  sentences arrive channel after channel: :class:`StartOrder` holds only the cues that overlap the
  sentence being read, writes the others out in sorted *runs* to temporary files, starts a new run
  when start times go back (the next channel), and merges the runs at the end;
* a label (``[chN] ``) or a header (``[Channel N]``) depends on whether a second channel exists,
  known only once it appears: :func:`hold_first_channel` keeps what came before it in a temporary
  file meanwhile.

The temporary files stay in memory up to :data:`SPOOL_BYTES` each, so small transcripts never touch
the disk, and move to the system temporary directory past it. They are deleted when closed.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import IO, Any, TypeVar, cast

__all__ = ["FAN_IN", "SPOOL_BYTES", "StartOrder", "hold_first_channel"]

#: Bytes a temporary file keeps in memory before it moves to disk.
SPOOL_BYTES = 1 << 20
#: How many runs are merged at once: it bounds the open files (and the memory of a merge, one cue
#: per run) whatever the number of runs, at the cost of rewriting cues once per level of merging.
FAN_IN = 16

T = TypeVar("T")


def _text_spool() -> IO[str]:
    # newline="\n": only "\n" ends a line when reading back, so no other character can split a record.
    # The caller owns the file (a run lives across calls), hence no context manager here.
    spool = tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+", encoding="utf-8", newline="\n")  # noqa: SIM115
    return cast(IO[str], spool)


def _write_record(spool: IO[str], start: int, block: str) -> None:
    # The header says how many lines follow, so a block may hold any number of newlines.
    spool.write(f"{start} {block.count(chr(10))}\n{block}\n")


def _read_records(spool: IO[str]) -> Iterator[tuple[int, str]]:
    spool.seek(0)
    while header := spool.readline():
        start, newlines = header.split()
        lines = [spool.readline() for _ in range(int(newlines) + 1)]
        yield int(start), "".join(lines)[:-1]


def _merge(runs: list[IO[str]]) -> Iterator[tuple[int, str]]:
    """Merge sorted runs by start time; a tie goes to the earlier run, then to the earlier record."""
    if len(runs) == 1:
        yield from _read_records(runs[0])
        return

    def keyed(order: int, run: IO[str]) -> Iterator[tuple[int, int, int, str]]:
        # (start, run, record) is unique, so the merge never compares the blocks themselves.
        for number, (start, block) in enumerate(_read_records(run)):
            yield start, order, number, block

    for start, _, _, block in heapq.merge(*(keyed(order, run) for order, run in enumerate(runs))):
        yield start, block


class StartOrder:
    """Put blocks of text (cues) in order of start time, holding only those that may still move.

    Give it each sentence's cues with :meth:`add`, in sentence order, then iterate :meth:`sorted`: it
    yields ``(start, block)`` exactly as ``sorted(all_cues, key=start)`` would (a stable sort).

    While the sentences' ``begin`` times do not go back, a cue is final once a sentence begins at or
    after its start, since every later cue starts at or after its sentence's begin: it is then written
    to the current run. A sentence that begins before the previous one (the next channel, or a
    service glitch) closes the run and starts another. The runs are merged by start time, ties to the
    earlier run, whose cues were made first; so one channel in time order never needs a merge, and
    ``n`` channels need one merge of ``n`` runs. Runs are merged :data:`FAN_IN` at a time as they
    accumulate (like a counter carrying), so even cues in reverse order keep few files open.

    Use it as a context manager, or call :meth:`close`, so its temporary files are deleted even when
    rendering fails halfway.
    """

    def __init__(self) -> None:
        #: A heap of (start, sequence, block): the cues that a later sentence could still precede.
        self._pending: list[tuple[int, int, str]] = []
        self._sequence = 0
        self._begin: int | None = None
        self._run: IO[str] | None = None
        #: Closed runs as (level, file): a level-k run merged FAN_IN**k runs; levels never increase.
        self._runs: list[tuple[int, IO[str]]] = []

    def add(self, begin: int, cues: Iterable[tuple[int, str]]) -> None:
        """Add one sentence's cues ``(start, block)``; every ``start`` must be at least ``begin``."""
        if self._begin is not None and begin < self._begin:
            self._flush(None)
            self._close_run()
        else:
            self._flush(begin)
        self._begin = begin
        for start, block in cues:
            if start < begin:
                raise ValueError(f"A cue starts at {start} ms, before its sentence begins ({begin} ms)")
            heapq.heappush(self._pending, (start, self._sequence, block))
            self._sequence += 1

    def sorted(self) -> Iterator[tuple[int, str]]:
        """Yield every cue added, as ``(start, block)``, in order of start time (stable)."""
        self._flush(None)
        self._close_run()
        runs = [run for _, run in self._runs]
        try:
            if runs:
                yield from _merge(runs)
        finally:
            self.close()

    def close(self) -> None:
        """Delete the temporary files; the cues not yet read are lost."""
        runs = [run for _, run in self._runs] + ([self._run] if self._run is not None else [])
        self._runs, self._run, self._pending = [], None, []
        for run in runs:
            run.close()

    def __enter__(self) -> StartOrder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _flush(self, upto: int | None) -> None:
        """Write the pending cues that start at or before ``upto`` (all of them for None) to the run."""
        pending = self._pending
        while pending and (upto is None or pending[0][0] <= upto):
            start, _, block = heapq.heappop(pending)
            if self._run is None:
                self._run = _text_spool()
            _write_record(self._run, start, block)

    def _close_run(self) -> None:
        if self._run is None:
            return
        self._runs.append((0, self._run))
        self._run = None
        runs = self._runs
        # Levels never increase along the list, so FAN_IN runs of one level at its end are consecutive:
        # merging them keeps the order in which their cues were made.
        while len(runs) >= FAN_IN and runs[-FAN_IN][0] == runs[-1][0]:
            level = runs[-1][0]
            group = [run for _, run in runs[-FAN_IN:]]
            del runs[-FAN_IN:]
            merged = _text_spool()
            try:
                for start, block in _merge(group):
                    _write_record(merged, start, block)
            except BaseException:
                merged.close()
                raise
            finally:
                for run in group:
                    run.close()
            runs.append((level + 1, merged))


def hold_first_channel(items: Iterable[T], channel: Callable[[T], int]) -> tuple[bool, Iterator[T]]:
    """Find out whether ``items`` span several channels, and return them all again, in order.

    Reads ``items`` until one of another channel than the first appears, or they end. What was read
    meanwhile waits in a temporary file (pickled: it is read back by this process alone), so memory
    does not grow with the first channel.

    :returns: ``(several channels, an iterator over every item)``. Read the iterator to its end (or
        drop it) to delete the temporary file.
    """
    iterator = iter(items)
    # Closed by _replay once read back (or on error below), not here: it outlives this call.
    spool = cast(IO[bytes], tempfile.SpooledTemporaryFile(SPOOL_BYTES))  # noqa: SIM115
    first: int | None = None
    found: list[T] = []  # the item of the second channel, once one appears
    try:
        for item in iterator:
            if first is None:
                first = channel(item)
            elif channel(item) != first:
                found.append(item)
                break
            pickle.dump(item, spool, pickle.HIGHEST_PROTOCOL)
    except BaseException:
        spool.close()
        raise
    return bool(found), chain(_replay(spool), found, iterator)


def _replay(spool: IO[bytes]) -> Iterator[Any]:
    with spool:
        spool.seek(0)
        while True:
            try:
                yield pickle.load(spool)  # noqa: S301 - written just above by this process
            except EOFError:
                return
