"""Nothing of OpenLineage loads when a DAG file is parsed, even with the OpenLineage provider installed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.airflow_runner import fresh_interpreter_json

EXAMPLE = Path(__file__).resolve().parents[3] / "example_dags" / "example_qwenasr_lineage.py"

_PROBE = f"""
import json, runpy, sys
runpy.run_path({json.dumps(str(EXAMPLE))})
import airflow_provider_qwenasr.operators.qwen_asr
import airflow_provider_qwenasr.sensors.qwen_asr
# Airflow's own provider discovery reads every installed provider's info: that is not a load.
discovery = ("airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info")
ours = "airflow_provider_qwenasr.lineage.facets"
loaded = sorted(m for m in sys.modules if ("openlineage" in m or m == ours) and m not in discovery)
print("LOADED=" + json.dumps(loaded))
"""


def test_parsing_the_lineage_example_imports_no_openlineage() -> None:
    assert fresh_interpreter_json(_PROBE, "LOADED=") == []
