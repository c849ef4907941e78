"""The plugin in a real Airflow, driven by a real browser: log in, open the Transcript tab, find the run.

Starts api-server, scheduler, dag-processor and triggerer on 127.0.0.1 (``tests.e2e.deployment``)
against the DashScope emulator, runs the example DAG ``example_qwenasr_meeting`` (submit, deferred
wait, fetch to ``file://``), then headless Chromium (``chromium`` + ``chromium-driver`` with
``selenium``) logs in through SimpleAuthManager's form. Screenshots go to
``$QWENASR_TEST_ARTIFACTS/ui`` (default ``test-artifacts/ui``); ``scripts/ui_screenshots.py``
copies them into ``docs/images/ui``.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.conftest import connection_json
from tests.e2e.deployment import AirflowDeployment

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAG = REPO_ROOT / "example_dags" / "example_qwenasr_meeting.py"
DAG_ID = "example_qwenasr_meeting"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("QWENASR_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts")) / "ui"
WAIT = 60  # seconds a page element may take to appear (not a timing assertion)

# A task that fails the way the fetch operator fails, so the failure view is checked on a real
# worker's log (structured JSON lines written by the task supervisor).
FAILING_DAG = textwrap.dedent(
    """
    from datetime import datetime

    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG


    def _fail():
        from airflow_provider_qwenasr.exceptions import QwenASRTaskFailedError

        raise QwenASRTaskFailedError(
            "DashScope task ended FAILED", task_id="dash-e2e-failed", code="FILE_404_NOT_FOUND",
            service_message="The audio file cannot be downloaded.", request_id="req-e2e-1",
        )


    with DAG("ui_e2e_failing", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
        PythonOperator(task_id="fetch", python_callable=_fail, retries=0)
    """
)


@pytest.fixture
def deployment(tmp_path: Path, emulator: Any) -> Iterator[AirflowDeployment]:
    """A started deployment with the example DAG and the failing DAG; stopped (by pid) afterwards."""
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE_DAG, dags / EXAMPLE_DAG.name)
    (dags / "ui_e2e_failing.py").write_text(FAILING_DAG)
    out = tmp_path / "out"
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "AIRFLOW_VAR_QWENASR_OUTPUT_PATH": out.as_uri(),
        "AIRFLOW__QWEN_ASR__UI_LOCAL_ROOTS": str(out),
    }
    dep = AirflowDeployment(tmp_path / "deployment", dags_folder=dags, env=env)
    try:
        dep.start()
        yield dep
    except BaseException:
        print(dep.describe(80))
        raise
    finally:
        dep.stop()


def _browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1440,1000",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile; quit afterwards."""
    if not Path(CHROMEDRIVER).exists() or shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-os-packages.sh)")
    pytest.importorskip("selenium")
    driver = _browser(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


def _first_sentence(manifest: dict[str, Any]) -> str:
    """The first sentence of the transcript, read from the json output the fetch task wrote."""
    path = Path(urlsplit(manifest["files"][0]["outputs"]["json"]).path)
    document = json.loads(path.read_text())
    return str(document["transcripts"][0]["sentences"][0]["text"]).strip()


def _login(driver: Any, dep: AirflowDeployment) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{dep.base_url}/auth/login")
    wait = WebDriverWait(driver, WAIT)
    wait.until(ec.visibility_of_element_located((By.NAME, "username"))).send_keys(dep.username)
    driver.find_element(By.NAME, "password").send_keys(dep.password)
    driver.find_element(By.XPATH, "//button[@type='submit']").click()
    wait.until(lambda d: any(c["name"] == "_token" for c in d.get_cookies()))


def _open_plugin_frame(driver: Any, title: str, ready_css: str) -> Any:
    """Switch into the UI's iframe of an external view and wait until ``ready_css`` is visible."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT)
    wait.until(ec.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, f"iframe[title='{title}']")))
    return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ready_css)))


def _shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def test_transcript_tab_and_transcriptions_page_in_chromium(
    deployment: AirflowDeployment, browser: Any
) -> None:
    """Log in, open the fetch task, click Transcript: text and timeline show; the run is listed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    dep = deployment
    dep.unpause(DAG_ID)
    dep.unpause("ui_e2e_failing")
    # The example renders ``{{ ds }}`` into its output path, so its run needs a logical date
    # (a run triggered with ``logical_date: null`` has no ``ds``).
    run_id = str(
        dep.api.post(f"dags/{DAG_ID}/dagRuns", {"logical_date": "2026-01-02T00:00:00Z", "conf": {}})[
            "dag_run_id"
        ]
    )
    failing_run = dep.trigger("ui_e2e_failing")
    assert dep.wait_for_run(DAG_ID, run_id, timeout=300) == "success"
    assert dep.wait_for_run("ui_e2e_failing", failing_run, timeout=300) == "failed"
    manifest = dep.api.get(f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/fetch/xcomEntries/return_value")[
        "value"
    ]
    sentence = _first_sentence(manifest)

    _login(browser, dep)
    run = quote(run_id, safe="")
    browser.get(f"{dep.base_url}/dags/{DAG_ID}/runs/{run}/tasks/fetch")
    tab = WebDriverWait(browser, WAIT).until(
        ec.element_to_be_clickable((By.XPATH, "//a[contains(@href, 'plugin/qwen-asr-transcript')]"))
    )
    assert "Transcript" in tab.text
    tab.click()
    table = _open_plugin_frame(browser, "Transcript", "table.sentences")
    assert sentence in table.text
    svg = browser.find_element(By.CSS_SELECTOR, "svg.timeline")
    assert svg.is_displayed()
    assert svg.size["width"] > 300
    assert browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect.seg")
    assert manifest["asr_task_id"] in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    _shot(browser, "transcript-tab.png")

    browser.get(f"{dep.base_url}/dags/ui_e2e_failing/runs/{quote(failing_run, safe='')}/tasks/fetch")
    WebDriverWait(browser, WAIT).until(
        ec.element_to_be_clickable((By.XPATH, "//a[contains(@href, 'plugin/qwen-asr-transcript')]"))
    ).click()
    error = _open_plugin_frame(browser, "Transcript", "pre.log")
    assert "FILE_404_NOT_FOUND" in error.text
    assert "req-e2e-1" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    _shot(browser, "failed-task.png")

    browser.get(f"{dep.base_url}/plugin/qwen-asr-transcriptions")
    listing = _open_plugin_frame(browser, "Transcriptions", "table.transcriptions")
    assert run_id in listing.text
    assert manifest["asr_task_id"] in listing.text
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.transcription")
    assert len(rows) == 1, "only the fetch task's manifest, not the sensor's summary"
    _check_spend(browser, manifest)
    browser.switch_to.default_content()
    _shot(browser, "transcriptions-page.png")

    # Without the session cookie the app refuses, as the core API does.
    anonymous = httpx.get(f"{dep.base_url}/qwen-asr/transcriptions", timeout=30)
    assert anonymous.status_code == 401
    _rewritten_manifest_serves_nothing_else(dep, run_id, manifest)


def _check_spend(driver: Any, manifest: dict[str, Any]) -> None:
    """Inside the Transcriptions frame: the run's DAG has a spend row and today's bar is drawn."""
    from selenium.webdriver.common.by import By

    section = driver.find_element(By.CSS_SELECTOR, "section.spend")
    [dag_row] = driver.find_elements(By.CSS_SELECTOR, "tr.spend-dag")
    cells = dag_row.find_elements(By.TAG_NAME, "td")
    assert cells[0].text == DAG_ID
    assert [cells[1].text, cells[4].text] == ["1 (1 SUCCEEDED)"] * 2, "in both windows"
    billed = manifest["usage_seconds"]
    assert billed, "the emulator bills usage.seconds"
    assert cells[3].text.startswith(f"{billed:.1f} s" if billed < 100 else f"{billed:,.0f} s")
    assert cells[3].text.endswith(" h")
    chart = driver.find_element(By.CSS_SELECTOR, "svg.spend")
    assert chart.is_displayed()
    assert chart.size["width"] > 300
    assert (
        driver.find_element(By.CSS_SELECTOR, "svg.spend > title")
        .get_attribute("textContent")
        .startswith("Billed hours per day")
    )
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.spend rect.bar")
    assert len(bars) == 7
    assert float(bars[-1].get_attribute("height")) > 1, "today's bar is the tallest: the only spend"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(str(ARTIFACTS / "transcriptions-spend.png"))


def _rewritten_manifest_serves_nothing_else(
    dep: AirflowDeployment, run_id: str, manifest: dict[str, Any]
) -> None:
    """The real api-server serves the output the fetch task signed, and nothing a REST edit names.

    A file sits under ``ui_local_roots`` beside the outputs; a manifest rewritten through
    ``PATCH …/xcomEntries/return_value`` to name it must get a 404, whatever else it claims.
    """
    headers = {"Authorization": f"Bearer {dep.api.token}"}
    download = f"{dep.base_url}/qwen-asr/ti/{DAG_ID}/{quote(run_id, safe='')}/fetch/-1/files/0/txt"
    signed = httpx.get(download, headers=headers, timeout=30)
    assert signed.status_code == 200, signed.text  # signed by the worker, checked by the api-server
    loot = Path(urlsplit(manifest["files"][0]["outputs"]["txt"]).path).with_name("salaries.csv")
    loot.write_text("name,salary\nalice,1000000\n")
    edited = json.loads(json.dumps(manifest))
    edited["files"][0]["outputs"]["txt"] = loot.as_uri()
    edited["outputs"] = [*edited["outputs"], loot.as_uri()]
    xcom = f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/fetch/xcomEntries/return_value"
    dep.api.patch(xcom, {"value": edited, "map_index": -1})
    refused = httpx.get(download, headers=headers, timeout=30)
    assert refused.status_code == 404
    assert "not signed by this deployment" in refused.text
    assert "alice" not in refused.text
