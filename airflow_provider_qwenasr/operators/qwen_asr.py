"""The Qwen-ASR operators, importable from one place.

Each lives in a module of its own (:mod:`.submit`, :mod:`.fetch`, :mod:`.transcribe`); this module
is the public import path: ``from airflow_provider_qwenasr.operators.qwen_asr import ...``.
"""

from __future__ import annotations

from airflow_provider_qwenasr.operators.fetch import (
    FetchTranscriptionOperator,
    QwenASRFetchTranscriptionOperator,
)
from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator

__all__ = [
    "FetchTranscriptionOperator",
    "QwenASRFetchTranscriptionOperator",
    "QwenASRSubmitTranscriptionOperator",
    "QwenASRTranscribeOperator",
]
