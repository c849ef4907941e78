"""Renderer usage shown in docs/formats.md; tests/unit/test_docs.py runs this file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from airflow_provider_qwenasr.models import Transcription

SEED = Path(__file__).resolve().parents[3] / "shared" / "result-example.json"
transcription = Transcription.from_dict(json.loads(SEED.read_text(encoding="utf-8")))
workdir = Path(tempfile.mkdtemp())

# [START formats_render]
from airflow_provider_qwenasr.formats import render, write_srt

with open(workdir / "talk.srt", "w", encoding="utf-8") as out:
    write_srt(transcription.channel_sentences(), out, max_line_chars=42, max_lines=2)
text = render("txt", transcription)
# [END formats_render]
assert "Senior staff" in text
assert (workdir / "talk.srt").read_text(encoding="utf-8").startswith("1\n")
