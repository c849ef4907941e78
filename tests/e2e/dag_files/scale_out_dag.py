"""Many transcriptions at once: the DAG of the scale-out test and benchmark.

Used by ``tests/e2e/test_scale_out.py`` and ``benchmarks/scale_out.py``: one ``audio_urls`` task makes
``count`` audio URLs whose query strings tell the emulator how long each task stays PENDING and
RUNNING (``pending_seconds``/``running_seconds``, see docs/emulator.md), and a mapped
:class:`QwenASRSubmitTranscriptionOperator` with ``wait_for_completion=True, deferrable=True`` submits
each one on a worker, waits for it in a triggerer, and resumes on a worker when the trigger fires.

One task per transcription (two short worker executions: submit and defer, then resume) rather than
submit → sensor → fetch (four), which keeps a 200-transcription run within minutes on a 2-core CI
machine; the waiting path (the trigger, its rate budget, the hand-over between triggerers) is the same.
(``QwenASRTranscribeOperator`` would add the fetch to the same task, but its resume failed with an
ImportError when this was written: it imports ``attach_outlet_events`` from ``operators/fetch.py``,
which has only the method ``_attach_outlet_events``.)

Run ``conf``: ``count``, ``seed``, ``min_seconds``/``max_seconds`` (spread of RUNNING durations),
and optionally ``end_at`` (UNIX time): when given, each task is made to end at ``end_at`` plus its
spread, whatever moment it is submitted (the benchmark uses this so that all ``count`` waits overlap).
Poll intervals come from ``conf`` (``poll_interval``, ``max_poll_interval``) or else from the
environment (``QWENASR_SCALE_POLL_INTERVAL``, ``QWENASR_SCALE_MAX_POLL_INTERVAL``): the operator's
own arguments are not templated.
"""

from __future__ import annotations

import os
import random
import re
import time
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator

DAG_ID = "qwenasr_scale_out"
POLL_INTERVAL = float(os.environ.get("QWENASR_SCALE_POLL_INTERVAL", "5"))
MAX_POLL_INTERVAL = float(os.environ.get("QWENASR_SCALE_MAX_POLL_INTERVAL", "30"))


class ScaleOutSubmitOperator(QwenASRSubmitTranscriptionOperator):
    """The submit operator, plus the ``running_until=<UNIX time>`` placeholder of ``end_at`` runs.

    Mapped values that come from XCom are not templated, so the placeholder is turned into
    ``running_seconds`` (the time left until then, at least one second) just before the submit.
    """

    def execute(self, context: Any) -> Any:
        """Resolve the placeholder and the run's poll intervals, then submit and wait as usual."""
        params = context["params"]
        if params.get("poll_interval"):
            self.poll_interval = float(params["poll_interval"])
        if params.get("max_poll_interval"):
            self.max_poll_interval = float(params["max_poll_interval"])
        if self.file_url and "running_until=" in self.file_url:
            until = float(self.file_url.rsplit("running_until=", 1)[1].split("&", 1)[0])
            left = max(1.0, until - time.time())
            self.file_url = re.sub(r"running_until=[0-9.]+", f"running_seconds={left:.1f}", self.file_url)
        return super().execute(context)


@task
def audio_urls(**context: Any) -> list[str]:
    """One URL per transcription; the hints in each give the task its own, varied duration."""
    conf = context["params"]
    rng = random.Random(int(conf["seed"]))
    low, high = float(conf["min_seconds"]), float(conf["max_seconds"])
    end_at = conf.get("end_at")
    urls = []
    for index in range(int(conf["count"])):
        pending = round(rng.uniform(0.5, 3.0), 1)
        if end_at:
            running = f"running_until={float(end_at) + rng.uniform(low, high):.1f}"
        else:
            running = f"running_seconds={rng.uniform(low, high):.1f}"
        urls.append(
            f"https://example.com/scale/{index:05d}.wav?audio_seconds=30&pending_seconds={pending}&{running}"
        )
    return urls


with DAG(
    DAG_ID,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # Deferred tasks hold no slot; this only bounds how many run on workers at once.
    max_active_tasks=64,
    params={
        "count": 200,
        "seed": 9,
        "min_seconds": 5,
        "max_seconds": 40,
        "end_at": None,
        "poll_interval": None,
        "max_poll_interval": None,
    },
    tags=["qwen-asr", "scale-out"],
):
    ScaleOutSubmitOperator.partial(
        task_id="transcribe",
        model="qwen3-asr-flash-filetrans",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        max_poll_interval=MAX_POLL_INTERVAL,
        timeout=3600,
        retries=1,
        retry_delay=timedelta(seconds=5),
    ).expand(file_url=audio_urls())
