"""The Qwen-ASR operators, importable from one place.

Each lives in a module of its own (:mod:`.submit`, :mod:`.fetch`, :mod:`.transcribe`,
:mod:`.vocabulary`); this module is the public import path:
``from airflow_provider_qwenasr.operators.qwen_asr import ...``.
"""

from __future__ import annotations

from airflow_provider_qwenasr.operators.fetch import (
    FetchTranscriptionOperator,
    QwenASRFetchTranscriptionOperator,
)
from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator
from airflow_provider_qwenasr.operators.vocabulary import (
    QwenASRCreateVocabularyOperator,
    QwenASRDeleteVocabularyOperator,
)

__all__ = [
    "FetchTranscriptionOperator",
    "QwenASRCreateVocabularyOperator",
    "QwenASRDeleteVocabularyOperator",
    "QwenASRFetchTranscriptionOperator",
    "QwenASRSubmitTranscriptionOperator",
    "QwenASRTranscribeOperator",
]
