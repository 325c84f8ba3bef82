"""The master key and the document storage come from the environment; bad values stop
the process naming the variable, and the embedded default makes a key file once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qiyue.lib.crypto import Keyring, fingerprint

PRINT = (
    "import json, qiyue.settings as s; "
    "print(json.dumps({'current': s.MASTER_KEYRING.current, 'ids': list(s.MASTER_KEYRING.keys), "
    "'documents': s.STORAGES['documents'], 'max': s.UPLOAD_MAX_BYTES, "
    "'apps': s.INSTALLED_APPS}))"
)


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("QIYUE_", "AWS_"))}
    clean.pop("DATABASE_URL", None)
    clean["QIYUE_DATA_DIR"] = str(tmp_path / "data")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_first_run_generates_a_private_master_key_file_once_and_says_where(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "data" / "master.key"
    assert str(key_file.resolve()) in first.stderr
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = _run(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "master key" not in second.stderr
    assert json.loads(first.stdout)["current"] == json.loads(second.stdout)["current"]
    assert Keyring.parse(key_file.read_text()).current == json.loads(first.stdout)["current"]


def test_defaults_store_documents_in_the_data_folder_with_a_100_mb_limit(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert "qiyue.documents" in values["apps"]
    assert values["max"] == 100 * 1024 * 1024
    documents = values["documents"]
    assert documents["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert documents["OPTIONS"]["location"] == str((tmp_path / "data" / "blobs").resolve())


def test_master_keys_from_the_environment_first_one_current(tmp_path: Path) -> None:
    new, old = Keyring.generate_spec("new"), Keyring.generate_spec()
    result = _run(tmp_path, QIYUE_MASTER_KEY=f"{new},{old.split(':', 1)[1]}")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["current"] == "new"
    assert values["ids"] == ["new", old.split(":", 1)[0]]
    assert not (tmp_path / "data" / "master.key").exists()


def test_master_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    spec = Keyring.generate_spec()
    key_file.write_text(spec.split(":", 1)[1] + "\n")
    result = _run(tmp_path, QIYUE_MASTER_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["current"] == spec.split(":", 1)[0]
    assert spec.split(":", 1)[0] == fingerprint(Keyring.parse(spec).current_key)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"QIYUE_MASTER_KEY": "too-short"}, "QIYUE_MASTER_KEY"),
        ({"QIYUE_MASTER_KEY_FILE": "/nonexistent/qiyue.key"}, "QIYUE_MASTER_KEY_FILE"),
        ({"QIYUE_MASTER_KEY": "x", "QIYUE_MASTER_KEY_FILE": "/y"}, "QIYUE_MASTER_KEY_FILE"),
        ({"QIYUE_STORAGE_URL": "ftp://files.example/blobs"}, "QIYUE_STORAGE_URL"),
        ({"QIYUE_STORAGE_URL": "s3://bucket?endpont=http://x"}, "QIYUE_STORAGE_URL"),
        ({"QIYUE_STORAGE_URL": "s3://key:secret@bucket"}, "QIYUE_STORAGE_URL"),
        ({"QIYUE_UPLOAD_MAX_BYTES": "lots"}, "QIYUE_UPLOAD_MAX_BYTES"),
    ],
)
def test_a_bad_key_or_storage_setting_stops_the_process_naming_it(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = _run(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_an_s3_url_selects_django_storages_with_credentials_from_the_environment(
    tmp_path: Path,
) -> None:
    result = _run(
        tmp_path,
        QIYUE_STORAGE_URL="s3://contracts/qiyue?endpoint=http://127.0.0.1:9000&region=cn-north-1",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="not-in-settings",
    )
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)["documents"]
    assert documents["BACKEND"] == "storages.backends.s3.S3Storage"
    options = documents["OPTIONS"]
    assert options["bucket_name"] == "contracts"
    assert options["location"] == "qiyue"
    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert options["region_name"] == "cn-north-1"
    assert "not-in-settings" not in result.stdout  # boto3 reads it from the environment
