"""Fetching large results: our streaming path versus ``requests.get(url).json()`` then write.

Run ``python benchmarks/fetch_stream.py`` (``--help`` for the options). For each result size
(1, 50 and 200 MB by default: Qwen3 with ``enable_words``, the emulator's ``audio_seconds`` hint
chosen to give that size) and each destination (``file://`` and a local moto S3 on 127.0.0.1), it
fetches the same task with two variants, each in a *fresh* child process so that the peak RSS
(``ru_maxrss``) is that variant's alone:

* ``ours``: :func:`~airflow_provider_qwenasr.results.fetch_transcription_outputs`: the result is
  streamed to a temporary file, scanned and rendered with ijson, and each output written atomically.
* ``naive``: ``requests.get(url).json()``, ``Transcription.from_dict``, then each output rendered in
  memory and written with ``ObjectStoragePath.write_bytes``/``write_text``.

Both write the same formats; each set of ``--formats`` (default ``json,txt`` and ``json,txt,srt,vtt``)
is a separate row. ``--baseline REV`` adds a third variant, ``baseline``: ``ours`` as the commit
``REV`` has it (``git archive`` into the work folder, put first on the child's ``PYTHONPATH``), so an
optimisation is measured against the code before it in the same run. ``--repeat N`` runs every
variant N times, interleaved (baseline, ours, naive, baseline, …, so a change in the machine's load
touches all alike), and the table shows each variant's median, with the spread of the runs. The
emulator runs in its own process and moto in this one, so neither's CPU or memory counts against a
variant. Throughput is result bytes over the child's wall time from the task query to the last
write (interpreter start and imports excluded); CPU seconds are the child's own over the same
span (``time.process_time``), the steadier figure on a shared machine, where wall time also counts
waiting for a core. It prints figures; it never passes or fails.

Peak RSS is the child's ``VmHWM`` (``/proc/self/status``), not ``ru_maxrss``: Python starts the child
with ``vfork`` + ``exec``, and Linux then carries the *parent's* peak RSS into the child's
``ru_maxrss`` (``exec`` records the old address space's high-water mark, which under ``vfork`` is the
parent's). The parent holds moto and every object the S3 rows upload, so ``ru_maxrss`` reported the
harness, not the variant: 498 MiB for ``ours`` at 200 MB once a 50 MB naive S3 row had run, against
~158 MiB alone. Both figures are printed per row (``ru_maxrss`` among the stages) to show it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    API_KEY,
    EmulatorProcess,
    connection_json,
    machine_summary,
    peak_rss_mb,
    print_table,
    rss_mb,
)

BUCKET = "bench"
AWS_CONN_ID = "aws_bench"
#: Bytes of result per second of audio: Qwen3, one channel, enable_words (measured on the emulator).
BYTES_PER_AUDIO_SECOND = 190.0


def own_peak_rss_mb() -> float:
    """This process's own peak RSS in MiB: the high-water mark of its address space (``VmHWM``).

    Unlike ``ru_maxrss``, it starts from zero at ``exec``, so the parent's peak does not leak in.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()  # not Linux: the best there is


def _child(args: argparse.Namespace) -> None:
    """Fetch once with one variant and print the figures as one JSON line."""
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

    formats = tuple(args.formats.split(","))
    conn_id = AWS_CONN_ID if args.dest.startswith("s3://") else None
    from airflow.sdk import ObjectStoragePath

    hook = QwenASRHook()
    # Connect to the store first (S3 credentials, region): a fixed cost both variants would pay.
    _ = ObjectStoragePath(args.dest, conn_id=conn_id).fs
    before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    task = hook.get_task(args.task)
    stages: dict[str, float] = {}
    if args.child in ("ours", "baseline"):
        import airflow_provider_qwenasr.formats as renderers
        import airflow_provider_qwenasr.results.parse as parse
        from airflow_provider_qwenasr.results import fetch_transcription_outputs

        # Peak RSS after each stage (download, scan, the rendering), to tell where memory goes. The
        # rendering is one pass for every format (write_all); a baseline before it rendered each
        # format with write.
        download, scan = hook.download_result, parse.scan_result
        one_pass = hasattr(renderers, "write_all")
        render = renderers.write_all if one_pass else renderers.write

        def traced_download(*a: Any, **k: Any) -> int:
            result = download(*a, **k)
            stages["download"] = own_peak_rss_mb()
            return result

        def traced_scan(*a: Any, **k: Any) -> Any:
            result = scan(*a, **k)
            stages["scan"] = own_peak_rss_mb()
            return result

        def traced_render(*a: Any, **k: Any) -> Any:
            result = render(*a, **k)
            stages["render" if one_pass else a[0]] = own_peak_rss_mb()
            return result

        hook.download_result = traced_download  # type: ignore[method-assign]
        parse.scan_result = traced_scan
        if one_pass:
            renderers.write_all = traced_render
        else:
            renderers.write = traced_render

        manifest = fetch_transcription_outputs(
            hook, task, output_path=args.dest, output_conn_id=conn_id, output_formats=formats
        )
        size = manifest["files"][0]["result_bytes"]
    else:
        import requests

        from airflow_provider_qwenasr import formats as renderers
        from airflow_provider_qwenasr.models import Transcription

        url = task.files[0].transcription_url
        assert url
        response = requests.get(url, timeout=600)
        document = response.json()
        size = len(response.content)
        model = Transcription.from_dict(document)
        root = ObjectStoragePath(args.dest, conn_id=conn_id) / task.task_id
        root.mkdir(parents=True, exist_ok=True)
        encoded = json.dumps(document, ensure_ascii=False).encode("utf-8")
        for fmt in formats:
            target = root / f"naive.{fmt}"
            if fmt == "json":
                target.write_bytes(encoded)
            else:
                target.write_text(renderers.render(fmt, model), encoding="utf-8")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    # ru_maxrss includes the parent's peak (see the module docstring): kept to show the difference.
    stages["ru_maxrss"] = peak_rss_mb()
    print(
        "RESULT="
        + json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "bytes": size,
                "rss_before_mb": before,
                "peak_rss_mb": own_peak_rss_mb(),
                "stages": stages,
            }
        )
    )


def _run_child(variant: str, task_id: str, dest: str, env: dict[str, str], formats: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--task",
        task_id,
        "--dest",
        dest,
        "--formats",
        formats,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT="):
            return dict(json.loads(line[len("RESULT=") :]))
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {done.returncode}: {' | '.join(tail)[-300:]}"}


def _prepare_task(emulator: EmulatorProcess, size_mb: float) -> str:
    """Submit a Qwen3 task whose result is about ``size_mb``, wait for it, and warm its result file."""
    import httpx

    seconds = max(1, round(size_mb * 1_000_000 / BYTES_PER_AUDIO_SECOND))
    headers = {"Authorization": f"Bearer {API_KEY}"}
    body = {
        "model": "qwen3-asr-flash-filetrans",
        "input": {"file_url": f"https://bench.test/audio/long-{size_mb:g}mb.wav?audio_seconds={seconds}"},
        "parameters": {"enable_words": True},
    }
    with httpx.Client(timeout=600) as client:
        submitted = client.post(
            f"{emulator.base_url}/services/audio/asr/transcription",
            json=body,
            headers={**headers, "X-DashScope-Async": "enable"},
        ).json()
        task_id = submitted["output"]["task_id"]
        emulator.control("POST", "clock", {"advance_seconds": 60})
        output = client.get(f"{emulator.base_url}/tasks/{task_id}", headers=headers).json()["output"]
        assert output["task_status"] == "SUCCEEDED", output
        # The emulator writes a result on first download; do it now so no variant pays for it.
        with client.stream("GET", output["result"]["transcription_url"]) as response:
            for _ in response.iter_bytes(1 << 20):
                pass
    return str(task_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,50,200", help="result sizes in MB (comma-separated)")
    parser.add_argument(
        "--formats",
        default="json,txt;json,txt,srt,vtt",
        help="sets of output formats both variants write, separated by ';' (one row per set)",
    )
    parser.add_argument("--destinations", default="file,s3", help="file, s3, or both")
    parser.add_argument("--variants", default="ours,naive")
    parser.add_argument("--baseline", help="a git revision: adds the variant 'baseline', ours at that commit")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant (the table shows medians)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--dest", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    print(machine_summary())
    work = Path(tempfile.mkdtemp(prefix="qwenasr-fetch-bench-"))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=BUCKET)
    rows: list[list[object]] = []
    env_of: dict[str, dict[str, str]] = {}
    try:
        with EmulatorProcess(
            query_qps=0, extra_args=("--pending-seconds", "0", "--running-seconds", "0")
        ) as emulator:
            env = {
                **os.environ,
                "AIRFLOW_HOME": str(work / "airflow-home"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url),
                f"AIRFLOW_CONN_{AWS_CONN_ID.upper()}": json.dumps(
                    {
                        "conn_type": "aws",
                        "login": "bench",
                        "password": "bench",
                        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
                    }
                ),
            }
            variants = args.variants.split(",")
            if args.baseline:
                env_of["baseline"] = {**env, "PYTHONPATH": str(_baseline_tree(args.baseline, work))}
                variants = ["baseline", *variants]
            format_sets = [f for f in args.formats.split(";") if f.strip()]
            for size_mb in (float(s) for s in args.sizes.split(",")):
                task_id = _prepare_task(emulator, size_mb)
                for formats, destination in itertools.product(format_sets, args.destinations.split(",")):
                    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
                    for _, variant in itertools.product(range(args.repeat), variants):
                        dest = (
                            (work / "out" / variant).as_uri()
                            if destination == "file"
                            else f"s3://{BUCKET}/{variant}"
                        )
                        figures = _run_child(variant, task_id, dest, env_of.get(variant, env), formats)
                        runs[variant].append(figures)
                        # The harness's own peak: what ru_maxrss would have blamed on the child.
                        print(
                            f"{size_mb:g} MB {formats} {destination} {variant}:",
                            {k: v for k, v in figures.items() if k != "stages"},
                            figures.get("stages", ""),
                            f"harness peak {peak_rss_mb():.0f} MiB",
                            flush=True,
                        )
                        _clean(work, s3)
                    rows.extend(_rows([f"{size_mb:g}", formats, destination], runs))
    finally:
        moto.stop()
    print_table(
        [
            "target MB",
            "formats",
            "destination",
            "variant",
            "result MB",
            "seconds (median)",
            "runs (s)",
            "time / naive",
            "CPU s (median)",
            "CPU / naive",
            "MB/s",
            "RSS before MiB",
            "peak RSS MiB",
            "RSS / naive",
        ],
        rows,
        title=f"Fetch of one Qwen3 result with words: median of {args.repeat} run(s) per variant, "
        "interleaved (peak RSS: the child's own VmHWM)",
    )


def _rows(head: list[object], runs: dict[str, list[dict[str, Any]]]) -> list[list[object]]:
    """One row per variant: its median time and peak RSS, and both as a ratio to the naive path's."""
    medians: dict[str, tuple[float, float, float]] = {}
    for variant, figures in runs.items():
        good = [f for f in figures if "error" not in f]
        if good:
            medians[variant] = (
                statistics.median(f["seconds"] for f in good),
                statistics.median(f["peak_rss_mb"] for f in good),
                statistics.median(f["cpu_seconds"] for f in good),
            )
    naive = medians.get("naive")
    rows: list[list[object]] = []
    for variant, figures in runs.items():
        errors = [f["error"] for f in figures if "error" in f]
        if variant not in medians:
            rows.append([*head, variant, errors[0] if errors else "no run", *[""] * 10])
            continue
        seconds, peak, cpu = medians[variant]
        good = [f for f in figures if "error" not in f]
        mb = good[0]["bytes"] / 1e6
        rows.append(
            [
                *head,
                variant,
                round(mb, 1),
                seconds,
                " ".join(f"{f['seconds']:.1f}" for f in good) + (f" +{len(errors)} failed" if errors else ""),
                f"{seconds / naive[0]:.2f}" if naive else "",
                cpu,
                f"{cpu / naive[2]:.2f}" if naive else "",
                mb / seconds,
                statistics.median(f["rss_before_mb"] for f in good),
                peak,
                f"{peak / naive[1]:.3f}" if naive else "",
            ]
        )
    return rows


def _baseline_tree(revision: str, work: Path) -> Path:
    """The package as commit ``revision`` has it, extracted under ``work`` (for the child's PYTHONPATH)."""
    tree = work / "baseline"
    tree.mkdir()
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", revision, "airflow_provider_qwenasr"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _clean(work: Path, s3: Any) -> None:
    """Delete what a variant wrote, so moto's memory and the disk do not grow across runs."""
    import shutil

    shutil.rmtree(work / "out", ignore_errors=True)
    listing = s3.list_objects_v2(Bucket=BUCKET)
    for item in listing.get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])


if __name__ == "__main__":
    main()
