"""The plugin's routes through Airflow's own api-server app (TestClient), against real task runs.

Data comes from ``airflow dags test`` runs of ``dag_files/ui_fixture_dags.py`` (see conftest.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.ui.conftest import UiData
from tests.ui.dag_files.ui_fixture_dags import BIG_SENTENCES, XSS

HTTP_OK, HTTP_UNAUTHORIZED, HTTP_FORBIDDEN, HTTP_NOT_FOUND = 200, 401, 403, 404


def ti_path(run_id: str, task_id: str, map_index: int | str = -1, dag_id: str = "ui_fixture") -> str:
    return f"/qwen-asr/ti/{dag_id}/{quote(run_id, safe='')}/{task_id}/{map_index}"


def get(client: Any, url: str, user: str | None, tokens: dict[str, str], **kwargs: Any) -> Any:
    """GET as ``user`` (the UI's ``_token`` cookie, like the browser's iframe) or anonymously."""
    client.cookies.clear()
    if user:
        client.cookies.set("_token", tokens[user])
    return client.get(url, **kwargs)


def rows(html: str) -> list[str]:
    return re.findall(r'<td class="text">(.*?)</td>', html, flags=re.S)


def test_plugin_is_a_valid_airflow_plugin() -> None:
    """The class the provider info registers passes Airflow's own plugin check and declares both views."""
    from airflow.plugins_manager import is_valid_plugin

    from airflow_provider_qwenasr.ui.plugin import QwenASRPlugin

    assert is_valid_plugin(QwenASRPlugin)
    destinations = {v["destination"]: v for v in QwenASRPlugin.external_views}
    assert set(destinations) == {"task_instance", "nav"}
    assert not destinations["task_instance"]["href"].startswith("/"), "relative, so sub-paths work"
    assert "{MAP_INDEX}" in destinations["task_instance"]["href"]
    assert QwenASRPlugin.fastapi_apps[0]["url_prefix"] == "/qwen-asr"


def test_entry_point_registers_the_plugin() -> None:
    """Airflow finds the plugin through the ``airflow.plugins`` entry point, in any configuration."""
    from importlib.metadata import entry_points

    from airflow_provider_qwenasr.ui.plugin import QwenASRPlugin

    [entry] = [e for e in entry_points(group="airflow.plugins") if e.name == "qwen_asr"]
    assert entry.load() is QwenASRPlugin


def test_importing_the_plugin_does_not_build_the_app() -> None:
    """Schedulers and workers import plugins too: the FastAPI app is only built on a request."""
    import subprocess
    import sys

    # The plugin reads the route names from the leaf module ui.routes; nothing else of ui/ loads.
    code = (
        "import sys; import airflow_provider_qwenasr.ui.plugin as p; "
        "import airflow_provider_qwenasr.ui.routes as r; "
        "print('APP_LOADED', any(m.startswith('airflow_provider_qwenasr.ui.') "
        "and m not in (p.__name__, r.__name__) for m in sys.modules), 'fastapi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("APP_LOADED")[-1].split() == ["False", "False"]


def _all_routes(data: UiData) -> list[str]:
    return [
        ti_path(data.run_id, "meeting"),
        ti_path(data.run_id, "meeting") + "/files/0/txt",
        "/qwen-asr/transcriptions",
    ]


def test_anonymous_requests_get_401(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """No token, no transcript: every route answers 401 (and the page links to the login)."""
    for url in _all_routes(ui_data):
        response = get(client, url, None, tokens)
        assert response.status_code == HTTP_UNAUTHORIZED, url
        assert "Good morning" not in response.text
    assert "Log in to Airflow" in get(client, _all_routes(ui_data)[0], None, tokens).text


def test_invalid_token_is_refused(client: Any, ui_data: UiData) -> None:
    """A forged cookie is not a user: Airflow answers 403 "Invalid JWT token" (docs/ui.md says so)."""
    client.cookies.set("_token", "not-a-jwt")
    response = client.get(ti_path(ui_data.run_id, "meeting"))
    assert response.status_code == HTTP_FORBIDDEN
    assert "Invalid JWT token" in response.text
    assert "Good morning" not in response.text


def test_user_without_any_dag_access_gets_403(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """The auth manager refuses a role-less user every DAG: every route answers 403."""
    for url in _all_routes(ui_data):
        response = get(client, url, "nobody", tokens)
        assert response.status_code == HTTP_FORBIDDEN, url
        assert "Good morning" not in response.text


def test_user_cannot_read_a_dag_they_may_not_read(
    client: Any, ui_data: UiData, tokens: dict[str, str]
) -> None:
    """``outsider`` reads ui_fixture but not ui_private: no route reveals ui_private's transcript."""
    private = ti_path(ui_data.private_run_id, "secret", dag_id="ui_private")
    for url in (
        private,
        private + "/files/0/txt",
        private + "/files/0/jsonl",
        "/qwen-asr/transcriptions?dag_id=ui_private",
    ):
        response = get(client, url, "outsider", tokens)
        assert response.status_code == HTTP_FORBIDDEN, url
        assert "Top secret" not in response.text
    listing = get(client, "/qwen-asr/transcriptions?size=200", "outsider", tokens)
    assert listing.status_code == HTTP_OK
    assert "ui_private" not in listing.text
    assert "dash-secret-0007" not in listing.text
    assert "dash-meeting-0001" in listing.text
    # The viewer may read both.
    assert "Top secret board meeting." in get(client, private, "viewer", tokens).text


def test_transcript_tab(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """Timeline, duration, languages, emotions, per-speaker text with start times, SVG and downloads."""
    response = get(client, ti_path(ui_data.run_id, "meeting", "{MAP_INDEX}"), "viewer", tokens)
    assert response.status_code == HTTP_OK
    html = response.text
    assert "dash-meeting-0001" in html
    for label in ("Scheduled", "Started", "Submitted to DashScope", "Transcription ended", "Task ended"):
        assert f"<dt>{label}</dt>" in html
    assert "2025-01-02 03:04:05" in html  # submit_time
    assert "<dt>Audio duration</dt><dd>0:11.5</dd>" in html  # 10,000 + 1,500 ms
    for chip in ("en", "de", "happy", "neutral", "angry", "sad"):
        assert f"{chip}</span>" in html
    assert "Good morning, everyone." in html
    assert "Das ist alles für heute." in html
    assert '<td class="time">0:01.0</td><td>Speaker 0</td>' in html
    assert '<td class="time">0:04.0</td><td>Speaker 1</td>' in html
    svg = re.search(r"<svg .*?</svg>", html, flags=re.S)
    assert svg is not None
    assert svg.group(0).count('class="seg"') == 4
    assert "Speaker 1" in svg.group(0)
    assert "#e0a800" in svg.group(0)  # happy
    for fmt in ("txt", "srt", "vtt", "json", "jsonl"):
        assert f'href="{ti_path(ui_data.run_id, "meeting")}/files/0/{fmt}"' in html
    # The failed second file is a tab of its own, showing DashScope's code and message.
    failed = get(client, ti_path(ui_data.run_id, "meeting") + "?file=1", "viewer", tokens).text
    assert "FILE_404_NOT_FOUND" in failed
    assert "&lt;missing.wav&gt;" in failed
    assert (
        get(client, ti_path(ui_data.run_id, "meeting") + "?file=7", "viewer", tokens).status_code
        == HTTP_NOT_FOUND
    )


def test_speaker_lane_filter(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """``lane=c0-s1`` keeps speaker 1's sentences only."""
    html = get(client, ti_path(ui_data.run_id, "meeting") + "?lane=c0-s1", "viewer", tokens).text
    assert [r for r in rows(html)] == ["Let us review the quarterly numbers.", "Das ist alles für heute."]


def test_transcript_text_is_escaped(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """A ``<script>`` spoken into the transcript (or in a file name) is shown as text, never run."""
    response = get(client, ti_path(ui_data.run_id, "meeting"), "viewer", tokens)
    html = response.text
    assert XSS not in html
    assert "<script" not in html.lower()
    assert (
        "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt; &amp; &#34;quoted&#34; &lt;b&gt;bold&lt;/b&gt;"
        in html
    )
    assert "meeting&lt;i&gt;" in html
    assert "meeting<i>" not in html
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_downloads_serve_the_written_outputs(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """Each output comes back byte for byte, with its media type, as an attachment."""
    base = ti_path(ui_data.run_id, "meeting")
    for fmt, media in (
        ("txt", "text/plain"),
        ("srt", "application/x-subrip"),
        ("vtt", "text/vtt"),
        ("json", "application/json"),
        ("jsonl", "application/x-ndjson"),
    ):
        response = get(client, f"{base}/files/0/{fmt}", "viewer", tokens)
        assert response.status_code == HTTP_OK, fmt
        assert response.content == (ui_data.out / "meeting" / f"meeting.{fmt}").read_bytes()
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"] == f'attachment; filename="meeting_i.{fmt}"'


@pytest.mark.parametrize(
    ("task_id", "tail"),
    [
        pytest.param("meeting", "/files/0/docx", id="unknown-format"),
        pytest.param("meeting", "/files/1/txt", id="failed-file-has-no-output"),
        pytest.param("meeting", "/files/9/txt", id="no-such-file"),
        pytest.param("meeting", "/files/0/..%2F..%2Fetc%2Fpasswd", id="path-in-format"),
        pytest.param("meeting", "/files/0/txt/../../../../etc/passwd", id="dot-segments"),
        pytest.param("crafted", "/files/0/json", id="local-file-outside-roots"),
        pytest.param("crafted", "/files/0/srt", id="signed-looking-uri"),
        pytest.param("crafted", "/files/0/vtt", id="not-in-manifest-outputs"),
        pytest.param("plain", "/files/0/txt", id="not-a-transcription"),
    ],
)
def test_download_refuses_what_the_manifest_does_not_name(
    client: Any, ui_data: UiData, tokens: dict[str, str], task_id: str, tail: str
) -> None:
    """Only ``files[i].outputs[fmt]`` of the manifest, listed in its outputs and allowed, is served."""
    response = get(client, ti_path(ui_data.run_id, task_id) + tail, "viewer", tokens)
    assert response.status_code == HTTP_NOT_FOUND
    assert "root:" not in response.text


def test_crafted_manifest_still_shows_its_allowed_outputs(
    client: Any, ui_data: UiData, tokens: dict[str, str]
) -> None:
    """Refused outputs get no download link; the allowed ones do."""
    html = get(client, ti_path(ui_data.run_id, "crafted"), "viewer", tokens).text
    links = re.findall(r'/files/0/(\w+)"', html)
    assert links == ["txt", "jsonl"]
    assert "Signature" not in html
    assert "/etc/hostname" not in html


def test_ten_thousand_sentences_are_served_in_pages(
    client: Any, ui_data: UiData, tokens: dict[str, str]
) -> None:
    """10,000 sentences: 100 a page by default, any page reachable, lanes per channel, never all at once."""
    base = ti_path(ui_data.run_id, "big")
    first = get(client, base, "viewer", tokens).text
    assert rows(first) == [f"Sentence number {i:05d}." for i in range(100)]
    assert f"Page 1 of 100 · {BIG_SENTENCES} sentences" in first
    assert "Channel 0" in first
    assert "Channel 1" in first
    assert re.search(r'href="[^"]*page=2"', first)
    last = get(client, base + "?page=100", "viewer", tokens).text
    assert rows(last)[-1] == "Sentence number 09999."
    assert "Next" not in last
    channel1 = get(client, base + "?lane=c1&page=50&size=100", "viewer", tokens).text
    assert "Page 50 of 50 · 5000 sentences" in channel1
    assert rows(channel1)[0] == "Sentence number 09801."
    assert len(rows(channel1)) == 100
    big_page = get(client, base + "?size=500&page=3", "viewer", tokens).text
    assert len(rows(big_page)) == 500
    assert rows(big_page)[0] == "Sentence number 01000."
    assert get(client, base + "?size=100000", "viewer", tokens).status_code == 422
    svg = re.search(r"<svg .*?</svg>", first, flags=re.S)
    assert svg is not None
    assert svg.group(0).count('class="seg"') <= 2 * 2000


def test_json_only_output_is_streamed(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """Without a jsonl output the original DashScope document is read; speakers become lanes."""
    html = get(client, ti_path(ui_data.run_id, "json_only"), "viewer", tokens).text
    assert rows(html) == [f"From the original document {i}." for i in range(6)]
    assert "Speaker 2" in html
    assert "<svg" in html


def test_mapped_task_instances(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """Each map index shows its own transcript; the unmapped URL lists the instances."""
    for index, name in enumerate(("alpha", "beta", "gamma")):
        html = get(client, ti_path(ui_data.run_id, "mapped", index), "viewer", tokens).text
        assert rows(html) == [f"Hello from {name}."]
        assert f"mapped [{index}]" in html
    listing = get(client, ti_path(ui_data.run_id, "mapped", "{MAP_INDEX}"), "viewer", tokens)
    assert listing.status_code == HTTP_OK
    assert listing.text.count("map index ") == 3
    assert ti_path(ui_data.run_id, "mapped", 2) in listing.text
    assert get(client, ti_path(ui_data.run_id, "mapped", 7), "viewer", tokens).status_code == HTTP_NOT_FOUND
    assert (
        get(client, ti_path(ui_data.run_id, "mapped", "x1"), "viewer", tokens).status_code == HTTP_NOT_FOUND
    )


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/qwen-asr/ti/ui_fixture/no-such-run/meeting/-1", id="missing-run"),
        pytest.param("/qwen-asr/ti/ui_fixture/{run}/no_such_task/-1", id="missing-task"),
        pytest.param("/qwen-asr/ti/no_such_dag/{run}/meeting/-1", id="missing-dag"),
    ],
)
def test_missing_task_instance_is_404(client: Any, ui_data: UiData, tokens: dict[str, str], url: str) -> None:
    """A task instance that does not exist is a 404 page."""
    response = get(client, url.replace("{run}", quote(ui_data.run_id, safe="")), "viewer", tokens)
    assert response.status_code == HTTP_NOT_FOUND
    assert "No such task instance" in response.text


@pytest.mark.parametrize("task_id", ["plain", "sensor_summary"])
def test_task_without_transcript(client: Any, ui_data: UiData, tokens: dict[str, str], task_id: str) -> None:
    """Any other task shows the tab too, saying there is no transcript (a sensor's summary is none)."""
    html = get(client, ti_path(ui_data.run_id, task_id), "viewer", tokens).text
    assert "No transcript for this task" in html
    assert "success" in html


def _write_failed_log(ui_data: UiData) -> None:
    """Write the failing try's log where the api-server's log reader looks, as a worker writes it.

    ``airflow dags test`` runs tasks in-process and writes no task log file.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.log.log_reader import TaskLogReader
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    with create_session() as session:
        ti = session.scalar(
            select(TaskInstance)
            .where(TaskInstance.dag_id == "ui_fixture", TaskInstance.task_id == "failing")
            .options(joinedload(TaskInstance.dag_run))
        )
        assert ti is not None
        handler = TaskLogReader().log_handler
        path = Path(handler.local_base) / handler._render_filename(ti, ti.try_number)
    error = (
        "DashScope task ended FAILED (task_id=dash-failing-0006, code=FILE_403_FORBIDDEN, "
        "message=The audio <URL> is forbidden., request_id=req-7f3e). Check that the file URL is public"
    )
    lines = [
        {"timestamp": "2025-01-02T03:04:05.000000Z", "level": "info", "event": "Starting", "logger": "task"},
        {
            "timestamp": "2025-01-02T03:04:06.000000Z",
            "level": "error",
            "event": "Task failed with exception",
            "logger": "task",
            "error_detail": [
                {
                    "exc_type": "QwenASRTaskFailedError",
                    "exc_value": error,
                    "exc_notes": [],
                    "syntax_error": None,
                    "is_cause": False,
                    "frames": [],
                    "is_group": False,
                    "exceptions": [],
                }
            ],
        },
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_failed_task_shows_dashscope_error(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """A failed transcription shows its state, DashScope task id, code, message and request id."""
    url = ti_path(ui_data.run_id, "failing")
    before = get(client, url, "viewer", tokens).text
    assert "failed" in before
    assert "dash-failing-0006" in before
    _write_failed_log(ui_data)
    html = get(client, url, "viewer", tokens).text
    assert "<dt>code</dt><dd><code>FILE_403_FORBIDDEN</code></dd>" in html
    assert "<dt>request_id</dt><dd><code>req-7f3e</code></dd>" in html
    assert "The audio &lt;URL&gt; is forbidden." in html
    assert "QwenASRTaskFailedError" in html


def test_transcriptions_page_lists_newest_first(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """All manifests of readable DAGs, newest first, linking to each task's Transcript tab."""
    html = get(client, "/qwen-asr/transcriptions?size=200", "viewer", tokens).text
    ids = re.findall(r"<code>(dash-[\w-]+)</code>", html)
    # ui_private ran last; test_output_attacks rewrites (so renews) the target's XCom.
    assert next(i for i in ids if i != "dash-target-0009") == "dash-secret-0007"
    assert set(ids) == {
        "dash-secret-0007",
        "dash-meeting-0001",
        "dash-big-0002",
        "dash-json-0003",
        "dash-failed-0004",
        "dash-crafted-0005",
        "dash-target-0009",
        "dash-netloc-0010",
        "dash-nul-0011",
        "dash-mapped-alpha",
        "dash-mapped-beta",
        "dash-mapped-gamma",
    }
    run = quote(ui_data.run_id, safe="")
    assert f'href="/dags/ui_fixture/runs/{run}/tasks/mapped/mapped/1/plugin/qwen-asr-transcript"' in html
    assert f'href="/dags/ui_fixture/runs/{run}/tasks/meeting/plugin/qwen-asr-transcript"' in html
    assert not {"plain", "sensor_summary"} & set(re.findall(r"/tasks/(\w+)/", html))


def test_transcriptions_page_filters_and_pages(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """Filter by DAG and by status; page through five at a time."""
    failed = get(client, "/qwen-asr/transcriptions?status=FAILED", "viewer", tokens).text
    assert re.findall(r"<code>(dash-[\w-]+)</code>", failed) == ["dash-failed-0004"]
    private = get(client, "/qwen-asr/transcriptions?dag_id=ui_private", "viewer", tokens).text
    assert re.findall(r"<code>(dash-[\w-]+)</code>", private) == ["dash-secret-0007"]
    seen: list[str] = []
    for page in (1, 2, 3):
        html = get(
            client, f"/qwen-asr/transcriptions?dag_id=ui_fixture&size=5&page={page}", "viewer", tokens
        ).text
        assert f"Page {page} of 3 · 11 transcriptions" in html
        seen += re.findall(r"<code>(dash-[\w-]+)</code>", html)
    assert len(seen) == len(set(seen)) == 11
    empty = get(client, "/qwen-asr/transcriptions?status=CANCELED", "viewer", tokens).text
    assert "No transcriptions match the filter." in empty
