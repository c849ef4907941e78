"""The operator that submits a DashScope transcription task, exactly once."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_qwenasr._compat import AirflowFailException, AirflowTaskTimeout, default_deferrable
from airflow_provider_qwenasr.audio import DEFAULT_AUDIO_URL_EXPIRY
from airflow_provider_qwenasr.failure_record import records_failure
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.lineage.record import record_of
from airflow_provider_qwenasr.operators.links import QwenASRTranscriptLink
from airflow_provider_qwenasr.outcomes import DEFERRAL_GRACE, TerminationReason

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_qwenasr._api.validate import SubmitPlan
    from airflow_provider_qwenasr.hooks.lost_submit import SubmitAttempt
    from airflow_provider_qwenasr.models import AsrTask

__all__ = ["QwenASRSubmitTranscriptionOperator"]

#: Key of the DashScope task id in the task's durable state (``task_state_store``, Airflow >= 3.3).
#: Renaming it breaks retries of tasks already in flight.
STATE_KEY = "qwen_asr_task_id"
#: Key of the latest submit attempt (model, SHA-256 of each input URL, time window), written
#: before each billed POST so that a try after a lost answer reconciles instead of paying twice.
ATTEMPT_KEY = "qwen_asr_submit_attempt"
#: How long the stored id is kept: past DashScope's 24 h retention, a stored id is useless anyway.
STATE_RETENTION = timedelta(days=2)


class QwenASRSubmitTranscriptionOperator(BaseOperator):
    """Submit one transcription task to DashScope and return its id; optionally wait for it.

    **Exactly once.** On Airflow >= 3.3 the DashScope task id is saved in the task instance's durable
    state (``task_state_store``) right after the submit, before any wait. A retry (after a worker
    crash, a timeout, an error while waiting) finds it and reattaches to the task when it is PENDING,
    RUNNING or SUCCEEDED, instead of paying for a second one; only a task that ended FAILED, CANCELED
    or UNKNOWN is submitted anew. On older Airflow every try submits. The submit itself is never
    retried blindly (see :meth:`QwenASRHook.submit_transcription`).

    :param model: a model of the table in ``docs/models.md``: ``qwen3-asr-flash-filetrans`` (one
        ``file_url``), ``qwen-audio-3.1-asr-flash-filetrans``, or a Fun-ASR, Paraformer or SenseVoice
        model such as ``fun-asr`` or ``paraformer-v2`` (``file_urls``, up to 100); dated versions
        (``fun-asr-2025-11-07``) too. Another name is sent as is, with a warning. Templated.
    :param file_url: the audio URL (http, https, or ``oss://`` from a temporary upload). Templated;
        map over it with ``.expand(file_url=[...])``.
    :param file_urls: Fun-ASR/Paraformer: several audio URLs in one task. Templated.
    :param audio_path: instead of URLs, audio in object storage (templated): an ``ObjectStoragePath``
        URI such as ``s3://bucket/call.wav`` or ``file:///data/call.wav``, or a list of them. Stores
        that sign (S3, GCS, OSS) get a pre-signed URL; a local file goes through DashScope's
        temporary upload (Beijing region only). See :mod:`airflow_provider_qwenasr.audio`.
    :param audio_conn_id: the object store's connection for ``audio_path``.
    :param audio_url_expiry: how long a pre-signed audio URL stays valid.
    :param parameters: passed to DashScope as is (``language``, ``enable_words``, ``channel_id``,
        ``diarization_enabled``, ``speaker_count``, ``language_hints``…). Templated.
        Each documented parameter is checked against the model's family before anything is sent
        (see ``docs/models.md``); an undocumented one passes with a warning.
    :param asr_resources: Fun-ASR v1 hot-word ``resources`` (sent at the top level; named so
        because ``resources`` is an Airflow operator argument).
    :param context: text that helps recognition (names, terms, the topic): Qwen3-ASR filetrans's
        ``parameters.text`` (up to about 10,000 tokens), Qwen-Audio filetrans's ``input.context``.
        Templated, so it can come from an upstream task (``"{{ ti.xcom_pull('notes') }}"``).
    :param context_file: instead, a UTF-8 text file holding the context (relative to the DAG
        folder, or absolute). Templated.
    :param hot_words: instant hot words ``{"Qwen": 5, ...}`` (Qwen-Audio filetrans's
        ``parameters.vocabulary``). Templated.
    :param vocabulary_id: a hot-word table (Fun-ASR, Paraformer), e.g. the output of
        :class:`~airflow_provider_qwenasr.operators.vocabulary.QwenASRCreateVocabularyOperator`;
        its ``target_model`` must be this model. Templated.
    :param qwen_asr_conn_id: the ``qwen_asr`` connection.
    :param wait_for_completion: wait until the task ends (failing if it failed) before returning.
    :param deferrable: wait in the triggerer instead of the worker (default:
        ``[operators] default_deferrable``).
    :param poll_interval: seconds between status queries at first (the interval grows); at least
        :data:`~airflow_provider_qwenasr.waiting.MIN_POLL_INTERVAL` (1 s).
    :param max_poll_interval: the longest interval between queries.
    :param timeout: seconds to wait before giving up (positive); a task still PENDING then is canceled.
    :param allow_partial_failure: Fun-ASR with several files: a task with some failed files succeeds.

    Returns (XCom) the DashScope task id, for the sensor's and the fetch operator's ``asr_task_id``.
    """

    template_fields: Sequence[str] = (
        "model",
        "file_url",
        "file_urls",
        "audio_path",
        "audio_conn_id",
        "parameters",
        "asr_resources",
        "context",
        "context_file",
        "hot_words",
        "vocabulary_id",
        "qwen_asr_conn_id",
    )
    template_fields_renderers = {"parameters": "json", "asr_resources": "json", "hot_words": "json"}
    ui_color = "#ffd8a8"
    operator_extra_links = (QwenASRTranscriptLink(),)

    def __init__(
        self,
        *,
        model: str = "qwen3-asr-flash-filetrans",
        file_url: str | None = None,
        file_urls: Sequence[str] | None = None,
        audio_path: str | Sequence[str] | None = None,
        audio_conn_id: str | None = None,
        audio_url_expiry: timedelta = DEFAULT_AUDIO_URL_EXPIRY,
        parameters: Mapping[str, Any] | None = None,
        asr_resources: Sequence[Mapping[str, Any]] | None = None,
        context: str | Sequence[Any] | None = None,
        context_file: str | None = None,
        hot_words: Mapping[str, int] | None = None,
        vocabulary_id: str | None = None,
        qwen_asr_conn_id: str = QwenASRHook.default_conn_name,
        wait_for_completion: bool = False,
        deferrable: bool = default_deferrable(),
        poll_interval: float = 5.0,
        max_poll_interval: float = 30.0,
        timeout: float = 24 * 3600.0,
        allow_partial_failure: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.file_url = file_url
        self.file_urls = file_urls
        self.audio_path = audio_path
        self.audio_conn_id = audio_conn_id
        self.audio_url_expiry = audio_url_expiry
        self.parameters = parameters
        self.asr_resources = asr_resources
        if context is not None and context_file is not None:
            from airflow_provider_qwenasr.exceptions import QwenASRInputError

            raise QwenASRInputError("Pass context or context_file, not both")
        self.context = context
        self.context_file = context_file
        self.hot_words = hot_words
        self.vocabulary_id = vocabulary_id
        self.qwen_asr_conn_id = qwen_asr_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.timeout = timeout
        self.allow_partial_failure = allow_partial_failure
        self._waiting_on: str | None = None

    def _do_render_template_fields(
        self, parent: Any, template_fields: Any, context: Context, jinja_env: Any, seen_oids: set[int]
    ) -> None:
        """Render the templated fields, then mask the query of each audio URL in Airflow's output.

        A signed URL's query is a credential: the Rendered Template tab, the REST API and the logs
        show ``https://host/a.wav?***``; the URL submitted is untouched. (This is the method both
        ``render_template_fields`` and a mapped operator's rendering call.)
        """
        from airflow_provider_qwenasr.masking import mask_url_queries

        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)
        file_url, file_urls = getattr(parent, "file_url", None), getattr(parent, "file_urls", None)
        urls: list[object] = [file_url]
        if isinstance(file_urls, str):
            urls.append(file_urls)
        elif isinstance(file_urls, (list, tuple)):
            urls.extend(file_urls)
        mask_url_queries(urls)

    @cached_property
    def hook(self) -> QwenASRHook:
        """The sync hook, created on first use (not at DAG parse time)."""
        return QwenASRHook(self.qwen_asr_conn_id)

    @records_failure
    def execute(self, context: Context) -> Any:
        """Submit (or reattach to an earlier try's task), then wait if asked."""
        if self.wait_for_completion:
            from airflow_provider_qwenasr.waiting import check_wait_options

            check_wait_options(
                interval_name="poll_interval",
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
                timeout=self.timeout,
            )
        task = self.submit_or_reattach(context)
        record_of(self).note_task(task)
        if not self.wait_for_completion:
            return task.task_id
        if task.is_terminal:
            return self._raise_or_succeed(context, task)
        if self.deferrable:
            self._defer(task)
        return self._raise_or_succeed(context, self._wait_here(task))

    def submit_or_reattach(self, context: Context) -> AsrTask:
        """Return the task of an earlier try when it is still useful, else submit a new one.

        Each attempt is recorded in ``task_state_store`` before its POST, and the task's id right
        after the answer. A try that finds an attempt without an id (its answer was lost, or the
        worker died during the POST) reconciles first: it reattaches to the task that attempt
        created, submits only when the task list proves none was, and otherwise fails without retry.
        """
        from airflow_provider_qwenasr.exceptions import QwenASRSubmitUnknownError
        from airflow_provider_qwenasr.hooks.lost_submit import SubmitAttempt

        store = context.get("task_state_store")
        # Every argument but the audio is checked first: a bad one fails before any call or upload.
        plan = self.plan()
        try:
            if store is None:
                self.log.info(
                    "No task_state_store (Airflow < 3.3): a retry after a worker crash submits again"
                )
            else:
                earlier = self._earlier_task(store, SubmitAttempt.from_state(store.get(ATTEMPT_KEY)))
                if earlier is not None:
                    return earlier
            file_url, file_urls = self._audio_urls()

            def record(attempt: SubmitAttempt) -> None:
                if store is not None:
                    store.delete(STATE_KEY)
                    store.set(ATTEMPT_KEY, attempt.to_state(), retention=STATE_RETENTION)

            task = self.hook.submit_planned(plan, file_url=file_url, file_urls=file_urls, on_attempt=record)
        except QwenASRSubmitUnknownError as error:
            # Airflow's own retry would submit blindly: a task may already be billed.
            raise AirflowFailException(str(error)) from error
        if store is not None:
            store.set(STATE_KEY, task.task_id, retention=STATE_RETENTION)
        self.log.info("Submitted DashScope task %s (%s)", task.task_id, self.model)
        return task

    def plan(self) -> SubmitPlan:
        """The submit checked against the model table and the connection's region; nothing is sent."""
        context = self.context
        if self.context_file is not None:
            from airflow_provider_qwenasr.operators._files import read_dag_file

            context = read_dag_file(
                self, self.context_file, argument="context_file", hint="It must be a UTF-8 text file"
            )
        return self.hook.plan_submit(
            self.model,
            parameters=self.parameters,
            resources=self.asr_resources,
            context=context,
            hot_words=self.hot_words,
            vocabulary_id=self.vocabulary_id,
        )

    def _earlier_task(self, store: Any, attempt: SubmitAttempt | None) -> AsrTask | None:
        """The still useful task of an earlier try (by its stored id, or reconciled), else ``None``."""
        from airflow_provider_qwenasr.models import TaskStatus

        previous = store.get(STATE_KEY)
        task = None
        if previous:
            task = self.hook.get_task(str(previous))
        elif attempt is not None:
            self.log.warning(
                "An earlier try submitted at %s and got no answer; looking for the task it created",
                time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(attempt.started)),
            )
            task = self.hook.find_lost_task(attempt).task
            if task is None:
                self.log.info("The task list proves that the earlier submit created no task")
                return None
            store.set(STATE_KEY, task.task_id, retention=STATE_RETENTION)
        if task is None:
            return None
        if task.status.is_active or task.status is TaskStatus.SUCCEEDED:
            self.log.info(
                "Reattaching to DashScope task %s (%s) from an earlier try; not submitting again",
                task.task_id,
                task.raw_status,
            )
            return task
        self.log.warning(
            "The earlier try's DashScope task %s ended %s; submitting a new one",
            task.task_id,
            task.raw_status,
        )
        return None

    def _audio_urls(self) -> tuple[str | None, Sequence[str] | None]:
        """The URLs to submit: as given, or made from ``audio_path`` (signed or uploaded)."""
        if self.audio_path is None:
            return self.file_url, self.file_urls
        from airflow_provider_qwenasr.audio import audio_url
        from airflow_provider_qwenasr.exceptions import QwenASRInputError

        if self.file_url or self.file_urls:
            raise QwenASRInputError("Pass audio_path or file_url/file_urls, not both")
        single = isinstance(self.audio_path, str)
        paths = [self.audio_path] if isinstance(self.audio_path, str) else list(self.audio_path)
        urls = [
            audio_url(
                p, hook=self.hook, model=self.model, conn_id=self.audio_conn_id, expiry=self.audio_url_expiry
            )
            for p in paths
        ]
        self.log.info("Made download URLs for %d audio file(s) from audio_path", len(urls))
        return (urls[0], None) if single else (None, urls)

    def _defer(self, task: AsrTask) -> None:
        from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger

        self.log.info("Task %s is %s; deferring to the triggerer", task.task_id, task.raw_status)
        self.defer(
            trigger=QwenASRTaskTrigger(
                asr_task_id=task.task_id,
                qwen_asr_conn_id=self.qwen_asr_conn_id,
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
                deadline=time.time() + self.timeout,
                model=self.model,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def _wait_here(self, task: AsrTask) -> AsrTask:
        """Wait in this worker; cancel a still-PENDING task if the wait is cut short."""
        from airflow_provider_qwenasr.exceptions import QwenASRTimeoutError
        from airflow_provider_qwenasr.waiting import cancel_quietly, poll_until_done

        self._waiting_on = task.task_id
        try:
            return poll_until_done(
                self.hook,
                task.task_id,
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
                deadline=time.time() + self.timeout,
                log=self.log,
                model=self.model,
            )
        except (QwenASRTimeoutError, AirflowTaskTimeout, KeyboardInterrupt, SystemExit):
            # Our deadline, Airflow's execution_timeout or a kill: stop paying for a task not started.
            cancel_quietly(self.hook, task.task_id, self.log)
            raise
        finally:
            self._waiting_on = None

    @records_failure
    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: the task's id on success, else the failure it reports."""
        from airflow_provider_qwenasr.outcomes import error_from_event
        from airflow_provider_qwenasr.waiting import cancel_quietly

        if event and event.get("asr_task_id"):
            record_of(self).asr_task_id = str(event["asr_task_id"])
        error = error_from_event(event, allow_partial_failure=self.allow_partial_failure)
        if error is not None:
            if event and event.get("status") == TerminationReason.TIMEOUT.value and error.task_id:
                cancel_quietly(self.hook, error.task_id, self.log)
            raise error
        assert event is not None
        task = self.hook.get_task(event["asr_task_id"]) if self.needs_task_on_success else None
        return self.on_success(context, event["asr_task_id"], task)

    #: Subclasses that need the finished task (e.g. to fetch its result) set this.
    needs_task_on_success = False

    def _raise_or_succeed(self, context: Context, task: AsrTask) -> Any:
        """Handle a task that ended while this worker watched: raise its failure or succeed."""
        from airflow_provider_qwenasr.outcomes import outcome_error

        record_of(self).note_task(task)
        error = outcome_error(task, allow_partial_failure=self.allow_partial_failure)
        if error is not None:
            raise error
        return self.on_success(context, task.task_id, task)

    def on_success(self, context: Context, asr_task_id: str, task: AsrTask | None) -> Any:
        """What the operator returns once the task succeeded: its id (subclasses return more)."""
        self.log.info("DashScope task %s succeeded", asr_task_id)
        if task is not None:
            record_of(self).note_task(task)
        return asr_task_id

    def audio_locations(self) -> list[str]:
        """The audio this operator was given: ``audio_path`` (each path), else the URLs (rendered)."""
        given = self.audio_path if self.audio_path is not None else self.file_urls or self.file_url
        return [] if given is None else [given] if isinstance(given, str) else [str(g) for g in given]

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage (its listener calls it): the audio in, the objects written out, the run facet."""
        from airflow_provider_qwenasr.lineage.facets import operator_lineage

        return operator_lineage(record_of(self), model=self.model, audio=self.audio_locations())

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage for a failed try: the same datasets and run facet, and the error."""
        from airflow_provider_qwenasr.lineage.facets import operator_lineage

        return operator_lineage(record_of(self), model=self.model, audio=self.audio_locations(), failed=True)

    def on_kill(self) -> None:
        """Cancel the task this worker is waiting on, if it is still PENDING; never raises."""
        if self._waiting_on:
            from airflow_provider_qwenasr.waiting import cancel_quietly

            cancel_quietly(self.hook, self._waiting_on, self.log)
