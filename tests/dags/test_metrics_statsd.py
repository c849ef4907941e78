"""The metrics reach a real StatsD listener through Airflow's own ``Stats``, during ``airflow dags test``.

A UDP socket on 127.0.0.1 stands in for StatsD; Airflow is pointed at it (``[metrics] statsd_on``,
with InfluxDB-style tags so the tags travel in the datagrams) and runs the one-shot example DAG
against the emulator, whose first three status queries fail (429, 503, a dropped connection). The
datagrams must hold every metric of ``docs/metrics.md`` with the values the emulator stands for (the
seconds it billed, the size of the result it served), and no secret: not the key, not its
fingerprint, not a URL or its signature, not the DashScope task id.
"""

from __future__ import annotations

import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr import metrics
from airflow_provider_qwenasr._api.settings import ApiSettings
from tests.airflow_runner import AirflowHome
from tests.conftest import EMULATOR_API_KEY, connection_json

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_qwenasr_taskflow.py"
DAG_ID = "example_qwenasr_taskflow"
QUERY_QPS = 50


@dataclass(frozen=True)
class Datagram:
    """One StatsD line: ``airflow.qwen_asr.requests,endpoint=query,outcome=ok:1|c``."""

    name: str
    tags: dict[str, str]
    value: float
    kind: str

    @classmethod
    def parse(cls, line: str) -> Datagram:
        head, _, rest = line.rpartition(":")
        value, kind = rest.split("|")[:2]
        name, *pairs = head.split(",")
        return cls(name, dict(p.split("=", 1) for p in pairs), float(value), kind)


class StatsdListener:
    """A UDP socket on 127.0.0.1 that keeps every datagram it receives, until closed."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port: int = self.socket.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.packets.append(self.socket.recvfrom(65535)[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()

    def lines(self) -> list[str]:
        return [line for packet in self.packets for line in packet.decode().splitlines() if line]


@pytest.fixture
def statsd() -> Iterator[StatsdListener]:
    listener = StatsdListener()
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.add_dag(EXAMPLE)
    return home


def _served(emulator: Any) -> tuple[str, dict[str, Any], bytes]:
    """The run's only task: its id, its usage, and its result document exactly as served."""
    headers = {"Authorization": f"Bearer {EMULATOR_API_KEY}"}
    [item] = requests.get(f"{emulator.base_url}/tasks", headers=headers, timeout=10).json()["data"]
    body = requests.get(f"{emulator.base_url}/tasks/{item['task_id']}", headers=headers, timeout=10).json()
    document = requests.get(body["output"]["result"]["transcription_url"], timeout=10).content
    return item["task_id"], body["usage"], document


def test_every_metric_reaches_statsd_with_the_emulator_s_figures(
    home: AirflowHome, emulator: Any, statsd: StatsdListener, tmp_path: Path
) -> None:
    emulator.backend.faults.add("query", "status", status=429, count=1)
    emulator.backend.faults.add("query", "status", status=503, count=1)
    emulator.backend.faults.add("query", "drop", count=1)
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=QUERY_QPS),
        "AIRFLOW_VAR_QWENASR_OUTPUT_PATH": f"file://{tmp_path}/out",
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(statsd.port),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
    }
    result = home.dags_test(DAG_ID, env=env)
    result.assert_succeeded()
    task_id, usage, document = _served(emulator)
    lines = statsd.lines()

    ours = [Datagram.parse(line) for line in lines if line.startswith("airflow.qwen_asr.")]
    print("\n".join(line for line in lines if line.startswith("airflow.qwen_asr.")))
    by_name: dict[str, list[Datagram]] = defaultdict(list)
    for datagram in ours:
        by_name[datagram.name.removeprefix("airflow.")].append(datagram)
    assert set(by_name) == {m.name for m in metrics.METRICS}
    kinds = {"counter": "c", "gauge": "g", "timer": "ms"}
    for metric in metrics.METRICS:
        for datagram in by_name[metric.name]:
            assert datagram.kind == kinds[metric.kind], datagram
            assert sorted(datagram.tags) == sorted(metric.tags), datagram

    requests_by = defaultdict(float)
    for d in by_name[metrics.REQUESTS.name]:
        requests_by[d.tags["endpoint"], d.tags["outcome"]] += d.value
    assert requests_by["submit", "ok"] == 1
    assert requests_by["query", "ok"] > 0
    assert requests_by["query", "throttled"] == 1
    assert requests_by["query", "server_error"] == 1
    assert requests_by["query", "transport_error"] == 1
    assert ("query", "client_error") not in requests_by

    rates = [d for d in by_name[metrics.BUDGET_RATE.name] if d.tags["budget"] == "query"]
    port = emulator.base_url.split(":")[-1].split("/")[0]
    assert {d.tags["api_host"] for d in rates} == {f"127.0.0.1_{port}"}
    assert rates[0].value == QUERY_QPS  # a budget starts at its ceiling...
    assert QUERY_QPS / 2 in [d.value for d in rates]  # ...and the 429 halved it
    assert all(QUERY_QPS / 2 <= d.value <= QUERY_QPS for d in rates)

    [ended] = by_name[metrics.TRANSCRIPTIONS.name]
    assert (ended.tags, ended.value) == ({"outcome": "success", "waiter": "triggerer"}, 1)
    [delay] = by_name[metrics.WAIT_DETECTION_DELAY.name]
    assert delay.tags == {"outcome": "success", "waiter": "triggerer"}
    assert delay.value >= 0
    [billed] = by_name[metrics.BILLED_AUDIO_SECONDS.name]
    assert billed.tags == {"model": "qwen3-asr-flash-filetrans"}
    assert billed.value == usage["seconds"] > 0
    assert sum(d.value for d in by_name[metrics.RESULT_BYTES.name]) == len(document)

    fingerprint = ApiSettings(base_url=emulator.base_url, api_key=EMULATOR_API_KEY).key_fingerprint
    text = "\n".join(lines)
    for secret in (EMULATOR_API_KEY, fingerprint, task_id, "Signature", "Expires", "OSSAccessKeyId", "http"):
        assert secret not in text, secret
