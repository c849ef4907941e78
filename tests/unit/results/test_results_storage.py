"""Atomic writes through ObjectStoragePath: a reader sees the old file or the new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_qwenasr.results.storage import object_uri, output_root, publish_file


def test_local_publish_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    """file:// writes land under the final name, overwrite on re-run, and leave no .part file."""
    source = tmp_path / "src.txt"
    root = output_root((tmp_path / "out").as_uri(), None)
    dest = root / "task-1" / "meeting.txt"
    for content in ("first\n", "second\n"):
        source.write_text(content)
        publish_file(source, dest)
        assert Path(dest.path).read_text() == content
    assert sorted(p.name for p in Path(dest.path).parent.iterdir()) == ["meeting.txt"]
    assert object_uri(dest) == (tmp_path / "out" / "task-1" / "meeting.txt").as_uri()


def test_bare_paths_are_local(tmp_path: Path) -> None:
    """A path without a scheme is the local file system, shown as a file:// URI."""
    dest = output_root(str(tmp_path), None) / "x.json"
    assert object_uri(dest) == (tmp_path / "x.json").as_uri()


def test_a_failed_copy_leaves_the_old_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash while copying keeps the previous file intact and removes the temporary one."""
    import shutil

    source = tmp_path / "src.txt"
    source.write_text("old\n")
    dest = output_root(str(tmp_path / "out"), None) / "a.txt"
    publish_file(source, dest)
    source.write_text("new\n")

    def broken_copy(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfileobj", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        publish_file(source, dest)
    assert Path(dest.path).read_text() == "old\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.txt"]


def test_remote_uris_carry_no_connection_id() -> None:
    """The manifest shows s3://bucket/key, not the s3://conn@bucket/key ObjectStoragePath prints."""
    from airflow.sdk import ObjectStoragePath

    path = ObjectStoragePath("s3://bucket/prefix/t/a.json")
    assert object_uri(path) == "s3://bucket/prefix/t/a.json"
