"""QIYUE_STORAGE_URL picks the document storage: a local folder or S3-compatible."""

from __future__ import annotations

from pathlib import Path

import pytest

from qiyue.lib.env import EnvError
from qiyue.lib.storage_url import storage_from_url

DEFAULT = Path("/srv/qiyue/blobs")


def test_empty_means_the_local_default_folder() -> None:
    config = storage_from_url("X", "", DEFAULT)
    assert config["BACKEND"].endswith("FileSystemStorage")
    assert config["OPTIONS"]["location"] == str(DEFAULT)


@pytest.mark.parametrize("url", ["file:///data/blobs", "/data/blobs"])
def test_a_file_url_or_absolute_path_is_a_local_folder(url: str) -> None:
    assert storage_from_url("X", url, DEFAULT)["OPTIONS"]["location"] == "/data/blobs"


def test_s3_url_with_prefix_endpoint_region_and_addressing() -> None:
    config = storage_from_url(
        "X", "s3://docs/a/b?endpoint=https://oss.example&region=r1&addressing=path", DEFAULT
    )
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (
        config["OPTIONS"].items()
        >= {
            "bucket_name": "docs",
            "location": "a/b",
            "endpoint_url": "https://oss.example",
            "region_name": "r1",
            "addressing_style": "path",
        }.items()
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/blobs",
        "file://host/blobs",
        "relative/blobs",
        "s3://",
        "s3://b?endpoint=",
        "s3://b?endpoint=ftp://x",
        "s3://b?region=a&region=b",
        "s3://b?addressing=sideways",
        "s3://b?acl=public-read",
        "s3://user:pw@b",
    ],
)
def test_bad_urls_fail_loudly_naming_the_variable(url: str) -> None:
    with pytest.raises(EnvError, match="QIYUE_STORAGE_URL"):
        storage_from_url("QIYUE_STORAGE_URL", url, DEFAULT)
