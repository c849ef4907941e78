"""Turn manifests, task instances and transcript pages into template contexts (no I/O but outputs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request

from airflow_provider_qwenasr.output_signing import OutputOwner
from airflow_provider_qwenasr.ui import links
from airflow_provider_qwenasr.ui.manifest import (
    OUTPUT_MEDIA_TYPES,
    ManifestInvalid,
    OutputRefused,
    check_manifest,
    output_uri,
    readable_output,
)
from airflow_provider_qwenasr.ui.sentences import build_page, open_output, read_sentences
from airflow_provider_qwenasr.ui.store import ManifestRow
from airflow_provider_qwenasr.ui.timeline import clock, render_timeline

__all__ = ["FileTab", "duration", "list_row", "task_timeline", "transcript_context", "when"]

#: Download links, in this order.
DOWNLOAD_ORDER = ("txt", "srt", "vtt", "json", "jsonl")


def when(value: Any) -> str:
    """A timestamp (datetime or ISO text) as ``YYYY-MM-DD HH:MM:SS``; other values as text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return "" if value is None else str(value)


def duration(ms: Any) -> str:
    """An audio duration in ms, as ``m:ss.s``; ``—`` when unknown."""
    try:
        return clock(int(ms))
    except (TypeError, ValueError):
        return "—"


def task_timeline(ti: Any, manifest: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """The task's and the transcription's milestones that are known, in order."""
    m = manifest or {}
    steps = [
        ("Scheduled", getattr(ti, "scheduled_dttm", None)),
        ("Queued", getattr(ti, "queued_dttm", None)),
        ("Started", getattr(ti, "start_date", None)),
        ("Submitted to DashScope", m.get("submit_time")),
        ("Transcription ended", m.get("end_time")),
        ("Task ended", getattr(ti, "end_date", None)),
    ]
    return [(label, when(value)) for label, value in steps if value]


@dataclass(frozen=True)
class FileTab:
    """One input file of the manifest, as a tab."""

    index: int
    label: str
    status: str
    code: str | None
    message: str | None
    href: str


def _files(request: Request, manifest: Mapping[str, Any]) -> list[FileTab]:
    tabs = []
    for position, entry in enumerate(manifest.get("files") or []):
        if not isinstance(entry, Mapping):
            continue
        index = int(entry.get("index", position))
        label = str(entry.get("name") or f"file {index}")
        tabs.append(
            FileTab(
                index=index,
                label=label,
                status=str(entry.get("status") or ""),
                code=entry.get("code"),
                message=entry.get("message"),
                href=links.with_query(request.url.path, {"file": index}),
            )
        )
    return tabs


def _choose(tabs: list[FileTab], wanted: int | None) -> FileTab | None:
    if wanted is not None:
        return next((t for t in tabs if t.index == wanted), None)
    return next((t for t in tabs if t.status != "FAILED"), tabs[0] if tabs else None)


def transcript_context(
    request: Request,
    ti: Any,
    manifest: Mapping[str, Any],
    *,
    file: int | None,
    lane: str | None,
    page: int,
    size: int,
) -> dict[str, Any] | None:
    """The Transcript page's context; None when ``file`` names no file of the manifest."""
    tabs = _files(request, manifest)
    current = _choose(tabs, file)
    if current is None:
        return None
    entry = next(
        e
        for p, e in enumerate(manifest["files"])
        if isinstance(e, Mapping) and e.get("index", p) == current.index
    )
    key = (ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
    owner = OutputOwner(*key)
    downloads = []
    for fmt in DOWNLOAD_ORDER:
        try:
            output_uri(manifest, owner, current.index, fmt)
        except OutputRefused:
            continue
        downloads.append((fmt, links.download_path(request, *key, current.index, fmt)))
    totals = manifest.get("totals") if isinstance(manifest.get("totals"), Mapping) else {}
    context: dict[str, Any] = {
        "title": f"Transcript · {ti.task_id}",
        "ti": ti,
        "m": manifest,
        "timeline": task_timeline(ti, manifest),
        "duration": duration(entry.get("duration_ms", (totals or {}).get("duration_ms"))),
        "languages": list(entry.get("languages") or []),
        "emotions": list(entry.get("emotions") or []),
        "totals": totals,
        "files": tabs,
        "current": current,
        "downloads": downloads,
        "notice": None,
        "page": None,
        "lane": lane,
    }
    if current.status == "FAILED":
        return context
    try:
        fmt, uri = readable_output(manifest, owner, current.index)
    except OutputRefused as exc:
        context["notice"] = f"There is no text to show for this file: {exc}."
        return context
    try:
        with open_output(uri, manifest.get("output_conn_id")) as stream:
            result = build_page(
                read_sentences(fmt, stream),
                lane=lane,
                page=page,
                size=size,
                duration_ms=entry.get("duration_ms") if isinstance(entry.get("duration_ms"), int) else None,
            )
    except Exception as exc:  # any store's or parser's error: a notice, never a server error
        # ijson's and json's errors are ValueErrors; a vanished object is an OSError. The message
        # names the class only: a store's message may quote a URL or a credential.
        context["notice"] = f"The {fmt} output could not be read ({type(exc).__name__})."
        return context
    base = {"file": current.index if file is not None else None, "size": size if size != 100 else None}
    several = result.several_channels
    labels = {ln.key: ln.label(several) for ln in result.lanes}
    lane_links: list[tuple[str | None, str, str]] = [(None, "All", links.with_query(request.url.path, base))]
    lane_links += [(k, v, links.with_query(request.url.path, {**base, "lane": k})) for k, v in labels.items()]
    here = {**base, "lane": lane}
    context.update(
        page=result,
        languages=context["languages"] or result.languages,
        emotions=context["emotions"] or result.emotions,
        svg=render_timeline(result.lanes, result.duration_ms, several_channels=several),
        lane_links=lane_links if len(result.lanes) > 1 else [],
        lane_labels=labels,
        prev_href=links.with_query(request.url.path, {**here, "page": result.page - 1})
        if result.page > 1
        else None,
        next_href=(
            links.with_query(request.url.path, {**here, "page": result.page + 1})
            if result.page < result.pages
            else None
        ),
    )
    if context["duration"] == "—" and result.duration_ms:
        context["duration"] = duration(result.duration_ms)
    return context


def list_row(request: Request, row: ManifestRow) -> dict[str, Any]:
    """One line of the Transcriptions page (a malformed manifest shows as such, never an error)."""
    m = row.manifest
    try:
        check_manifest(m)
    except ManifestInvalid:
        m = {"asr_task_id": m.get("asr_task_id"), "status": "malformed manifest", "files": [], "outputs": []}
    totals = m.get("totals") if isinstance(m.get("totals"), Mapping) else {}
    files = [f for f in m.get("files") or [] if isinstance(f, Mapping)]
    languages: dict[str, None] = {}
    formats: set[str] = set()
    for f in files:
        languages.update(dict.fromkeys(str(lang) for lang in f.get("languages") or []))
        if isinstance(f.get("outputs"), Mapping):
            formats.update(k for k in f["outputs"] if k in OUTPUT_MEDIA_TYPES)
    ms = (totals or {}).get("duration_ms")
    if ms is None:
        ms = sum(int(f.get("duration_ms") or 0) for f in files) or None
    return {
        "when": when(m.get("end_time") or row.timestamp),
        "dag_id": row.dag_id,
        "run_id": row.run_id,
        "task_id": row.task_id,
        "map_index": row.map_index,
        "asr_task_id": m.get("asr_task_id"),
        "status": m.get("status") or "",
        "duration": duration(ms),
        "languages": list(languages),
        "characters": (totals or {}).get("characters", ""),
        "formats": sorted(formats),
        "run_href": links.ui_run(request, row.dag_id, row.run_id),
        "tab_href": links.ui_task_tab(request, row.dag_id, row.run_id, row.task_id, row.map_index),
    }
