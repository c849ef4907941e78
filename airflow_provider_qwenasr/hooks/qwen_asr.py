"""Hooks that speak the DashScope task API: :class:`QwenASRHook` (requests) for workers and
:class:`QwenASRAsyncHook` (httpx) for triggers.

Both build requests with :class:`~airflow_provider_qwenasr.protocol.ApiRequest`, pace queries with
the process-wide :mod:`~airflow_provider_qwenasr.rate` budget, retry reads on 429, 5xx and connection
errors with jittered exponential backoff (honouring ``Retry-After``), and translate every failure into
a :class:`~airflow_provider_qwenasr.exceptions.QwenASRError`. A submit is billed and has no idempotency
key, so it is never retried blindly: see :meth:`QwenASRHook.submit_transcription`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_qwenasr._api.request import ApiRequest, list_params
from airflow_provider_qwenasr._api.settings import ApiSettings
from airflow_provider_qwenasr._api.validate import SubmitPlan, plan_submit
from airflow_provider_qwenasr._compat import READS_CONN_FIELDS, aget_connection
from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRError,
    QwenASRInputError,
)
from airflow_provider_qwenasr.hooks import download
from airflow_provider_qwenasr.hooks.base import HookBase, cancel_refused, lost_answer, settle
from airflow_provider_qwenasr.hooks.connection import settings_from_connection
from airflow_provider_qwenasr.hooks.download import DEFAULT_MAX_RESULT_BYTES
from airflow_provider_qwenasr.hooks.lost_submit import LostSubmit, SubmitAttempt
from airflow_provider_qwenasr.hooks.submit import reconcile, submit_once
from airflow_provider_qwenasr.hooks.upload import post_to_temporary_storage
from airflow_provider_qwenasr.hooks.vocabulary import VocabularyMixin
from airflow_provider_qwenasr.models import AsrTask, TaskListItem, TaskPage, TaskStatus

if TYPE_CHECKING:
    import requests

__all__ = ["QwenASRAsyncHook", "QwenASRHook"]


class QwenASRHook(VocabularyMixin, HookBase):
    """Synchronous client of DashScope file transcription, for operators running on workers.

    :param qwen_asr_conn_id: the ``qwen_asr`` connection: API key as password, base URL as host
        (empty for the region in ``extra.region``), ``extra.workspace``, ``extra.query_qps``.
    :param max_retries: how many times a read (query, list, cancel, download) is retried on 429,
        5xx and connection errors.
    :param retry_base_delay: first backoff delay in seconds; it doubles per retry, with jitter.
    :param retry_max_delay: the longest backoff delay in seconds.
    :param timeout: ``(connect, read)`` timeouts in seconds for every request; by default 10 s to
        connect and the connection's ``extra.read_timeout`` (60 s when unset) to read. A submit whose
        answer is lost waits up to twice the read timeout before it decides whether a task was created.
    :param identify_timeout: after a submit whose answer was lost, how long to watch the tasks it may
        have created (they name their input files only once they end) before giving up undecided.
    """

    if not READS_CONN_FIELDS:  # Airflow 3.0 and 3.1 ask the hook; 3.2+ reads the provider info
        # Defined only there: 3.2+ calls these when a hook has them (with a deprecation warning), and
        # the provider info already declares the same fields.

        @classmethod
        def get_connection_form_widgets(cls) -> dict[str, Any]:
            """The connection form's extra fields (``region``, ``workspace``, the query budget).

            Airflow >= 3.2 builds them from the provider info's ``conn-fields``; 3.0 and 3.1 ask the
            hook. Empty when wtforms is not installed (Airflow then shows no extra fields either).
            """
            from airflow_provider_qwenasr.hooks.form import connection_form_widgets

            return connection_form_widgets()

        @classmethod
        def get_ui_field_behaviour(cls) -> dict[str, Any]:
            """Hidden fields, labels and placeholders of the connection form, for Airflow 3.0 and 3.1."""
            from airflow_provider_qwenasr.hooks.form import ui_field_behaviour

            return ui_field_behaviour()

    @cached_property
    def settings(self) -> ApiSettings:
        """The connection, read once per hook."""
        return settings_from_connection(self.get_connection(self.qwen_asr_conn_id), self.qwen_asr_conn_id)

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session per hook; auth travels per request, never on the session."""
        import requests

        return requests.Session()

    def get_conn(self) -> requests.Session:
        """Return the HTTP session (Airflow's hook convention)."""
        return self.session

    def close(self) -> None:
        """Close the session's pooled connections."""
        if "session" in self.__dict__:
            self.session.close()

    # -- the API ---------------------------------------------------------------------------------

    def submit_transcription(
        self,
        model: str,
        *,
        file_url: str | None = None,
        file_urls: Sequence[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
        resources: Sequence[Mapping[str, Any]] | None = None,
        context: str | Sequence[Any] | None = None,
        hot_words: Mapping[str, int] | None = None,
        vocabulary_id: str | None = None,
        on_attempt: Callable[[SubmitAttempt], None] | None = None,
    ) -> AsrTask:
        """Submit one transcription task and return it, never paying twice for one submit.

        The arguments are checked against the model table first
        (:func:`~airflow_provider_qwenasr._api.validate.plan_submit`), so a bad parameter costs nothing.
        A 429 or a refused connection means the service never took the submit, so it is sent again
        with backoff. When the outcome is unknown (a 5xx, or no complete answer: timeout, reset,
        truncated or garbled), the task the submit may have created is looked for
        (:func:`~airflow_provider_qwenasr.hooks.lost_submit.find_lost_task`): found, it is returned
        (it may have ended already); proven absent, the submit is sent again; otherwise
        :class:`QwenASRSubmitUnknownError` names the candidates and nothing is sent again. A family
        with a documented submit quota (Qwen-Audio: 600 a minute) is paced under it.

        :param model: a model of the table (``qwen3-asr-flash-filetrans``, ``fun-asr``,
            ``qwen-audio-3.1-asr-flash-filetrans``…, dated versions included), or any other name.
        :param parameters: the model's ``parameters`` (``language``, ``enable_words``,
            ``diarization_enabled``…), each checked; undocumented ones pass with a warning.
        :param resources: Fun-ASR v1 hot-word resources, sent at the top level.
        :param context: a context text (Qwen3 ``parameters.text``, Qwen-Audio ``input.context``).
        :param hot_words: instant hot words ``{word: weight}`` (Qwen-Audio).
        :param vocabulary_id: a hot-word table's id (Fun-ASR, Paraformer).
        :param on_attempt: called with each attempt just before its POST, so a caller can record it
            durably (a later try then reconciles instead of submitting blindly).
        :raises QwenASRInputError: for bad arguments, before anything is sent.
        :raises QwenASRApiError: when the service refuses the task.
        :raises QwenASRSubmitUnknownError: when a task may have been created but cannot be identified.
        """
        plan = self.plan_submit(
            model,
            parameters=parameters,
            resources=resources,
            context=context,
            hot_words=hot_words,
            vocabulary_id=vocabulary_id,
        )
        return self.submit_planned(plan, file_url=file_url, file_urls=file_urls, on_attempt=on_attempt)

    def plan_submit(self, model: str, **options: Any) -> SubmitPlan:
        """Check a submit's model and options for this connection's region; nothing is sent.

        ``options`` are :func:`~airflow_provider_qwenasr._api.validate.plan_submit`'s.
        """
        return plan_submit(model, region=self.settings.region, **options)

    def submit_planned(
        self,
        plan: SubmitPlan,
        *,
        file_url: str | None = None,
        file_urls: Sequence[str] | None = None,
        on_attempt: Callable[[SubmitAttempt], None] | None = None,
    ) -> AsrTask:
        """Submit a checked plan with its audio URLs (see :meth:`submit_transcription`)."""
        return submit_once(self, plan.body(file_url=file_url, file_urls=file_urls), on_attempt)

    def find_lost_task(self, attempt: SubmitAttempt, *, cause: QwenASRError | None = None) -> LostSubmit:
        """Find the task ``attempt`` created (see :mod:`~airflow_provider_qwenasr.hooks.lost_submit`).

        Returns a result whose ``task`` is ours, or which proves that no task was created.

        :raises QwenASRSubmitUnknownError: when a task may exist but cannot be identified, or the
            task list cannot be read; it names the candidates and what to check.
        """
        return reconcile(self, attempt, cause=cause)

    def get_task(self, task_id: str) -> AsrTask:
        """Query a task (retried on transient errors). ``UNKNOWN`` comes back as a status, not an error."""
        return AsrTask.from_response(self._send(ApiRequest.query(self.settings, task_id)))

    def cancel_task(self, task_id: str) -> bool:
        """Cancel a PENDING task; True when the task is CANCELED (by this call or an earlier one).

        Returns False, without raising, for a task that is running or finished.
        """
        try:
            self._send(ApiRequest.cancel(self.settings, task_id))
        except QwenASRApiError as error:
            if not cancel_refused(error):
                raise
            # Not PENDING now; but if an earlier attempt's answer was lost, it was this call that
            # canceled it.
            return self.get_task(task_id).status is TaskStatus.CANCELED
        return True

    def list_tasks(
        self,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        model_name: str | None = None,
        status: str | None = None,
        task_id: str | None = None,
        page_no: int = 1,
        page_size: int = 100,
    ) -> TaskPage:
        """List the account's tasks in a window of at most 24 h (the service's default: the last 24 h)."""
        return TaskPage.from_response(
            self._send(
                ApiRequest.list_tasks(
                    self.settings,
                    list_params(start_time, end_time, model_name, status, task_id, page_no, page_size),
                )
            )
        )

    def iter_tasks(self, **filters: Any) -> Iterator[TaskListItem]:
        """Yield every task matching ``filters`` (as :meth:`list_tasks`), page after page."""
        page_no = 1
        while True:
            page = self.list_tasks(page_no=page_no, **filters)
            yield from page.items
            if page_no >= page.total_page or not page.items:
                return
            page_no += 1

    def test_connection(self) -> tuple[bool, str]:
        """Check the key and base URL with a free call (one page of the task list)."""
        try:
            self.list_tasks(page_size=1)
        except QwenASRError as error:
            return False, str(error)
        return True, f"Connected to {self.settings.base_url}"

    # -- result files ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def open_result(
        self, url: str, *, max_bytes: int = DEFAULT_MAX_RESULT_BYTES, chunk_size: int = 1 << 20
    ) -> Iterator[Iterator[bytes]]:
        """Open a signed result URL and yield an iterator over its bytes, streamed in chunks.

        No Authorization header is sent (the URL carries its own signature). Not retried: see
        :meth:`download_result`.

        :raises QwenASRResultError: on 403 (expired or altered link), 404, or a file over ``max_bytes``.
        :raises QwenASRConnectionError: when the connection drops or the body is shorter than announced.
        """
        timeout = self.timeout_for(self.settings)
        with download.open_result(url, timeout=timeout, max_bytes=max_bytes, chunk_size=chunk_size) as chunks:
            yield chunks

    def download_result(self, url: str, sink: IO[bytes], *, max_bytes: int = DEFAULT_MAX_RESULT_BYTES) -> int:
        """Stream a result file into ``sink`` (a seekable binary file); return the byte count.

        A transient failure restarts the download from the beginning (the sink is rewound and
        truncated), up to ``max_retries`` times.
        """
        return download.download_result(
            url,
            sink,
            timeout=self.timeout_for(self.settings),
            retry_policy=self.retry_policy,
            log=self.log,
            max_bytes=max_bytes,
        )

    # -- temporary upload (Beijing only) ---------------------------------------------------------

    def upload_file(self, path: str | Path, *, model: str) -> str:
        """Upload a local file through DashScope's temporary storage; return its ``oss://`` URL.

        The URL is valid for 48 hours, for ``model`` and this account only; submit it with the
        resolve header (the hook adds it for ``oss://`` URLs). Not for production volumes.

        :raises QwenASRInputError: on a connection outside the Beijing (``cn``) region, where the
            service has no temporary upload, and for a missing file; nothing is sent then.
        """
        if self.settings.region != "cn":
            raise QwenASRInputError(
                f"A local file ({Path(path).name}) cannot be uploaded on a {self.settings.region!r} "
                "connection: DashScope's temporary upload exists in the Beijing (cn) region only",
                hint="Pass an object-storage path (s3://, gs://, oss://) as audio_path, or a public "
                "or pre-signed URL as file_url",
            )
        source = Path(path)
        if not source.is_file():
            raise QwenASRInputError(f"No file to upload at {source}")
        policy = self._send(ApiRequest.upload_policy(self.settings, model)).get("data") or {}
        return post_to_temporary_storage(policy, source, timeout=self.timeout_for(self.settings))

    # -- transport -------------------------------------------------------------------------------

    def _send(self, request: ApiRequest) -> dict[str, Any]:
        """Send a read, retrying transient failures with backoff."""
        return self.retry_policy.call(
            lambda: self._send_once(request), what=f"DashScope {request.endpoint}", log=self.log
        )

    def _send_once(self, request: ApiRequest) -> dict[str, Any]:
        import requests

        budget = self._request_budget(self.settings, request)
        if budget:
            budget.acquire_blocking()
        try:
            response = self.session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                params=request.params,
                json=request.json,
                timeout=self.timeout_for(self.settings),
                stream=True,  # the body is read below, so that a cut body is told from no answer
            )
        except requests.RequestException as exc:
            raise lost_answer(request, exc) from None
        try:
            content = response.content
        except requests.RequestException as exc:
            raise lost_answer(request, exc, answer_started=True) from None
        return settle(budget, response.status_code, content, response.headers, request)


class QwenASRAsyncHook(HookBase):
    """Asynchronous twin of :class:`QwenASRHook` for triggers: queries and cancels with httpx.

    The connection is read with Airflow's async lookup (a sync lookup fails inside the triggerer),
    and every hook in one event loop shares one ``httpx.AsyncClient`` per API host, so a thousand
    waiting triggers use a handful of connections.
    """

    def __init__(self, qwen_asr_conn_id: str = HookBase.default_conn_name, **kwargs: Any) -> None:
        super().__init__(qwen_asr_conn_id, **kwargs)
        self._settings: ApiSettings | None = None

    async def get_settings(self) -> ApiSettings:
        """The connection, read once per hook, asynchronously."""
        if self._settings is None:
            from airflow_provider_qwenasr.hooks.pool import shared_settings

            async def lookup() -> ApiSettings:
                conn = await aget_connection(self.qwen_asr_conn_id)
                return settings_from_connection(conn, self.qwen_asr_conn_id)

            self._settings = await shared_settings(self.qwen_asr_conn_id, lookup)
        return self._settings

    async def get_task(self, task_id: str, *, retry: bool = True) -> AsrTask:
        """Query a task; with ``retry`` False a transient error is raised at once (the caller paces)."""
        settings = await self.get_settings()
        return AsrTask.from_response(await self._send(ApiRequest.query(settings, task_id), retry=retry))

    async def list_tasks(
        self,
        *,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        model_name: str | None = None,
        status: str | None = None,
        page_no: int = 1,
        page_size: int = 100,
        retry: bool = True,
    ) -> TaskPage:
        """One page of the account's task list (see :meth:`QwenASRHook.list_tasks`), on the list's
        own rate budget; with ``retry`` False a transient error is raised at once."""
        settings = await self.get_settings()
        params = list_params(start_time, end_time, model_name, status, None, page_no, page_size)
        return TaskPage.from_response(await self._send(ApiRequest.list_tasks(settings, params), retry=retry))

    async def cancel_task(self, task_id: str) -> bool:
        """Cancel a PENDING task; True when it is CANCELED, False when running or finished."""
        settings = await self.get_settings()
        try:
            await self._send(ApiRequest.cancel(settings, task_id), retry=True)
        except QwenASRApiError as error:
            if not cancel_refused(error):
                raise
            return (await self.get_task(task_id)).status is TaskStatus.CANCELED
        return True

    async def _send(self, request: ApiRequest, *, retry: bool) -> dict[str, Any]:
        if not retry:
            return await self._send_once(request)
        return await self.retry_policy.acall(
            lambda: self._send_once(request), what=f"DashScope {request.endpoint}", log=self.log
        )

    async def _send_once(self, request: ApiRequest) -> dict[str, Any]:
        import httpx

        from airflow_provider_qwenasr.hooks.pool import host_pool

        settings = await self.get_settings()
        budget = self._request_budget(settings, request)
        if budget:
            await budget.acquire()
        try:
            connect, read = timeout = self.timeout_for(settings)
            # Per request: the loop's client for the host is shared by hooks of other connections.
            async with host_pool(settings.host, timeout).slot() as client:
                response = await client.request(
                    request.method,
                    request.url,
                    headers=dict(request.headers),
                    params=request.params,
                    json=request.json,
                    timeout=httpx.Timeout(read, connect=connect),
                )
        except httpx.HTTPError as exc:
            raise lost_answer(request, exc) from None
        return settle(budget, response.status_code, response.content, response.headers, request)
