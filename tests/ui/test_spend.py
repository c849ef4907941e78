"""Spend at a glance on the Transcriptions page and in its JSON, through the real api-server app.

Data comes from ``airflow dags test`` runs of ``dag_files/ui_fixture_dags.py`` (see conftest.py):
every manifest there bills ``usage_seconds = 12.0``, and the runs are minutes old, so each is in
both windows. ``outsider`` may read ``ui_fixture`` but not ``ui_private`` (tests/ui/auth.py).
"""

from __future__ import annotations

import re
from typing import Any

from tests.ui.auth import PRIVATE_DAG
from tests.ui.test_routes import HTTP_FORBIDDEN, HTTP_OK, HTTP_UNAUTHORIZED, get

SPEND = "/qwen-asr/transcriptions/spend"
PAGE = "/qwen-asr/transcriptions"


def _json(client: Any, user: str | None, tokens: dict[str, str], query: str = "") -> Any:
    response = get(client, SPEND + query, user, tokens)
    assert response.status_code == HTTP_OK, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "private, no-store"
    return response.json()


def _dags(document: Any) -> dict[str, Any]:
    return {d["dag_id"]: d for d in document["dags"]}


def test_json_figures_per_dag_and_window(client: Any, tokens: dict[str, str]) -> None:
    """Per DAG and in all: counts by status, audio and billed seconds (and hours), both windows."""
    document = _json(client, "viewer", tokens)
    dags = _dags(document)
    assert set(dags) == {"ui_fixture", PRIVATE_DAG}
    private = dags[PRIVATE_DAG]
    assert private["day"] == private["week"]
    assert private["week"]["count"] == 1
    assert private["week"]["by_status"] == {"SUCCEEDED": 1}
    assert private["week"]["billed_seconds"] == 12.0
    assert private["week"]["billed_hours"] == round(12 / 3600, 4)
    assert private["week"]["audio_seconds"] > 0
    fixture = dags["ui_fixture"]["week"]
    assert fixture["count"] == 11
    assert fixture["by_status"]["FAILED"] == 1
    assert sum(fixture["by_status"].values()) == 11
    total = document["totals"]["week"]
    assert total["count"] == fixture["count"] + 1
    assert total["billed_seconds"] == fixture["billed_seconds"] + 12.0
    assert document["totals"]["day"]["count"] == total["count"]
    assert sum(d["count"] for d in document["daily"]) == total["count"]
    assert len(document["daily"]) == 7
    assert document["truncated"] is False
    assert document["limit"] == 20_000


def test_user_sees_no_figures_of_a_dag_they_cannot_read(client: Any, tokens: dict[str, str]) -> None:
    """``outsider``: no ui_private in the JSON or the page, totals without it, 403 when asked for it."""
    viewer = _json(client, "viewer", tokens)
    outsider = _json(client, "outsider", tokens)
    assert PRIVATE_DAG not in _dags(outsider)
    assert PRIVATE_DAG not in str(outsider)
    private = _dags(viewer)[PRIVATE_DAG]["week"]
    for key in ("count", "billed_seconds", "audio_seconds"):
        assert outsider["totals"]["week"][key] == viewer["totals"]["week"][key] - private[key], key
    assert sum(d["count"] for d in outsider["daily"]) == outsider["totals"]["week"]["count"]

    refused = get(client, SPEND + f"?dag_id={PRIVATE_DAG}", "outsider", tokens)
    assert refused.status_code == HTTP_FORBIDDEN
    assert refused.headers["content-type"].startswith("application/json")
    assert "billed" not in refused.text

    html = get(client, PAGE, "outsider", tokens).text
    assert PRIVATE_DAG not in html
    viewer_html = get(client, PAGE, "viewer", tokens).text
    assert f'<tr class="spend-dag"><td>{PRIVATE_DAG}</td>' in viewer_html
    assert '<tr class="spend-total"><th>All DAGs</th>' in viewer_html
    assert '<tr class="spend-total">' not in html, "one DAG: no total row"


def test_anonymous_and_roleless_users_get_no_figures(client: Any, tokens: dict[str, str]) -> None:
    """401 without a token, 403 without a role, answered in JSON."""
    anonymous = get(client, SPEND, None, tokens)
    assert anonymous.status_code == HTTP_UNAUTHORIZED
    assert "detail" in anonymous.json()
    nobody = get(client, SPEND, "nobody", tokens)
    assert nobody.status_code == HTTP_FORBIDDEN
    assert "dags" not in nobody.json()


def test_figures_follow_the_page_filters(client: Any, tokens: dict[str, str]) -> None:
    """``status`` and ``dag_id`` narrow the figures as they narrow the listing."""
    failed = _json(client, "viewer", tokens, "?status=FAILED")
    assert failed["filters"] == {"dag_id": None, "status": "FAILED"}
    assert {d: v["week"]["by_status"] for d, v in _dags(failed).items()} == {"ui_fixture": {"FAILED": 1}}
    only = _json(client, "viewer", tokens, f"?dag_id={PRIVATE_DAG}")
    assert set(_dags(only)) == {PRIVATE_DAG}
    assert _json(client, "viewer", tokens, "?status=CANCELED")["dags"] == []
    html = get(client, PAGE + "?status=CANCELED", "viewer", tokens).text
    assert "No transcriptions in the last 7 days match the filter." in html
    assert 'href="/qwen-asr/transcriptions/spend?status=CANCELED"' in html


def test_page_shows_totals_and_chart(client: Any, tokens: dict[str, str]) -> None:
    """The page's spend table shows the private DAG's 12 billed seconds as hours; the SVG has 7 days."""
    html = get(client, PAGE + f"?dag_id={PRIVATE_DAG}", "viewer", tokens).text
    row = re.search(r'<tr class="spend-dag">(.*?)</tr>', html, flags=re.S)
    assert row is not None
    assert row.group(1).count('<td class="time billed">12.0 s <span class="muted">0.003 h</span></td>') == 2
    assert row.group(1).count('<span class="status-SUCCEEDED">1 SUCCEEDED</span>') == 2
    svg = re.search(r'<svg class="spend".*?</svg>', html, flags=re.S)
    assert svg is not None
    assert f"<title>Billed hours per day, last 7 days (UTC), DAG {PRIVATE_DAG}</title>" in svg.group(0)
    assert svg.group(0).count('class="bar"') == 7


def test_chart_and_json_escape_the_filter(client: Any, tokens: dict[str, str]) -> None:
    """A ``dag_id`` filter holding markup is text in the SVG's title, the page and the JSON."""
    hostile = '<script>alert("x")</script>'
    html = get(client, PAGE, "viewer", tokens, params={"dag_id": hostile}).text
    assert "<script" not in html.lower()
    assert "DAG &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</title>" in html
    document = get(client, SPEND, "viewer", tokens, params={"dag_id": hostile}).json()
    assert document["filters"]["dag_id"] == hostile
    assert document["dags"] == []


def test_json_holds_nothing_secret(client: Any, tokens: dict[str, str]) -> None:
    """Figures only: no DashScope task id, no URL (signed or not), no output path, no key."""
    text = get(client, SPEND, "viewer", tokens).text
    for needle in ("dash-", "http", "file:", "Signature", "output", "signing", "asr_task_id"):
        assert needle not in text, needle
