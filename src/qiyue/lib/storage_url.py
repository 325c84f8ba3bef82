"""``QIYUE_STORAGE_URL`` → a Django ``STORAGES`` entry (pure; no Django import).

- empty → a local folder (the default passed in, ``DATA_DIR/blobs``)
- ``file:///srv/qiyue/blobs`` or an absolute path → that local folder
- ``s3://bucket[/prefix]?endpoint=https://…&region=…&addressing=path|virtual`` → S3 or any
  S3-compatible service (MinIO, Ceph, OSS, COS…) through django-storages. Credentials are
  never part of the URL: boto3 reads ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (or
  an instance role) from the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from qiyue.lib.env import EnvError

S3_PARAMS = {"endpoint", "region", "addressing"}


def storage_from_url(name: str, url: str, default_location: Path) -> dict[str, Any]:
    if not url:
        return _local(default_location)
    if url.startswith("/"):
        return _local(Path(url))
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise EnvError(f"{name}={url!r}: use file:///absolute/path")
        return _local(Path(parts.path))
    if parts.scheme != "s3":
        raise EnvError(f"{name}={url!r}: use s3://bucket?endpoint=… or file:///path")
    if parts.username or parts.password:
        raise EnvError(
            f"{name}: put credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, not in the URL"
        )
    bucket = parts.hostname or ""
    if not bucket:
        raise EnvError(f"{name}={url!r} names no bucket (s3://bucket?...)")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = set(query) - S3_PARAMS
    if unknown:
        raise EnvError(
            f"{name} has unknown parameters {', '.join(sorted(unknown))}; "
            f"use {', '.join(sorted(S3_PARAMS))}"
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": parts.path.strip("/"),
        "file_overwrite": True,  # names are generated and unique: no HEAD per upload
        "default_acl": None,
        "querystring_auth": True,
    }

    def one(key: str) -> str | None:
        values = query.get(key)
        if not values:
            return None
        if len(values) > 1 or not values[0]:
            raise EnvError(f"{name}: give {key}= once, with a value")
        return values[0]

    endpoint = one("endpoint")
    if endpoint is not None:
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise EnvError(f"{name}: endpoint must be an http:// or https:// URL")
        options["endpoint_url"] = endpoint
    region = one("region")
    if region is not None:
        options["region_name"] = region
    addressing = one("addressing")
    if addressing is not None:
        if addressing not in ("path", "virtual"):
            raise EnvError(f"{name}: addressing must be path or virtual")
        options["addressing_style"] = addressing
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def _local(location: Path) -> dict[str, Any]:
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(location),
            "base_url": None,  # blobs are never served directly
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
