"""The emulated service: plain methods over tasks, uploads and results; no HTTP in here.

The server parses requests and calls these methods with plain values; they return JSON-ready dicts
or raise :class:`~.errors.ServiceError` / :class:`~.errors.OssError`.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import random
import shutil
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import tasks as t
from .clock import Clock
from .config import EmulatorConfig
from .errors import OssError, ServiceError, invalid
from .faults import FaultRegistry
from .hints import audio_facts
from .quota import RateLimiter
from .recording import RequestLog, Stats
from .results import FUNASR, QWEN3, channel_ids, write_result
from .signing import Signer
from .uploads import UploadStore, account_of

QWEN3_PREFIX = "qwen3-asr-flash-filetrans"
FUNASR_MODELS = frozenset(
    {
        "fun-asr",
        "fun-asr-mtl",
        "paraformer-v2",
        "paraformer-8k-v2",
        "paraformer-v1",
        "paraformer-8k-v1",
        "paraformer-mtl-v1",
        "sensevoice-v1",
    }
)
_THROTTLED = "Requests rate limit exceeded, please try again later."
_NOT_PENDING = "Failed to cancel the task, please confirm if the task is in PENDING status."
_LIST_TIME = "%Y%m%d%H%M%S"


def model_family(model: str) -> str | None:
    """``qwen3`` or ``funasr`` for a model the emulator serves, else ``None``."""
    if model.startswith(QWEN3_PREFIX):
        return QWEN3
    if model in FUNASR_MODELS or model.startswith("fun-asr-"):
        return FUNASR
    return None


def _missing(name: str, code: str) -> ServiceError:
    return invalid(f'Required parameter "{name}" missing from request.', code)


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
        """Forget tasks, uploads, results, recorded requests, faults, counters and rate limits."""
        with self._lock:
            self._tasks.clear()
            self._result_locks.clear()
            if self._results_dir is not None:
                shutil.rmtree(self._results_dir, ignore_errors=True)
                self._results_dir.mkdir(parents=True, exist_ok=True)
        self.uploads.clear()
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
        """Raise 429 when ``api_key`` is over its ``group`` rate (query, list or cancel)."""
        if not self._quota.allow(api_key, group, self.config.query_qps):
            raise ServiceError(429, "Throttling.RateQuota", _THROTTLED)

    # -- DashScope endpoints -----------------------------------------------------------------
    def submit(self, api_key: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """``POST /services/audio/asr/transcription``. ``headers`` have lower-case names."""
        if headers.get("x-dashscope-async", "").lower() != "enable":
            raise ServiceError(403, "AccessDenied", "current user api does not support synchronous calls")
        if "application/json" not in headers.get("content-type", "").lower():
            raise invalid("Content-Type must be application/json.")
        try:
            request = json.loads(body or b"null")
        except ValueError:
            raise invalid("The request body is not valid JSON.") from None
        if not isinstance(request, dict):
            raise invalid("The request body must be a JSON object.")
        model = request.get("model")
        if not model:
            raise _missing("model", "BadRequest.EmptyModel")
        family = model_family(str(model))
        if family is None:
            raise invalid("Model not exist.")
        payload = request.get("input")
        if not payload:
            raise _missing("input", "BadRequest.EmptyInput")
        if "parameters" not in request:
            raise _missing("parameters", "BadRequest.EmptyParameters")
        parameters = request["parameters"]
        if not isinstance(payload, dict) or not isinstance(parameters, dict):
            raise invalid("input and parameters must be JSON objects.")
        urls = self._file_urls(model, family, payload)
        channel = parameters.get("channel_id")
        if channel is not None and channel_ids(parameters) != channel:
            raise invalid("channel_id must be a non-empty list of non-negative integers.")
        speakers = parameters.get("speaker_count")
        if speakers is not None and (not isinstance(speakers, int) or not 2 <= speakers <= 100):
            raise invalid("speaker_count must be an integer from 2 to 100.")
        resolve = headers.get("x-dashscope-ossresourceresolve", "").lower() == "enable"
        return self._create(api_key, model, family, urls, parameters, resolve)

    def _file_urls(self, model: str, family: str, payload: Mapping[str, Any]) -> list[str]:
        if family == QWEN3:
            if "file_url" not in payload and "file_urls" in payload:
                raise invalid(f"Model {model} takes input.file_url (one URL string), not input.file_urls.")
            urls = [payload.get("file_url")]
        else:
            if "file_urls" not in payload and "file_url" in payload:
                raise invalid(f"Model {model} takes input.file_urls (a list of URLs), not input.file_url.")
            value = payload.get("file_urls")
            urls = value if isinstance(value, list) and value else [None]
            limit = self.config.max_files_for(model)
            if len(urls) > limit:
                raise invalid(f"Too many files: input.file_urls holds {len(urls)}, the limit is {limit}.")
        for url in urls:
            if not isinstance(url, str) or not url:
                raise invalid("Each file URL must be a non-empty string.")
            try:
                scheme = urlsplit(url).scheme.lower()
            except ValueError:
                scheme = ""
            if scheme not in ("http", "https", "oss"):
                raise invalid(
                    "The file URL is invalid: only http, https and oss URLs are accepted.", "InvalidURL"
                )
        return [str(u) for u in urls]

    def _create(
        self,
        api_key: str,
        model: str,
        family: str,
        urls: list[str],
        parameters: dict[str, Any],
        resolve: bool,
    ) -> dict[str, Any]:
        now = self.clock.now()
        channels = channel_ids(parameters)
        jobs = []
        for url in urls:
            facts = audio_facts(url, model, channels)
            job = t.FileJob(url, facts, facts.fail)
            if url.lower().startswith("oss://") and not job.error_code:
                key = url[len("oss://") :].split("?", 1)[0]
                if not (resolve and self.uploads.resolve(key, api_key, model, now)):
                    # The service cannot fetch the object: the file fails, not the submit.
                    job.error_code = (
                        "FILE_DOWNLOAD_FAILED" if family == QWEN3 else "InvalidFile.DownloadFailed"
                    )
            jobs.append(job)
        failed = sum(1 for j in jobs if j.error_code)
        if family == QWEN3:
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
            model=model,
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
        """``GET /tasks``: this key's tasks created in a window of at most 24 h, newest first."""
        self.throttle(api_key, "list")
        now = self.clock.now()
        page_no = _int_param(query, "page_no", 1, 1, 10**6)
        page_size = _int_param(query, "page_size", 10, 1, 100)
        end = _list_time(query, "end_time")
        start = _list_time(query, "start_time")
        if start is None and end is None:
            end = now
        if start is None:
            start = end - 86400 if end is not None else now - 86400
        if end is None:
            end = start + 86400
        if end < start:
            raise invalid("end_time must not be earlier than start_time.")
        if end - start > 86400:
            raise invalid("The time range between start_time and end_time must not exceed 24 hours.")
        with self._lock:
            candidates = list(self._tasks.values())
        wanted_status = query.get("status", "").upper()
        matched = [
            task
            for task in candidates
            if task.api_key == api_key
            and not task.expired(now, self.config.retention_hours)
            and start <= task.submit_time < end + 1
            and query.get("model_name", task.model) == task.model
            and query.get("task_id", task.task_id) == task.task_id
            and wanted_status in ("", task.status(now))
        ]
        matched.sort(key=lambda task: task.submit_time, reverse=True)
        page = matched[(page_no - 1) * page_size : page_no * page_size]
        key_id, uid = _account_numbers(api_key)
        return {
            "request_id": str(uuid.uuid4()),
            "total": len(matched),
            "total_page": math.ceil(len(matched) / page_size),
            "page_no": page_no,
            "page_size": page_size,
            "data": [t.list_item(task, now, key_id, uid) for task in page],
        }

    def upload_policy(self, api_key: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /uploads?action=getPolicy&model=…``: a policy for one form upload."""
        if query.get("action") != "getPolicy":
            raise invalid("action must be getPolicy.")
        model = query.get("model")
        if not model:
            raise _missing("model", "BadRequest.EmptyModel")
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
                write_result(target, task.family, job.file_url, job.facts, task.parameters)
        return target


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise invalid(f"{name} must be an integer from {low} to {high}.")
    return int(text)


def _list_time(query: Mapping[str, str], name: str) -> float | None:
    text = query.get(name)
    if not text:
        return None
    try:
        parsed = time.strptime(text, _LIST_TIME)
    except ValueError:
        raise invalid(f"{name} must be formatted as YYYYMMDDhhmmss.") from None
    return calendar.timegm(parsed) - t.BEIJING


def _account_numbers(api_key: str) -> tuple[str, str]:
    """A stable numeric ``api_key_id`` and ``caller_uid`` for a key, as the list shows them."""
    digest = hashlib.sha256(account_of(api_key).encode()).hexdigest()
    return str(int(digest[:8], 16) % 900000 + 100000), str(int(digest[8:24], 16) % 10**16).zfill(16)
