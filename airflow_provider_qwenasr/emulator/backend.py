"""The emulated service: plain methods over tasks, uploads and results; no HTTP in here.

The server parses requests and calls these methods with plain values; they return JSON-ready dicts
or raise :class:`~.errors.ServiceError` / :class:`~.errors.OssError`.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_qwenasr._api.catalog import ModelFamily

from . import tasks as t
from .clock import Clock
from .config import EmulatorConfig
from .errors import OssError, ServiceError, invalid, missing
from .faults import FaultRegistry
from .hints import audio_facts
from .listing import list_page
from .quota import RateLimiter
from .recording import RequestLog, Stats
from .results import QWEN3, channel_ids, write_result
from .signing import Signer
from .submit import Submission, parse_submit, served_model
from .uploads import UploadStore
from .vocabulary import VocabularyStore

_THROTTLED = "Requests rate limit exceeded, please try again later."
_NOT_PENDING = "Failed to cancel the task, please confirm if the task is in PENDING status."


class Backend:
    """State and behaviour of one emulated DashScope account set.

    :param config: the settings; replace with :meth:`update_config` while serving.
    :param clock: the source of every time read (default: real time at ``config.time_speed``).
    """

    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or Clock(speed=config.time_speed)
        self.faults = FaultRegistry()
        self.requests = RequestLog()
        self.stats = Stats()
        self.signer = Signer()
        self.uploads = UploadStore(self.signer)
        self.vocabularies = VocabularyStore()
        self.root_url = "http://127.0.0.1"
        self._results_dir: Path | None = None
        self._quota = RateLimiter()
        self._lock = threading.RLock()
        self._tasks: dict[str, t.Task] = {}
        self._result_locks: dict[str, threading.Lock] = {}

    # -- setup -------------------------------------------------------------------------------
    def bind(self, root_url: str, data_dir: Path) -> None:
        """Tell the backend its public address and where it may write files."""
        self.root_url = root_url
        self._results_dir = data_dir / "results"
        self._results_dir.mkdir(parents=True, exist_ok=True)
        self.uploads.root = data_dir / "uploads"
        self.uploads.root.mkdir(parents=True, exist_ok=True)

    def update_config(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """Change live settings (see :data:`~.config.LIVE_SETTINGS`); return the new config."""
        with self._lock:
            self.config = self.config.updated(changes)
            return self.config

    def reset(self) -> None:
        """Forget tasks, uploads, hot-word tables, results, the log, faults, counters and rate limits."""
        with self._lock:
            self._tasks.clear()
            self._result_locks.clear()
            if self._results_dir is not None:
                shutil.rmtree(self._results_dir, ignore_errors=True)
                self._results_dir.mkdir(parents=True, exist_ok=True)
        self.uploads.clear()
        self.vocabularies.clear()
        self.requests.clear()
        self.faults.clear()
        self.stats.clear()
        self._quota.clear()

    def task_count(self) -> int:
        """How many tasks are stored (expired ones included until a reset)."""
        with self._lock:
            return len(self._tasks)

    # -- checks shared by the endpoints -----------------------------------------------------
    def authorize(self, authorization: str | None, workspace: str | None) -> str:
        """The API key of a request; 401 for a missing or unknown key, 403 for a foreign workspace."""
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or key not in self.config.api_keys:
            raise ServiceError(401, "InvalidApiKey", "Invalid API-key provided.")
        expected = self.config.workspace
        if expected is not None and workspace is not None and workspace != expected:
            raise ServiceError(403, "Workspace.AccessDenied", "Access to the workspace is denied.")
        return key

    def throttle(self, api_key: str, group: str) -> None:
        """Raise 429 when ``api_key`` is over its ``group`` rate (query, list, cancel, customization)."""
        qps = self.config.query_qps
        if group == "list" and self.config.list_qps is not None:
            qps = self.config.list_qps
        if not self._quota.allow(api_key, group, qps):
            raise ServiceError(429, "Throttling.RateQuota", _THROTTLED)

    # -- DashScope endpoints -----------------------------------------------------------------
    def submit(self, api_key: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """``POST /services/audio/asr/transcription``. ``headers`` have lower-case names."""
        submission = parse_submit(headers, body, self.config)
        self._throttle_submit(api_key, submission.family)
        return self._create(api_key, submission)

    def _throttle_submit(self, api_key: str, family: ModelFamily) -> None:
        """429 over the family's documented submit quota, or over ``submit_per_second`` when set."""
        per_minute = family.submits_per_minute
        if per_minute and not self._quota.allow_window(api_key, f"submit:{family.key}", per_minute):
            raise ServiceError(429, "Throttling.RateQuota", _THROTTLED)
        rate = self.config.submit_per_second
        if rate > 0 and not self._quota.allow(api_key, f"submit-rate:{family.key}", rate):
            raise ServiceError(429, "Throttling.RateQuota", _THROTTLED)

    def _table_failure(self, api_key: str, submission: Submission) -> str | None:
        """Why the task's hot-word table cannot be used, or ``None``. The service accepts the submit
        and checks the table while the task runs; the task then fails (*inferred*: no document shows
        this failure, so the code is the generic ``InvalidParameter`` and the message names the id)."""
        vocabulary_id = submission.parameters.get("vocabulary_id")
        if vocabulary_id is None or not submission.family.takes_vocabulary_table:
            return None
        table = self.vocabularies.find(api_key, vocabulary_id)
        if table is None:
            return f"The vocabulary {vocabulary_id} does not exist."
        target = served_model(table.target_model)
        if target is None or target[0] != submission.base_model:
            return (
                f"The vocabulary {vocabulary_id} is for model {table.target_model}, not {submission.model}."
            )
        return None

    def _create(self, api_key: str, submission: Submission) -> dict[str, Any]:
        now = self.clock.now()
        family, parameters = submission.family, submission.parameters
        channels = channel_ids(parameters)
        # A file that cannot be fetched fails with the family's code (qwen-audio's, like its result
        # files, is assumed to be Qwen3's).
        download_failed = (
            "FILE_DOWNLOAD_FAILED" if family.result_format == QWEN3 else "InvalidFile.DownloadFailed"
        )
        jobs = []
        for url in submission.urls:
            facts = audio_facts(url, submission.model, channels)
            job = t.FileJob(url, facts, facts.fail)
            if url.lower().startswith("oss://") and not job.error_code:
                key = url[len("oss://") :].split("?", 1)[0]
                if not (submission.resolve_oss and self.uploads.resolve(key, api_key, submission.model, now)):
                    job.error_code = download_failed  # the service cannot fetch it: the file fails
            jobs.append(job)
        table_problem = self._table_failure(api_key, submission)
        if table_problem is not None:
            for job in jobs:
                job.error_code, job.message = "InvalidParameter", table_problem
        failed = sum(1 for j in jobs if j.error_code)
        if family.answer == "result" or table_problem is not None:
            final = t.FAILED if failed else t.SUCCEEDED
        else:
            final = t.SUCCEEDED if failed < len(jobs) else self.config.funasr_all_failed_status
        pending = [j.facts.pending_seconds for j in jobs if j.facts.pending_seconds is not None]
        running = [j.facts.running_seconds for j in jobs if j.facts.running_seconds is not None]
        task_id = str(uuid.uuid4())
        request_id = str(uuid.uuid4())
        task = t.Task(
            task_id=task_id,
            api_key=api_key,
            model=submission.model,
            family=family,
            request_id=request_id,
            parameters=parameters,
            files=jobs,
            channels=len(channels),
            submit_time=now,
            scheduled_time=now + random.Random(task_id).uniform(0.01, 0.09),
            pending_seconds=max(pending) if pending else self.config.pending_seconds,
            running_seconds=max(running) if running else self.config.running_seconds,
            final_status=final,
            speaker_style=self.config.speaker_id_style,
        )
        with self._lock:
            self._tasks[task_id] = task
        return {"request_id": request_id, "output": {"task_id": task_id, "task_status": t.PENDING}}

    def _find(self, api_key: str, task_id: str, now: float) -> t.Task | None:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or task.api_key != api_key or task.expired(now, self.config.retention_hours):
            return None
        return task

    def query(self, api_key: str, task_id: str) -> dict[str, Any]:
        """``GET /tasks/{task_id}``: the task at the emulator's now, or ``UNKNOWN``."""
        self.throttle(api_key, "query")
        now = self.clock.now()
        request_id = str(uuid.uuid4())
        task = self._find(api_key, task_id, now)
        if task is None:
            return t.unknown_body(task_id, request_id)
        return t.query_body(task, now, request_id, self.result_url)

    def cancel(self, api_key: str, task_id: str) -> dict[str, Any]:
        """``POST /tasks/{task_id}/cancel``: only a ``PENDING`` task can be cancelled."""
        self.throttle(api_key, "cancel")
        with self._lock:
            now = self.clock.now()
            task = self._find(api_key, task_id, now)
            if task is None or task.status(now) != t.PENDING:
                raise invalid(_NOT_PENDING, "UnsupportedOperation")
            task.canceled_at = now
        return {"request_id": str(uuid.uuid4())}

    def list_tasks(self, api_key: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /tasks``: this key's tasks created in a window of at most 24 h, newest first, as they
        were ``list_lag_seconds`` ago."""
        self.throttle(api_key, "list")
        with self._lock:
            candidates = list(self._tasks.values())
        config = self.config
        return list_page(
            candidates, api_key, query, self.clock.now(), config.retention_hours, lag=config.list_lag_seconds
        )

    def customize(self, api_key: str, body: bytes) -> dict[str, Any]:
        """``POST /services/audio/asr/customization``: the hot-word tables (:mod:`.vocabulary`)."""
        self.throttle(api_key, "customization")
        return self.vocabularies.handle(api_key, body, self.clock.now(), self.config.max_vocabularies_per_key)

    def upload_policy(self, api_key: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /uploads?action=getPolicy&model=…``: a policy for one form upload."""
        if query.get("action") != "getPolicy":
            raise invalid("action must be getPolicy.")
        model = query.get("model")
        if not model:
            raise missing("model", "BadRequest.EmptyModel")
        data = self.uploads.policy(api_key, model, self.clock.now(), self.root_url + "/oss")
        return {"request_id": str(uuid.uuid4()), "data": data}

    def upload(self, fields: Mapping[str, bytes]) -> str:
        """The OSS form POST: check the policy and store the file; return its ``oss://`` URL."""
        return "oss://" + self.uploads.receive(fields, self.clock.now())

    # -- result documents ---------------------------------------------------------------------
    def result_url(self, task: t.Task, index: int) -> str:
        """The signed URL of one file's result; the same on every query of the task."""
        day = t.beijing_time(task.end_time)[:10].replace("-", "")
        path = f"/results/{day}/{task.task_id}-{index}.json"
        return f"{self.root_url}{path}?{self.signer.signed_query(path, task.result_expires())}"

    def result_file(self, path: str, query: Mapping[str, str]) -> Path:
        """The file behind a signed result URL, written on first use.

        :raises OssError: 403 ``SignatureDoesNotMatch`` for an altered URL, 403 ``AccessDenied``
            once expired, 404 ``NoSuchKey`` for a task that is gone.
        """
        expires, key_id, signature = (query.get(n, "") for n in ("Expires", "OSSAccessKeyId", "Signature"))
        if not (expires and key_id and signature):
            raise OssError(
                403, "AccessDenied", "You have no right to access this object because of bucket acl."
            )
        if not self.signer.check_url(path, expires, key_id, signature):
            raise OssError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                OSSAccessKeyId=key_id,
            )
        now = self.clock.now()
        if now > int(expires):
            server_time = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))
            expires_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(expires)))
            raise OssError(
                403, "AccessDenied", "Request has expired.", Expires=expires_at, ServerTime=server_time
            )
        task_id, _, index_text = path.rsplit("/", 1)[-1].removesuffix(".json").rpartition("-")
        with self._lock:
            task = self._tasks.get(task_id)
            lock = self._result_locks.setdefault(f"{task_id}-{index_text}", threading.Lock())
        index = int(index_text) if index_text.isdigit() else -1
        if task is None or not 0 <= index < len(task.files) or self._results_dir is None:
            raise OssError(404, "NoSuchKey", "The specified key does not exist.")
        target = self._results_dir / f"{task_id}-{index}.json"
        with lock:  # one writer per document; later readers find it done
            if not target.exists():
                job = task.files[index]
                write_result(
                    target, task.family, job.file_url, job.facts, task.parameters, task.speaker_style
                )
        return target
