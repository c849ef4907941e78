"""DAGs whose tasks leave behind what the UI shows: manifests in XCom and real output files.

Outputs go to ``$QWENASR_UI_OUT`` (file://). Run with ``airflow dags test``; nothing calls DashScope:
each task writes the files the fetch operator would write and returns the manifest it would return.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, BaseOperator, task

from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator

XSS = '<script>alert("xss")</script> & "quoted" <b>bold</b>'
BIG_SENTENCES = 10_000


def _out(*parts: str) -> Path:
    path = Path(os.environ["QWENASR_UI_OUT"], *parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _sentence(i: int, channel: int, begin: int, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "channel_id": channel,
        "sentence_id": i,
        "begin_time": begin,
        "end_time": begin + 1500,
        "text": text,
        "language": extra.get("language"),
        "emotion": extra.get("emotion"),
        "speaker_id": extra.get("speaker_id"),
        "words": [{"begin_time": begin, "end_time": begin + 500, "text": text[:5], "punctuation": ""}],
    }


def _write_outputs(
    folder: str, name: str, sentences: list[dict[str, Any]], formats: tuple[str, ...]
) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for fmt in formats:
        path = _out(folder, f"{name}.{fmt}")
        if fmt == "jsonl":
            path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sentences))
        elif fmt == "json":
            doc = {
                "file_url": f"https://example.com/{name}.wav",
                "transcripts": [
                    {
                        "channel_id": 0,
                        "text": " ".join(s["text"] for s in sentences),
                        "sentences": [{k: v for k, v in s.items() if k != "channel_id"} for s in sentences],
                    }
                ],
            }
            path.write_text(json.dumps(doc, ensure_ascii=False))
        else:
            path.write_text("\n".join(f"{fmt}: {s['text']}" for s in sentences) + "\n")
        outputs[fmt] = path.as_uri()
    return outputs


def _manifest(asr_task_id: str, files: list[dict[str, Any]], status: str = "SUCCEEDED") -> dict[str, Any]:
    """The manifest the fetch operator returns, its outputs signed as the operator signs them."""
    from airflow.sdk import get_current_context

    from airflow_provider_qwenasr.output_signing import OutputOwner, sign_manifest

    ok = [f for f in files if f["status"] == "SUCCEEDED"]
    manifest = {
        "asr_task_id": asr_task_id,
        "status": status,
        "submit_time": "2025-01-02T03:04:05.000+00:00",
        "end_time": "2025-01-02T03:05:06.000+00:00",
        "usage_seconds": 12.0,
        "output_conn_id": None,
        "outputs": [uri for f in files for uri in (f.get("outputs") or {}).values()],
        "files": files,
        "totals": {
            "files": len(files),
            "succeeded": len(ok),
            "failed": len(files) - len(ok),
            "characters": sum(f.get("characters", 0) for f in ok),
            "sentence_count": sum(f.get("sentence_count", 0) for f in ok),
            "duration_ms": sum(f.get("duration_ms", 0) for f in ok),
        },
    }
    assert sign_manifest(manifest, OutputOwner.of(get_current_context()["ti"]))
    return manifest


def _ok_file(
    index: int, name: str, sentences: list[dict[str, Any]], outputs: dict[str, str]
) -> dict[str, Any]:
    return {
        "index": index,
        "file_url": f"https://example.com/audio/{name}.wav",
        "status": "SUCCEEDED",
        "name": name,
        "duration_ms": max(s["end_time"] for s in sentences),
        "languages": sorted({s["language"] for s in sentences if s["language"]}),
        "emotions": sorted({s["emotion"] for s in sentences if s["emotion"]}),
        "speakers": sorted({s["speaker_id"] for s in sentences if s["speaker_id"] is not None}),
        "characters": sum(len(s["text"]) for s in sentences),
        "sentence_count": len(sentences),
        "channels": [{"channel_id": 0, "characters": 0, "sentence_count": len(sentences)}],
        "outputs": outputs,
    }


def meeting(**context: Any) -> dict[str, Any]:
    """Two speakers with emotions, an XSS attempt in the text; a second input file that failed."""
    lines = [
        ("Good morning, everyone.", 0, "happy", "en"),
        ("Let us review the quarterly numbers.", 1, "neutral", "en"),
        (XSS, 0, "angry", "en"),
        ("Das ist alles für heute.", 1, "sad", "de"),
    ]
    sentences = [
        _sentence(i, 0, 1000 + i * 3000, text, speaker_id=spk, emotion=emo, language=lang)
        for i, (text, spk, emo, lang) in enumerate(lines)
    ]
    outputs = _write_outputs("meeting", "meeting", sentences, ("json", "txt", "srt", "vtt", "jsonl"))
    failed = {
        "index": 1,
        "file_url": "https://example.com/audio/missing.wav",
        "status": "FAILED",
        "code": "FILE_404_NOT_FOUND",
        "message": "The audio file <missing.wav> cannot be downloaded.",
    }
    return _manifest("dash-meeting-0001", [_ok_file(0, "meeting<i>", sentences, outputs), failed])


def big(**context: Any) -> dict[str, Any]:
    """A 10,000-sentence transcript on two channels, with only jsonl and txt written."""
    sentences = [
        _sentence(i, i % 2, (i // 2) * 2000, f"Sentence number {i:05d}.", language="en")
        for i in range(BIG_SENTENCES)
    ]
    outputs = _write_outputs("big", "big", sentences, ("jsonl", "txt"))
    return _manifest("dash-big-0002", [_ok_file(0, "big", sentences, outputs)])


def json_only(**context: Any) -> dict[str, Any]:
    """Only the original DashScope document was written (no jsonl): the UI streams it with ijson."""
    sentences = [
        _sentence(i, 0, i * 2500, f"From the original document {i}.", speaker_id=i % 3) for i in range(6)
    ]
    outputs = _write_outputs("json_only", "doc", sentences, ("json",))
    return _manifest("dash-json-0003", [_ok_file(0, "doc", sentences, outputs)])


def all_failed(**context: Any) -> dict[str, Any]:
    """A manifest whose only file failed (status FAILED), for the status filter."""
    failed = {
        "index": 0,
        "file_url": "https://example.com/a.wav",
        "status": "FAILED",
        "code": "DECODE_ERROR",
        "message": "Unsupported codec.",
    }
    return _manifest("dash-failed-0004", [failed], status="FAILED")


def crafted(**context: Any) -> dict[str, Any]:
    """A manifest a DAG author crafted to read the api-server's own files, and a signed-looking URI."""
    sentences = [_sentence(0, 0, 0, "crafted")]
    outputs = _write_outputs("crafted", "crafted", sentences, ("txt", "jsonl"))
    outputs["json"] = "file:///etc/hostname"
    outputs["srt"] = outputs["txt"] + "?Expires=1&Signature=abc"
    manifest = _manifest("dash-crafted-0005", [_ok_file(0, "crafted", sentences, outputs)])
    # vtt is named by the file entry but absent from the manifest's list of written outputs.
    unlisted = _out("crafted", "unlisted.vtt")
    unlisted.write_text("WEBVTT\n")
    manifest["files"][0]["outputs"]["vtt"] = unlisted.as_uri()
    return manifest


def target(**context: Any) -> dict[str, Any]:
    """A plain transcription whose XCom the attack tests rewrite through the REST API."""
    sentences = [_sentence(0, 0, 0, "Nothing to see here.", language="en")]
    outputs = _write_outputs("target", "target", sentences, ("txt", "jsonl"))
    # A file under ui_local_roots that no manifest of this task instance names.
    _out("private", "salaries.csv").write_text("name,salary\nalice,1000000\n")
    return _manifest("dash-target-0009", [_ok_file(0, "target", sentences, outputs)])


def netloc_bypass(**context: Any) -> dict[str, Any]:
    """A DAG author's manifest naming file://..<root>/leak.txt: its path is under the root, its file not."""
    root = os.environ["QWENASR_UI_OUT"]
    sentences = [_sentence(0, 0, 0, "bypass")]
    outputs = {"txt": f"file://..{root}/leak.txt", "jsonl": f"file://..{root}/leak.jsonl"}
    return _manifest("dash-netloc-0010", [_ok_file(0, "bypass", sentences, outputs)])


def nul_byte(**context: Any) -> dict[str, Any]:
    """A DAG author's manifest whose output URIs hold %00."""
    root = os.environ["QWENASR_UI_OUT"]
    sentences = [_sentence(0, 0, 0, "nul")]
    outputs = {"txt": f"file://{root}/a%00b.txt", "jsonl": f"file://{root}/a%00b.jsonl"}
    return _manifest("dash-nul-0011", [_ok_file(0, "nul", sentences, outputs)])


def sensor_summary(**context: Any) -> dict[str, Any]:
    """What the sensor returns: a task summary with files but no outputs. Not a transcript."""
    return {"asr_task_id": "dash-summary-0008", "status": "SUCCEEDED", "files": [{"status": "SUCCEEDED"}]}


def plain(**context: Any) -> str:
    """A task that is not a transcription."""
    return "not a manifest"


class FailingFetchOperator(BaseOperator):
    """Stands in for the fetch operator when DashScope reports a failure."""

    template_fields = ("asr_task_id",)

    def __init__(self, *, asr_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asr_task_id = asr_task_id

    def execute(self, context: Any) -> None:
        from airflow_provider_qwenasr.exceptions import QwenASRTaskFailedError

        raise QwenASRTaskFailedError(
            "DashScope task ended FAILED",
            task_id=self.asr_task_id,
            code="FILE_403_FORBIDDEN",
            service_message="The audio <URL> is forbidden.",
            request_id="req-7f3e",
            hint="Check that the file URL is public",
        )


#: The signature of the result link in :class:`LeakyFetchOperator`'s failure: no page or XCom may show it.
LEAKED_SIGNATURE = "ZmFrZS1zaWduYXR1cmUtb2YtYS1yZXN1bHQ"
LEAKED_KEY_ID = "LTAI5tFakeAccessKeyId"
SIGNED_RESULT_URL = (
    "https://dashscope-result.oss-cn-beijing.aliyuncs.com/r/dash-leaky-0012.json"
    f"?Expires=1735787045&OSSAccessKeyId={LEAKED_KEY_ID}&Signature={LEAKED_SIGNATURE}"
)


class _LeakyHook:
    """A hook whose query fails with an error that quotes the signed result URL (an attacker's case)."""

    def get_task(self, asr_task_id: str) -> Any:
        from airflow_provider_qwenasr.exceptions import QwenASRResultError

        raise QwenASRResultError(
            f"The result link {SIGNED_RESULT_URL} has expired",
            task_id=asr_task_id,
            code="AccessDenied",
            service_message=f"Request has expired: {SIGNED_RESULT_URL}; Signature={LEAKED_SIGNATURE}",
            request_id="req-leaky-1",
            http_status=403,
            hint=f"Fetch again within 24 h (was {SIGNED_RESULT_URL})",
        )

    def close(self) -> None:
        """Nothing to close."""


class LeakyFetchOperator(QwenASRFetchTranscriptionOperator):
    """The provider's fetch operator (its execute records the failure); only its hook is a stand-in."""

    @property
    def hook(self) -> Any:
        """A hook whose query fails quoting the signed result URL."""
        return _LeakyHook()


with DAG("ui_fixture", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    for fn in (
        meeting,
        big,
        json_only,
        all_failed,
        crafted,
        target,
        netloc_bypass,
        nul_byte,
        sensor_summary,
        plain,
    ):
        PythonOperator(task_id=fn.__name__, python_callable=fn)
    FailingFetchOperator(task_id="failing", asr_task_id="{{ 'dash-' ~ 'failing-0006' }}", retries=0)
    LeakyFetchOperator(task_id="recorded_failure", asr_task_id="dash-leaky-0012", retries=0)

    @task
    def mapped(name: str) -> dict[str, Any]:
        """One transcription per mapped instance."""
        sentences = [_sentence(0, 0, 0, f"Hello from {name}.", language="en")]
        outputs = _write_outputs(f"mapped_{name}", name, sentences, ("jsonl", "txt"))
        return _manifest(f"dash-mapped-{name}", [_ok_file(0, name, sentences, outputs)])

    mapped.expand(name=["alpha", "beta", "gamma"])


with DAG("ui_private", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):

    @task
    def secret() -> dict[str, Any]:
        """A transcription in a DAG some users may not read."""
        sentences = [_sentence(0, 0, 0, "Top secret board meeting.", language="en")]
        outputs = _write_outputs("secret", "secret", sentences, ("jsonl", "txt"))
        return _manifest("dash-secret-0007", [_ok_file(0, "secret", sentences, outputs)])

    secret()
