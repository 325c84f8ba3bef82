"""At scale, jobs go through Redis to separate `qiyue worker` processes: a version
queued by one process is extracted by a worker in another, against the same database,
blob store and master key."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from qiyue.documents.actions import upload_document
from qiyue.documents.models import DocumentVersion, TextStatus
from tests.factories import make_contract

REDIS_URL = os.environ.get("QIYUE_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("QIYUE_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip("Redis is not running")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_version_queued_on_redis_is_extracted_by_a_separate_worker(
    org: SimpleNamespace,
) -> None:
    _redis_or_skip()
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False  # the autouse fixture puts it back
    contract = make_contract(org.sales1)
    version = upload_document(
        actor=org.sales1,
        contract=contract,
        fileobj=io.BytesIO("由 Redis 上的工作进程提取的文字".encode()),
        name="redis.txt",
    )
    assert version.text_status == TextStatus.PENDING
    HUEY.flush()  # nothing left in the test's own SQLite queue

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "QIYUE_DATA_DIR": str(settings.DATA_DIR),
        # A queue of this test's own, so parallel runs never take each other's jobs.
        "QIYUE_QUEUE_URL": REDIS_URL,
        "QIYUE_QUEUE_NAME": f"qiyue-test-{uuid.uuid4().hex[:8]}",
        "QIYUE_JOBS_IMMEDIATE": "false",
    }
    qiyue = [sys.executable, "-m", "qiyue"]
    worker = subprocess.Popen(
        [*qiyue, "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        queued = subprocess.run(
            [*qiyue, "documents", "extract", "--version", str(version.pk)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "1 versions queued" in queued.stdout
        deadline = time.monotonic() + 60
        status: Any = TextStatus.PENDING
        while time.monotonic() < deadline and status == TextStatus.PENDING:
            time.sleep(0.2)
            status = DocumentVersion.objects.values_list("text_status", flat=True).get(
                pk=version.pk
            )
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=20)
    assert status == TextStatus.OK, err.decode(errors="replace")[-2000:]
