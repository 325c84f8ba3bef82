"""Blob store fixtures: the same tests run on the local folder and on a real S3 API
(moto's standalone server, started once per test session — per xdist worker)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from qiyue.lib.crypto import Keyring

S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Backend:
    """One storage backend under test, with ways to look at it from outside Qiyue."""

    kind: str
    files: Callable[[], dict[str, bytes]]  # every stored object, name → bytes
    overwrite: Callable[[str, bytes], None]  # replace an object's bytes (tampering)
    remove: Callable[[str], None]  # delete an object behind Qiyue's back
    env: dict[str, str]  # the same storage as environment variables, for a subprocess


@pytest.fixture
def keyring(settings: Any) -> Keyring:
    ring = Keyring.parse(Keyring.generate_spec("test1"))
    settings.MASTER_KEYRING = ring
    return ring


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, settings: Any, tmp_path: Path, keyring: Any) -> Backend:
    settings.DATA_DIR = tmp_path / "data"
    if request.param == "local":
        root = tmp_path / "blobs"
        config: dict[str, Any] = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "file_permissions_mode": 0o600},
        }

        def files() -> dict[str, bytes]:
            return {
                p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*"))
                if p.is_file()
            }

        def overwrite(name: str, data: bytes) -> None:
            (root / name).write_bytes(data)

        def remove(name: str) -> None:
            (root / name).unlink()

        result = Backend("local", files, overwrite, remove, {"QIYUE_STORAGE_URL": str(root)})
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = f"qiyue-test-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=bucket)
        prefix = "qiyue/blobs/"
        config = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **S3_CREDENTIALS,
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "location": prefix.rstrip("/"),
                "file_overwrite": True,
            },
        }

        def files() -> dict[str, bytes]:
            found = {}
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                    found[obj["Key"].removeprefix(prefix)] = body
            return found

        def overwrite(name: str, data: bytes) -> None:
            client.put_object(Bucket=bucket, Key=prefix + name, Body=data)

        def remove(name: str) -> None:
            client.delete_object(Bucket=bucket, Key=prefix + name)

        env = {
            "QIYUE_STORAGE_URL": f"s3://{bucket}/{prefix}?endpoint={endpoint}&region=us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        result = Backend("s3", files, overwrite, remove, env)
    settings.STORAGES = {**settings.STORAGES, "documents": config}
    return result
