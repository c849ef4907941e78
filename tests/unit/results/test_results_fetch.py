"""fetch_transcription_outputs with an in-memory download: manifest, atomicity, XCom limits, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import pytest

from airflow_provider_qwenasr import formats
from airflow_provider_qwenasr.exceptions import (
    QwenASRInputError,
    QwenASRResultError,
    QwenASRTaskCanceledError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
)
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.protocol import RetryPolicy
from airflow_provider_qwenasr.results import fetch_transcription_outputs

SHARED = Path("/work/shared")
SIGNATURE = "SeCrEtSiGnAtUrE0123456789"


def _signed(name: str) -> str:
    return f"https://results.test/r/{name}.json?Expires=1&OSSAccessKeyId=k&Signature={SIGNATURE}"


class FakeHook:
    """Serves result bodies from memory; each URL may list successive bodies (for re-downloads)."""

    retry_policy = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0)

    def __init__(self, bodies: dict[str, list[bytes]]) -> None:
        self.bodies = bodies
        self.downloads: list[str] = []

    def download_result(self, url: str, sink: IO[bytes], *, max_bytes: int) -> int:
        self.downloads.append(url)
        queue = self.bodies[url]
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        if len(body) > max_bytes:
            raise QwenASRResultError(f"The result file is over the limit of {max_bytes:,} bytes")
        sink.seek(0)
        sink.truncate()
        sink.write(body)
        sink.flush()
        return len(body)


def _qwen3_task(status: str = "SUCCEEDED", **output: Any) -> AsrTask:
    out: dict[str, Any] = {"task_id": "task-q", "task_status": status, "end_time": "2025-10-27 13:57:47.079"}
    if status == "SUCCEEDED":
        out["result"] = {"transcription_url": _signed("q")}
    out.update(output)
    return AsrTask.from_response({"request_id": "req-1", "output": out, "usage": {"seconds": 3}})


def _funasr_task(results: list[dict[str, Any]]) -> AsrTask:
    return AsrTask.from_response(
        {
            "request_id": "req-2",
            "output": {"task_id": "task-f", "task_status": "SUCCEEDED", "results": results},
        }
    )


def _example(name: str = "result-example.json") -> bytes:
    return (SHARED / name).read_bytes()


def test_qwen3_manifest_and_outputs(tmp_path: Path) -> None:
    """Every format is written under {output_path}/{task}/{stem}; the manifest describes them."""
    hook = FakeHook({_signed("q"): [_example()]})
    manifest = fetch_transcription_outputs(
        hook,  # type: ignore[arg-type]
        _qwen3_task(),
        output_path=tmp_path.as_uri(),
        output_formats=formats.FORMATS,
    )
    # The example's file_url is "https://***.wav": nothing usable, so the index names it.
    folder = tmp_path / "task-q"
    assert sorted(p.name for p in folder.iterdir()) == [f"file-0.{f}" for f in sorted(formats.FORMATS)]
    assert (folder / "file-0.json").read_bytes() == _example()
    record = manifest["files"][0]
    assert record["outputs"] == {f: (folder / f"file-0.{f}").as_uri() for f in formats.FORMATS}
    assert manifest["outputs"] == list(record["outputs"].values())
    assert (record["languages"], record["emotions"], record["sentence_count"]) == (
        ["en"],
        ["happy", "neutral"],
        2,
    )
    assert manifest["totals"] == {
        "files": 1,
        "succeeded": 1,
        "failed": 0,
        "characters": record["characters"],
        "sentence_count": 2,
        "duration_ms": 17388,
    }
    assert manifest["asr_task_id"] == "task-q"
    assert manifest["status"] == "SUCCEEDED"
    assert manifest["usage_seconds"] == 3.0
    assert manifest["end_time"].startswith("2025-10-27T05:57:47")
    assert SIGNATURE not in json.dumps(manifest)
    json.dumps(manifest)  # JSON-safe for XCom


def test_renderings_equal_the_renderers_on_the_model(tmp_path: Path) -> None:
    """Streaming renders exactly what formats.render gives for the parsed document."""
    from airflow_provider_qwenasr.models import Transcription

    body = _example("result-example-funasr-diarized.json")
    task = _funasr_task(
        [
            {
                "file_url": "https://a.test/hello.wav",
                "transcription_url": _signed("f"),
                "subtask_status": "SUCCEEDED",
            }
        ]
    )
    fetch_transcription_outputs(
        FakeHook({_signed("f"): [body]}),  # type: ignore[arg-type]
        task,
        output_path=str(tmp_path),
        output_formats=["txt", "srt", "vtt", "jsonl"],
    )
    model = Transcription.from_dict(json.loads(body))
    for fmt in ("txt", "srt", "vtt", "jsonl"):
        assert (tmp_path / "task-f" / f"hello.{fmt}").read_text(encoding="utf-8") == formats.render(
            fmt, model
        )


def test_a_renderer_crash_writes_nothing_for_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All formats of a file are rendered locally first: a crash mid-render leaves no object at all."""

    class Broken:
        def __init__(self, out: Any, **kwargs: Any) -> None:
            self.out = out

        def __enter__(self) -> Broken:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def add(self, channel: int, sentence: Any) -> None:
            self.out.write("partial line\n")
            raise RuntimeError("renderer crashed")

        def finish(self) -> int:
            return 0

    monkeypatch.setitem(formats._OPENERS, "srt", Broken)
    hook = FakeHook({_signed("q"): [_example()]})
    with pytest.raises(RuntimeError, match="renderer crashed"):
        fetch_transcription_outputs(
            hook,  # type: ignore[arg-type]
            _qwen3_task(),
            output_path=str(tmp_path),
            output_formats=["json", "txt", "srt"],
        )
    assert list(tmp_path.rglob("*")) == []


def test_invalid_json_is_downloaded_again(tmp_path: Path) -> None:
    """A garbled body (a gateway page) is retried; the good copy is used."""
    hook = FakeHook({_signed("q"): [b"<html>502</html>", _example()]})
    manifest = fetch_transcription_outputs(hook, _qwen3_task(), output_path=str(tmp_path))  # type: ignore[arg-type]
    assert len(hook.downloads) == 2
    assert manifest["files"][0]["sentence_count"] == 2


def test_persistent_invalid_json_names_task_and_file_and_writes_nothing(tmp_path: Path) -> None:
    """After the retries, a clear error naming the task and the file; no object is written."""
    hook = FakeHook({_signed("q"): [_example()[:200]]})
    with pytest.raises(QwenASRResultError) as raised:
        fetch_transcription_outputs(hook, _qwen3_task(), output_path=str(tmp_path))  # type: ignore[arg-type]
    text = str(raised.value)
    assert raised.value.task_id == "task-q"
    assert "not valid JSON" in text
    assert "file 0" in text
    assert "3 downloads" in text
    assert SIGNATURE not in text
    assert list(tmp_path.rglob("*")) == []
    assert len(hook.downloads) == 3


def test_xcom_text_and_full(tmp_path: Path) -> None:
    """xcom_output adds the text or the whole document when it fits."""
    body = _example()
    text = fetch_transcription_outputs(
        FakeHook({_signed("q"): [body]}),
        _qwen3_task(),
        xcom_output="text",  # type: ignore[arg-type]
    )
    assert text["files"][0]["text"].startswith("Senior staff")
    assert text["outputs"] == []
    full = fetch_transcription_outputs(
        FakeHook({_signed("q"): [body]}),
        _qwen3_task(),
        xcom_output="full",  # type: ignore[arg-type]
    )
    assert full["files"][0]["result"] == json.loads(body)


@pytest.mark.parametrize("xcom_output", ["text", "full"])
def test_xcom_over_the_limit_is_refused_and_outputs_are_kept(tmp_path: Path, xcom_output: str) -> None:
    """Above max_xcom_bytes the fetch fails clearly, naming the outputs it wrote (which stay)."""
    with pytest.raises(QwenASRResultError) as raised:
        fetch_transcription_outputs(
            FakeHook({_signed("q"): [_example()]}),  # type: ignore[arg-type]
            _qwen3_task(),
            output_path=str(tmp_path),
            xcom_output=xcom_output,
            max_xcom_bytes=100,
        )
    message = str(raised.value)
    assert "max_xcom_bytes" in message
    assert "task-q" in message
    written = tmp_path / "task-q" / "file-0.json"
    assert written.exists()
    assert written.as_uri() in message


def test_partial_failure(tmp_path: Path) -> None:
    """Fun-ASR with a failed file: listed in the manifest, or a failure after the good outputs."""
    results = [
        {
            "file_url": "https://a.test/one.wav?sig=x",
            "transcription_url": _signed("1"),
            "subtask_status": "SUCCEEDED",
        },
        {
            "file_url": "https://a.test/two.wav",
            "code": "FILE_404_NOT_FOUND",
            "message": "gone",
            "subtask_status": "FAILED",
        },
    ]
    bodies = {_signed("1"): [_example("result-example-funasr.json")]}
    manifest = fetch_transcription_outputs(
        FakeHook(bodies),
        _funasr_task(results),
        output_path=str(tmp_path),  # type: ignore[arg-type]
    )
    assert manifest["files"][1] == {
        "index": 1,
        "file_url": "https://a.test/two.wav",
        "status": "FAILED",
        "code": "FILE_404_NOT_FOUND",
        "message": "gone",
    }
    assert manifest["files"][0]["file_url"] == "https://a.test/one.wav?…"
    assert manifest["totals"]["failed"] == 1
    assert manifest["totals"]["succeeded"] == 1
    with pytest.raises(QwenASRTaskFailedError) as raised:
        fetch_transcription_outputs(
            FakeHook(bodies),  # type: ignore[arg-type]
            _funasr_task(results),
            output_path=str(tmp_path),
            allow_partial_failure=False,
        )
    error = raised.value
    assert error.code == "FILE_404_NOT_FOUND"
    assert error.failed_files[0]["index"] == 1
    assert (tmp_path / "task-f" / "one.txt").as_uri() in str(error)


@pytest.mark.parametrize(
    ("task", "error", "words"),
    [
        (_qwen3_task("UNKNOWN"), QwenASRTaskExpiredError, "24 h"),
        (
            _qwen3_task("FAILED", code="FILE_403_FORBIDDEN", message="FILE_403_FORBIDDEN"),
            QwenASRTaskFailedError,
            "FILE_403_FORBIDDEN",
        ),
        (_qwen3_task("CANCELED"), QwenASRTaskCanceledError, "canceled"),
        (_qwen3_task("RUNNING"), QwenASRResultError, "no result yet"),
    ],
    ids=["unknown", "failed", "canceled", "running"],
)
def test_tasks_without_results(task: AsrTask, error: type[Exception], words: str) -> None:
    """Each status without a result raises its own error, naming the task and request."""
    hook = FakeHook({})
    with pytest.raises(error) as raised:
        fetch_transcription_outputs(hook, task)  # type: ignore[arg-type]
    assert words in str(raised.value)
    assert "task-q" in str(raised.value)
    assert "req-1" in str(raised.value)
    assert hook.downloads == []


def test_every_file_failed_is_a_task_failure() -> None:
    """A SUCCEEDED Fun-ASR task whose files all failed has nothing to fetch."""
    task = _funasr_task(
        [
            {
                "file_url": "https://a.test/x.wav",
                "code": "DECODE_ERROR",
                "message": "m",
                "subtask_status": "FAILED",
            }
        ]
    )
    with pytest.raises(QwenASRTaskFailedError, match="Every file"):
        fetch_transcription_outputs(FakeHook({}), task, allow_partial_failure=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"output_formats": ["json", "docx"]},
        {"xcom_output": "everything"},
        {"max_xcom_bytes": 0},
        {"format_options": {"json": {}}},
    ],
)
def test_bad_options_fail_before_any_download(kwargs: dict[str, Any]) -> None:
    """Bad formats or limits are input errors raised before anything is downloaded."""
    hook = FakeHook({_signed("q"): [_example()]})
    with pytest.raises(QwenASRInputError):
        fetch_transcription_outputs(hook, _qwen3_task(), **kwargs)  # type: ignore[arg-type]
    assert hook.downloads == []


@pytest.mark.parametrize(
    ("format_options", "message"),
    [
        pytest.param({"docx": {}}, r"format_options\['docx'\]: Unknown output format", id="unknown-format"),
        pytest.param({" ": {}}, r"format_options\[' '\]: Unknown output format", id="blank-format"),
        pytest.param({"JSON": {}}, r"format_options\['JSON'\]: .*takes no options", id="json"),
        pytest.param({"json": "x"}, r"format_options\['json'\]: .*takes no options", id="json-before-dict"),
        pytest.param({"srt": ["max_lines"]}, r"format_options\['srt'\] must be a dict", id="not-a-dict"),
        pytest.param(
            {"txt": {"colour": "red"}},
            r"format_options\['txt'\]: Unknown option\(s\) \['colour'\] for 'txt'; it takes: speaker_labels",
            id="unknown-option",
        ),
    ],
)
def test_format_options_are_refused_with_their_key(format_options: dict[str, Any], message: str) -> None:
    """Checked as ``formats.write`` checks its options, and the message names the key given."""
    from airflow_provider_qwenasr.results.options import check_format_options

    with pytest.raises(QwenASRInputError, match=message):
        check_format_options(format_options, ("json", "txt", "srt"))


def test_format_options_reach_the_renderer(tmp_path: Path) -> None:
    """Per-format options are passed through: narrower subtitles give more cues."""
    hook = FakeHook({_signed("q"): [_example()]})
    fetch_transcription_outputs(
        hook,  # type: ignore[arg-type]
        _qwen3_task(),
        output_path=str(tmp_path),
        output_formats="srt",
        format_options={"srt": {"max_line_chars": 10, "max_lines": 1}},
    )
    import srt

    cues = list(srt.parse((tmp_path / "task-q" / "file-0.srt").read_text(encoding="utf-8")))
    assert len(cues) > 2
    assert all(len(c.content) <= 14 for c in cues)


@pytest.mark.parametrize(
    ("output_path", "output_conn_id", "words"),
    [
        ("s3://bucket/out", "aws_conn_that_does_not_exist", "not a connection"),
        ("nosuchscheme://bucket/out", None, "cannot be used"),
    ],
    ids=["missing-connection", "unknown-scheme"],
)
def test_bad_destinations_fail_before_any_download(
    output_path: str, output_conn_id: str | None, words: str
) -> None:
    """A destination that cannot work is refused up front, not after downloading."""
    hook = FakeHook({_signed("q"): [_example()]})
    with pytest.raises(QwenASRInputError, match=words):
        fetch_transcription_outputs(
            hook,  # type: ignore[arg-type]
            _qwen3_task(),
            output_path=output_path,
            output_conn_id=output_conn_id,
        )
    assert hook.downloads == []


@pytest.mark.parametrize(
    "channels",
    [
        pytest.param([0], id="one-channel"),
        pytest.param([1, 0, 2], id="three-channels"),
        pytest.param([0, 0], id="one-id-twice"),
    ],
)
def test_long_renderings_equal_the_renderers_on_the_model(tmp_path: Path, channels: list[int]) -> None:
    """A generated result of thousands of sentences with words (several channels, whose cues
    interleave) renders as formats.render does from the whole model: the channel labels the fetch
    takes from its scan, and the cue order it gets without holding the sentences, change nothing."""
    from airflow_provider_qwenasr.emulator.hints import audio_facts
    from airflow_provider_qwenasr.emulator.results import write_result
    from airflow_provider_qwenasr.models import Transcription

    url = "https://audio.test/long.wav?audio_seconds=1500"
    source = tmp_path / "source.json"
    parameters = {"enable_words": True, "channel_id": channels}
    write_result(source, "qwen3", url, audio_facts(url, "qwen3-asr-flash-filetrans", channels), parameters)
    body = source.read_bytes()
    fetch_transcription_outputs(
        FakeHook({_signed("q"): [body]}),  # type: ignore[arg-type]
        _qwen3_task(),
        output_path=str(tmp_path / "out"),
        output_formats=["txt", "srt", "vtt"],
    )
    model = Transcription.from_dict(json.loads(body))
    assert len(model.sentences) > 200 * len(channels)
    for fmt in ("txt", "srt", "vtt"):
        written = (tmp_path / "out" / "task-q" / f"long.{fmt}").read_text(encoding="utf-8")
        # render() heads txt paragraphs by the number of transcripts, the fetch (like write_txt left
        # to itself) by the channels it sees: they differ only when one channel id is repeated.
        options = {"multi_channel": len(set(channels)) > 1} if fmt == "txt" else {}
        assert written == formats.render(fmt, model, **options), fmt
