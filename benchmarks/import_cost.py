"""What a DAG file pays to import the provider, over importing ``airflow.sdk`` alone.

Run ``python benchmarks/import_cost.py`` (``--runs 15`` by default). Each run is a fresh interpreter
that imports ``airflow.sdk`` first (every DAG file does), then times the provider's imports with
``time.perf_counter`` and counts the modules they added to ``sys.modules``; the median of the runs
is printed with the modules that ``python -X importtime`` finds heaviest in one more run. The
dag-processor pays this on every parse of a DAG file that uses the provider.

It prints figures; it never passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, machine_summary, median, print_table

#: What a DAG file writes: the operators and the sensor (and the fetch module when it exists).
DAG_IMPORTS = (
    "from airflow_provider_qwenasr.operators.qwen_asr import QwenASRSubmitTranscriptionOperator",
    "from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor",
)
OPTIONAL_MODULES = ("airflow_provider_qwenasr.operators.fetch",)
#: Modules whose presence after a DAG-file import means a heavy dependency leaked into parsing.
WATCH = ("httpx", "httpcore", "requests", "urllib3", "dashscope", "fsspec", "boto3", "openlineage")

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
{imports}
t2 = time.perf_counter()
added = sorted(set(sys.modules) - before)
print(json.dumps({{"sdk_ms": (t1 - t0) * 1000, "provider_ms": (t2 - t1) * 1000, "added": added,
                   "sdk_modules": len(before)}}))
"""


def _imports() -> list[str]:
    lines = list(DAG_IMPORTS)
    for module in OPTIONAL_MODULES:
        if (REPO / (module.replace(".", "/") + ".py")).exists():
            lines.append(f"import {module}")
    return lines


def _env() -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="qwenasr-import-home-")
    return {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "",
    }


def _one_run(imports: list[str], env: dict[str, str]) -> dict[str, object]:
    code = _PROBE.format(imports="\n".join(imports))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=REPO
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _heaviest(imports: list[str], env: dict[str, str], top: int) -> list[tuple[str, float, float]]:
    """(module, self ms, cumulative ms) of the heaviest imports ``-X importtime`` sees after airflow.sdk."""
    code = "import airflow.sdk\nimport sys\nprint('--- provider ---', file=sys.stderr)\n" + "\n".join(imports)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    after = done.stderr.split("--- provider ---", 1)[-1]
    rows = []
    for line in after.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            depth = len(match.group(3)) // 2
            rows.append((match.group(4), int(match.group(1)) / 1000, int(match.group(2)) / 1000, depth))
    rows.sort(key=lambda r: r[1], reverse=True)
    return [(name, self_ms, cumulative) for name, self_ms, cumulative, _ in rows[:top]]


def main(argv: list[str] | None = None) -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters to take the median of")
    parser.add_argument("--top", type=int, default=12, help="heaviest modules to list")
    args = parser.parse_args(argv)
    imports = _imports()
    env = _env()
    _one_run(imports, env)  # warm the bytecode cache and the page cache: we measure parses, not installs
    runs = [_one_run(imports, env) for _ in range(args.runs)]
    provider_ms = [float(r["provider_ms"]) for r in runs]  # type: ignore[arg-type]
    sdk_ms = [float(r["sdk_ms"]) for r in runs]  # type: ignore[arg-type]
    added: list[str] = list(runs[0]["added"])  # type: ignore[call-overload]
    ours = [m for m in added if m.startswith("airflow_provider_qwenasr")]
    print(f"Machine: {machine_summary()}")
    print("DAG-file imports measured:\n  " + "\n  ".join(imports))
    print_table(
        ["measure", "median", "min", "max"],
        [
            ["import airflow.sdk, ms", median(sdk_ms), min(sdk_ms), max(sdk_ms)],
            [
                "provider imports over airflow.sdk, ms",
                median(provider_ms),
                min(provider_ms),
                max(provider_ms),
            ],
            ["modules added by the provider imports", len(added), "", ""],
            ["  of them the provider's own", len(ours), "", ""],
            ["  of them third-party or airflow", len(added) - len(ours), "", ""],
        ],
        title=f"Import cost, {args.runs} fresh interpreters (target: under 50 ms over airflow.sdk)",
    )
    leaked = [w for w in WATCH if w in added]
    print(
        "\nHTTP, SDK or storage libraries pulled in by the DAG-file imports:",
        ", ".join(leaked) if leaked else "none",
    )
    print(f"Modules added: {', '.join(added)}")
    print_table(
        ["module", "self ms", "cumulative ms"],
        [list(row) for row in _heaviest(imports, env, args.top)],
        title="Heaviest imports after airflow.sdk (one run of python -X importtime)",
    )


if __name__ == "__main__":
    main()
