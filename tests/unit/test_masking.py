"""Signed URL queries cut from the documents the provider writes, byte for byte elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_qwenasr import masking
from airflow_provider_qwenasr.masking import copy_without_url_queries

SIGNED = "https://b.oss-cn-beijing.aliyuncs.com/a b/x.wav?OSSAccessKeyId=LTAIkey&Expires=1&Signature=s%2Bg%3D"
SHOWN = "https://b.oss-cn-beijing.aliyuncs.com/a b/x.wav?…"
EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "result-example.json"


def _document(file_url_token: str, filler: int = 0) -> bytes:
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    body["file_url"] = "@@"
    body["note"] = "x" * filler
    text = json.dumps(body, ensure_ascii=False, indent=2)
    return text.replace('"@@"', file_url_token).encode("utf-8")


@pytest.mark.parametrize(
    "token",
    [json.dumps(SIGNED), json.dumps(SIGNED).replace("/", "\\/"), json.dumps(SIGNED).replace("&", "\\u0026")],
    ids=["plain", "escaped-slashes", "escaped-ampersands"],
)
@pytest.mark.parametrize("chunk", [7, 64, 1 << 20], ids=["tiny-chunks", "small-chunks", "one-chunk"])
def test_the_query_is_cut_however_the_service_encoded_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str, chunk: int
) -> None:
    monkeypatch.setattr(masking, "_CHUNK", chunk)
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_bytes(_document(token, filler=500))
    assert copy_without_url_queries(source, target, [SIGNED])
    out = target.read_bytes()
    assert b"LTAIkey" not in out
    assert b"Signature" not in out
    expected = json.loads(source.read_bytes())
    expected["file_url"] = SHOWN
    assert json.loads(out) == expected
    # Only the token changed: everything around it is the original bytes.
    original = source.read_bytes()
    cut = original.index(token.encode())
    assert out[:cut] == original[:cut]
    assert out.endswith(original[cut + len(token.encode()) :])


def test_a_repeated_url_is_cut_everywhere_across_chunk_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(masking, "_CHUNK", 5)
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps({"file_url": SIGNED, "again": [SIGNED] * 50}), encoding="utf-8")
    assert copy_without_url_queries(source, target, [SIGNED])
    assert json.loads(target.read_bytes()) == {"file_url": SHOWN, "again": [SHOWN] * 50}


def test_without_a_query_nothing_is_copied(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_bytes(_document(json.dumps("https://example.com/a.wav")))
    assert not copy_without_url_queries(source, target, ["https://example.com/a.wav", None])
    assert not target.exists()


def test_the_documents_own_file_url_is_cut_even_when_the_query_named_another_url(tmp_path: Path) -> None:
    """A service that normalised the URL (reordered its query) still has its own token found and cut."""
    reordered = "https://h.example/a.wav?Signature=zzzz&Expires=1"
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_bytes(_document(json.dumps(reordered)))
    assert copy_without_url_queries(source, target, ["https://h.example/a.wav?Expires=1&Signature=zzzz"])
    assert json.loads(target.read_bytes())["file_url"] == "https://h.example/a.wav?…"
