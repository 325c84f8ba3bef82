"""Settings come from the environment only; bad values stop the process loudly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

PRINT_DB = (
    "import json, qiyue.settings as s; "
    "print(json.dumps({'db': s.DATABASES['default'], 'debug': s.DEBUG, "
    "'age': s.SESSION_COOKIE_AGE, 'hosts': s.ALLOWED_HOSTS}, default=str))"
)


def _run(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QIYUE_")}
    clean.pop("DATABASE_URL", None)
    clean["QIYUE_DATA_DIR"] = str(tmp_path / "data")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QIYUE_DEBUG", "ture"),
        ("QIYUE_HTTPS", "maybe"),
        ("QIYUE_SESSION_AGE", "abc"),
        ("QIYUE_SESSION_AGE", "10"),
        ("QIYUE_LOGIN_MAX_FAILURES", "0"),
        ("QIYUE_LANGUAGE", "fr"),
        ("QIYUE_LOG_LEVEL", "loud"),
        ("QIYUE_API_PAGE_SIZE_MAX", "100000"),
        ("QIYUE_ALLOWED_HOSTS", "a.example,,b.example"),
    ],
)
def test_a_bad_value_stops_the_process_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    result = _run(tmp_path, "import qiyue.settings", **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_defaults_select_sqlite_with_wal_and_immediate_transactions(tmp_path: Path) -> None:
    result = _run(tmp_path, PRINT_DB)
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    db = settings["db"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str((tmp_path / "data" / "qiyue.sqlite3").resolve())
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert settings["debug"] is False
    assert settings["age"] == 8 * 3600
    assert "localhost" in settings["hosts"]


def test_good_values_are_read(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        PRINT_DB,
        QIYUE_DEBUG="yes",
        QIYUE_SESSION_AGE="3600",
        QIYUE_ALLOWED_HOSTS="qiyue.example.com, intranet",
    )
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    assert settings["debug"] is True
    assert settings["age"] == 3600
    assert settings["hosts"] == ["qiyue.example.com", "intranet"]


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        PRINT_DB,
        DATABASE_URL="postgres://qiyue:secret@db.example:5433/qiyue",
        QIYUE_TEST_DATABASE="test_x",
    )
    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "db.example",
        5433,
        "qiyue",
        "qiyue",
    )
    assert db["TEST"]["NAME"] == "test_x"
    assert "transaction_mode" not in db.get("OPTIONS", {})


def test_the_data_dir_is_created_and_keeps_a_generated_secret_key(tmp_path: Path) -> None:
    code = "import qiyue.settings as s; print(s.SECRET_KEY)"
    first = _run(tmp_path, code)
    second = _run(tmp_path, code)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    key_file = tmp_path / "data" / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
@pytest.mark.django_db
def test_the_sqlite_test_database_runs_in_wal_mode() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
        cursor.execute("PRAGMA mmap_size")  # SQLite may cap it lower (its build's maximum)
        assert cursor.fetchone()[0] > 0
