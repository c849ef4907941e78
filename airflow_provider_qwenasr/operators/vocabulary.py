"""Operators for hot-word tables: make sure one exists with given words, and delete one."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.operators._files import read_dag_file

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["QwenASRCreateVocabularyOperator", "QwenASRDeleteVocabularyOperator"]


class QwenASRCreateVocabularyOperator(BaseOperator):
    """Make the account hold one hot-word table of ``prefix`` for ``target_model`` with these words.

    Idempotent: a table of the same prefix and target model with the same words is reused, one with
    other words is updated in place, and only when there is none is one created; so a DAG run again
    never piles up tables. Returns (XCom) the ``vocabulary_id``, for the submit and transcribe
    operators' ``vocabulary_id``.

    :param target_model: the model the table is for (``fun-asr``, ``paraformer-v2``…). Templated.
    :param prefix: 1 to 10 characters of ``a-z0-9``. Templated.
    :param vocabulary: the words, ``[{"text": ..., "weight": 1-5, "lang": "en"}, ...]``. Templated.
    :param vocabulary_file: instead, a JSON file holding that list (a path, relative to the DAG
        folder or absolute). Templated.
    :param qwen_asr_conn_id: the ``qwen_asr`` connection.
    """

    template_fields: Sequence[str] = (
        "target_model",
        "prefix",
        "vocabulary",
        "vocabulary_file",
        "qwen_asr_conn_id",
    )
    template_fields_renderers = {"vocabulary": "json"}

    def __init__(
        self,
        *,
        target_model: str,
        prefix: str,
        vocabulary: Sequence[Mapping[str, Any]] | None = None,
        vocabulary_file: str | None = None,
        qwen_asr_conn_id: str = QwenASRHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_model = target_model
        self.prefix = prefix
        self.vocabulary = vocabulary
        self.vocabulary_file = vocabulary_file
        self.qwen_asr_conn_id = qwen_asr_conn_id

    @cached_property
    def hook(self) -> QwenASRHook:
        """The sync hook, created on first use."""
        return QwenASRHook(self.qwen_asr_conn_id)

    def execute(self, context: Context) -> str:
        """Reuse, update or create the table; return its id."""
        vocabulary_id, done = self.hook.ensure_vocabulary(
            target_model=self.target_model, prefix=self.prefix, vocabulary=self._words()
        )
        self.log.info("Hot-word table %s for %s: %s", vocabulary_id, self.target_model, done)
        return vocabulary_id

    def _words(self) -> Sequence[Mapping[str, Any]]:
        from airflow_provider_qwenasr.exceptions import QwenASRInputError

        if (self.vocabulary is None) == (self.vocabulary_file is None):
            raise QwenASRInputError("Pass vocabulary= or vocabulary_file=, exactly one of them")
        if self.vocabulary is not None:
            return self.vocabulary
        hint = 'It must hold a JSON list such as [{"text": "Qwen-ASR", "weight": 4, "lang": "en"}]'
        text = read_dag_file(self, str(self.vocabulary_file), argument="vocabulary_file", hint=hint)
        try:
            words = json.loads(text)
        except ValueError as error:
            raise QwenASRInputError(
                f"vocabulary_file {self.vocabulary_file!r} is not JSON: {error}", hint=hint
            ) from None
        return words


class QwenASRDeleteVocabularyOperator(BaseOperator):
    """Delete a hot-word table.

    :param vocabulary_id: the table's id, e.g. the create operator's output. Templated.
    :param missing_ok: succeed when the table is already gone (a 4xx answer to the delete).
    :param qwen_asr_conn_id: the ``qwen_asr`` connection.
    """

    template_fields: Sequence[str] = ("vocabulary_id", "qwen_asr_conn_id")

    def __init__(
        self,
        *,
        vocabulary_id: str,
        missing_ok: bool = True,
        qwen_asr_conn_id: str = QwenASRHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vocabulary_id = vocabulary_id
        self.missing_ok = missing_ok
        self.qwen_asr_conn_id = qwen_asr_conn_id

    def execute(self, context: Context) -> None:
        """Delete the table."""
        from airflow_provider_qwenasr.exceptions import QwenASRApiError

        try:
            QwenASRHook(self.qwen_asr_conn_id).delete_vocabulary(self.vocabulary_id)
        except QwenASRApiError as error:
            gone = error.http_status is not None and 400 <= error.http_status < 500
            if not (self.missing_ok and gone and error.http_status not in (401, 403, 429)):
                raise
            self.log.info("Hot-word table %s is already gone (%s)", self.vocabulary_id, error.code)
            return
        self.log.info("Deleted hot-word table %s", self.vocabulary_id)
