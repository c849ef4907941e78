"""Dataset names follow OpenLineage's naming spec, and never carry a query, a fragment or credentials."""

from __future__ import annotations

import pytest

from airflow_provider_qwenasr.lineage.naming import DatasetName, dataset_name, dataset_names


@pytest.mark.parametrize(
    ("location", "namespace", "name"),
    [
        pytest.param("s3://bucket/calls/a.wav", "s3://bucket", "calls/a.wav", id="s3"),
        pytest.param("s3a://bucket/a.wav", "s3://bucket", "a.wav", id="s3a-as-s3"),
        pytest.param("s3://bucket", "s3://bucket", "/", id="s3-bucket-root"),
        pytest.param("gs://bucket/a.wav", "gs://bucket", "a.wav", id="gcs"),
        pytest.param("gcs://bucket/a.wav", "gs://bucket", "a.wav", id="gcs-as-gs"),
        pytest.param("oss://dashscope-instant/key/a.wav", "oss://dashscope-instant", "key/a.wav", id="oss"),
        pytest.param(
            "abfss://box@acct.dfs.core.windows.net/a.wav",
            "abfss://box@acct.dfs.core.windows.net",
            "a.wav",
            id="azure-keeps-its-container",
        ),
        pytest.param("file:///data/out/a.txt", "file", "/data/out/a.txt", id="file"),
        pytest.param("/data/a.wav", "file", "/data/a.wav", id="local-path"),
        pytest.param("file://localhost/data/a.wav", "file", "/data/a.wav", id="file-localhost"),
        pytest.param("file://nas/data/a.wav", "file://nas", "/data/a.wav", id="file-remote-host"),
        pytest.param(
            "https://b.oss-cn-beijing.aliyuncs.com/a.wav?OSSAccessKeyId=K&Signature=S",
            "https://b.oss-cn-beijing.aliyuncs.com",
            "/a.wav",
            id="signed-https-without-query",
        ),
        pytest.param(
            "https://user:pw@Host.example:8443/a.wav#t=1", "https://host.example:8443", "/a.wav", id="creds"
        ),
        pytest.param("https://host.example:443/a.wav", "https://host.example", "/a.wav", id="default-port"),
        pytest.param("http://127.0.0.1:8765", "http://127.0.0.1:8765", "/", id="no-path"),
        pytest.param("s3://key:secret@bucket/a.wav", "s3://bucket", "a.wav", id="s3-creds"),
    ],
)
def test_dataset_names_follow_the_spec(location: str, namespace: str, name: str) -> None:
    assert dataset_name(location) == DatasetName(namespace, name)


@pytest.mark.parametrize("location", ["", "   ", "https:///a.wav", "s3://", "https://[::1/a.wav", "file://"])
def test_a_location_that_names_no_dataset_gives_none(location: str) -> None:
    assert dataset_name(location) is None


def test_dataset_names_skip_empties_and_keep_each_once_in_order() -> None:
    found = dataset_names(["s3://b/2.wav", None, "", "s3://b/1.wav", "s3://b/2.wav?x=1"])
    assert found == [DatasetName("s3://b", "2.wav"), DatasetName("s3://b", "1.wav")]
