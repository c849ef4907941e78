"""Typed, immutable views of DashScope's task and result documents.

Parsers here tolerate what the service may add later: unknown fields are kept in ``extra``, and an
unknown task status becomes :attr:`TaskStatus.OTHER` (not terminal, so a waiter keeps polling)
instead of an exception. Times inside a transcript stay integer milliseconds, as DashScope sends them;
task timestamps become timezone-aware ``pendulum`` datetimes in UTC.

Signed result URLs live only in :attr:`FileResult.transcription_url`, which is left out of ``repr``
and of every ``summary()``, so printing or pushing a model never leaks one.

Speaker labels are kept as given (an int, or a ``"spk0"`` style string) and ordered by
:func:`speaker_sort_key`; SenseVoice's inline tags are read out of sentence texts by :func:`read_tags`.
"""

# The parts live in private modules, one job each; this package is the public path to every name.
# SERVICE_TIMEZONE stays importable from here, as before the split, but is not in __all__ (it never was).
from airflow_provider_qwenasr.models._service_time import SERVICE_TIMEZONE as SERVICE_TIMEZONE
from airflow_provider_qwenasr.models._service_time import parse_service_time
from airflow_provider_qwenasr.models._speaker import SpeakerLabel, speaker_label, speaker_sort_key
from airflow_provider_qwenasr.models._status import TaskStatus
from airflow_provider_qwenasr.models._tags import TaggedText, read_tags
from airflow_provider_qwenasr.models._task import AsrTask, FileResult, TaskMetrics
from airflow_provider_qwenasr.models._task_list import TaskListItem, TaskPage
from airflow_provider_qwenasr.models._transcript import Sentence, Transcript, Transcription, Word

__all__ = [
    "AsrTask",
    "FileResult",
    "Sentence",
    "SpeakerLabel",
    "TaggedText",
    "TaskListItem",
    "TaskMetrics",
    "TaskPage",
    "TaskStatus",
    "Transcript",
    "Transcription",
    "Word",
    "parse_service_time",
    "read_tags",
    "speaker_label",
    "speaker_sort_key",
]
