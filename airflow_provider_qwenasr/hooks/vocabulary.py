"""Hot-word tables through the sync hook: the five customization actions and an idempotent ensure.

Mixed into :class:`~airflow_provider_qwenasr.hooks.qwen_asr.QwenASRHook`. Reads (list, query) and the
idempotent writes (update, delete) are retried like every read. A create is sent again only when the
service provably never took it (a 429, or a refused connection), like a submit; when its answer is
lost, :meth:`VocabularyMixin.ensure_vocabulary` lists the tables again to find it before anything is
sent again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr._api.request import ApiRequest
from airflow_provider_qwenasr._api.vocabulary import (
    VocabularyTable,
    check_prefix,
    check_target_model,
    check_vocabulary_id,
    check_words,
    customization_body,
    same_words,
)
from airflow_provider_qwenasr.exceptions import QwenASRError
from airflow_provider_qwenasr.hooks.submit import _never_arrived

if TYPE_CHECKING:
    from airflow_provider_qwenasr._api.retry import RetryPolicy
    from airflow_provider_qwenasr._api.settings import ApiSettings

__all__ = ["VocabularyMixin"]

#: Tables asked for per list call (the service's default page size).
LIST_PAGE_SIZE = 10


class VocabularyMixin:
    """Hot-word table methods of :class:`~airflow_provider_qwenasr.hooks.qwen_asr.QwenASRHook`."""

    if TYPE_CHECKING:
        max_retries: int

        @property
        def settings(self) -> ApiSettings: ...
        @property
        def retry_policy(self) -> RetryPolicy: ...
        @property
        def log(self) -> Any: ...

        def _send(self, request: ApiRequest) -> dict[str, Any]: ...
        def _send_once(self, request: ApiRequest) -> dict[str, Any]: ...

    def _customize(self, action: str, *, retry: bool = True, **fields: Any) -> dict[str, Any]:
        request = ApiRequest.customization(self.settings, customization_body(action, **fields))
        answer = self._send(request) if retry else self._send_unless_taken(request)
        output = answer.get("output")
        return output if isinstance(output, dict) else {}

    def _send_unless_taken(self, request: ApiRequest) -> dict[str, Any]:
        """Send a non-idempotent request, again only while the service provably never took it.

        A 429 or a refused connection left nothing behind, so the one retry loop sends it again;
        any other failure, a lost answer above all, is raised at once.
        """

        def never_arrived(error: Exception) -> bool:
            return isinstance(error, QwenASRError) and _never_arrived(error)

        return self.retry_policy.call(
            lambda: self._send_once(request),
            what=f"DashScope {request.endpoint} (refused before doing anything)",
            log=self.log,
            retry_on=never_arrived,
        )

    def create_vocabulary(
        self, *, target_model: str, prefix: str, vocabulary: Sequence[Mapping[str, Any]]
    ) -> str:
        """Create a hot-word table and return its ``vocabulary_id``.

        Sent again only after a 429 or a refused connection (nothing was created then); a lost
        answer is raised, not retried: :meth:`ensure_vocabulary` recovers from that.

        :param target_model: the model that will use it (``fun-asr``, ``paraformer-v2``…).
        :param prefix: 1 to 10 characters of ``a-z0-9``, to find the table again.
        :param vocabulary: ``[{"text": ..., "weight": 1-5, "lang": "en"}, ...]``.
        :raises QwenASRInputError: for a bad prefix, model or word, before anything is sent.
        """
        fields = {
            "target_model": check_target_model(target_model),
            "prefix": check_prefix(prefix),
            "vocabulary": check_words(vocabulary),
        }
        vocabulary_id = self._customize("create_vocabulary", retry=False, **fields).get("vocabulary_id")
        if not vocabulary_id:
            raise QwenASRError("DashScope created a hot-word table but answered no vocabulary_id")
        return str(vocabulary_id)

    def list_vocabularies(self, prefix: str | None = None) -> Iterator[VocabularyTable]:
        """Every hot-word table of the account (with ``prefix``: only those), page by page."""
        fields: dict[str, Any] = {"prefix": check_prefix(prefix)} if prefix is not None else {}
        page = 0
        while True:
            output = self._customize("list_vocabulary", page_index=page, page_size=LIST_PAGE_SIZE, **fields)
            items = output.get("vocabulary_list") or []
            yield from (VocabularyTable.from_output(item) for item in items if isinstance(item, dict))
            if len(items) < LIST_PAGE_SIZE:
                return
            page += 1

    def query_vocabulary(self, vocabulary_id: str) -> VocabularyTable:
        """One table with its words, target model and times."""
        vocabulary_id = check_vocabulary_id(vocabulary_id)
        output = self._customize("query_vocabulary", vocabulary_id=vocabulary_id)
        return VocabularyTable.from_output(output, vocabulary_id)

    def update_vocabulary(self, vocabulary_id: str, vocabulary: Sequence[Mapping[str, Any]]) -> None:
        """Replace a table's words (the id stays; tasks submitted later use the new words)."""
        words = check_words(vocabulary)
        self._customize(
            "update_vocabulary", vocabulary_id=check_vocabulary_id(vocabulary_id), vocabulary=words
        )

    def delete_vocabulary(self, vocabulary_id: str) -> None:
        """Delete a table."""
        self._customize("delete_vocabulary", vocabulary_id=check_vocabulary_id(vocabulary_id))

    def ensure_vocabulary(
        self, *, target_model: str, prefix: str, vocabulary: Sequence[Mapping[str, Any]]
    ) -> tuple[str, str]:
        """Make the account hold one table of ``prefix`` for ``target_model`` with these words.

        A table of that prefix and target model with the same words is reused; one with other words
        is updated in place (the newest, when there are several); with none, one is created. So a
        DAG run again, or a retried task, never piles up tables.

        :returns: ``(vocabulary_id, what was done)``: ``"reused"``, ``"updated"`` or ``"created"``
            (also when the create's answer was lost and the table it made was found afterwards).
        """
        target_model = check_target_model(target_model)
        words = check_words(vocabulary)
        check_prefix(prefix)
        create_lost = False
        for attempt in range(self.max_retries + 1):
            found = self._table_for(prefix, target_model)
            if found is not None:
                if found.vocabulary is not None and same_words(found.vocabulary, words):
                    # After a lost answer, the table with these words is the one this call created.
                    return found.vocabulary_id, "created" if create_lost else "reused"
                self.update_vocabulary(found.vocabulary_id, words)
                return found.vocabulary_id, "updated"
            try:
                return self.create_vocabulary(
                    target_model=target_model, prefix=prefix, vocabulary=words
                ), "created"
            except QwenASRError as error:
                # A 429 or refused connection was retried by the create already: only a lost answer
                # (the table may exist) is looked for and tried again here.
                if not error.is_transient or _never_arrived(error) or attempt == self.max_retries:
                    raise
                create_lost = True
                self.log.warning(
                    "Creating the hot-word table got no answer (%s); looking for it before creating again",
                    error.code or error.message,
                )
                time.sleep(self.retry_policy.delay(attempt, error))
        raise AssertionError("unreachable")  # pragma: no cover

    def _table_for(self, prefix: str, target_model: str) -> VocabularyTable | None:
        """The newest table of ``prefix`` whose target model is ``target_model``, with its words."""
        tables = [self.query_vocabulary(t.vocabulary_id) for t in self.list_vocabularies(prefix)]
        mine = [t for t in tables if (t.target_model or target_model) == target_model]
        if not mine:
            return None
        newest = max(mine, key=lambda t: t.gmt_modified or t.gmt_create or "")
        if len(mine) > 1:
            self.log.info(
                "%d hot-word tables have prefix %r and target model %s; keeping to the newest, %s",
                len(mine),
                prefix,
                target_model,
                newest.vocabulary_id,
            )
        return newest
