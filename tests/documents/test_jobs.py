"""The text extraction job: runs after the upload commits (eagerly in tests), stores the
text encrypted, says why when there is none, and is safe to run twice."""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from qiyue.audit.models import AuditEvent
from qiyue.documents import actions, extract
from qiyue.documents.actions import extract_version, upload_document
from qiyue.documents.models import DocumentVersion, TextStatus
from qiyue.documents.queries import version_pages
from tests.factories import make_contract

from .doc_files import image_pdf, pdf_bytes, png_bytes, text_image
from .test_documents import docs, docx_bytes  # noqa: F401 - the fixture

MARKER = "QiyueMarker7f3a9c"


def upload(user: Any, contract: Any, data: bytes, name: str, **kwargs: Any) -> DocumentVersion:
    return upload_document(
        actor=user, contract=contract, fileobj=io.BytesIO(data), name=name, **kwargs
    )


def _files_containing(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path))
    return found


@pytest.mark.django_db(transaction=True)
def test_the_text_is_extracted_after_commit_and_stored_only_encrypted(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1)
    version = upload(org.sales1, contract, pdf_bytes([f"Clause {MARKER}", "Second page"]), "m.pdf")
    version.refresh_from_db()
    assert version.text_status == TextStatus.OK
    assert version.text_method == "pdfium"
    assert version.page_count == 2
    assert version.text_chars > len(MARKER)
    assert version.extracted_at is not None
    assert version.text_blob_id is not None and version.text_blob_id != version.blob_id
    pages = version_pages(version)
    assert pages is not None
    assert [p["number"] for p in pages] == [1, 2]
    assert MARKER in pages[0]["text"]
    event = AuditEvent.objects.get(action="document.text_extracted")
    assert event.target_id == str(contract.pk)
    assert event.data["status"] == "ok" and event.data["version"] == 1
    # Nothing readable at rest: blobs, temp folder, database file and its WAL.
    connection.close()
    needle = MARKER.encode()
    assert _files_containing(docs, needle) == []
    db_file = Path(django_settings.DATABASES["default"]["NAME"])
    if connection.vendor == "sqlite" and db_file.exists():
        for path in db_file.parent.glob(db_file.name + "*"):
            assert needle not in path.read_bytes(), path
    assert not list((docs / "tmp").iterdir())


def test_docx_text_is_extracted(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    contract = make_contract(org.sales1)
    with django_capture_on_commit_callbacks(execute=True):
        version = upload(org.sales1, contract, docx_bytes(f"甲方 {MARKER}"), "c.docx")
    version.refresh_from_db()
    assert version.text_status == TextStatus.OK
    assert version.page_count is None
    pages = version_pages(version)
    assert pages and MARKER in pages[0]["text"]


def test_a_scan_without_tesseract_is_marked_ocr_unavailable_with_a_reason(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(extract, "ocr_available", lambda: None)
    contract = make_contract(org.sales1)
    scan = tmp_path / "scan.pdf"
    image_pdf(scan, text_image(["Scanned page"], size=(600, 200)))
    with django_capture_on_commit_callbacks(execute=True):
        version = upload(org.sales1, contract, scan.read_bytes(), "scan.pdf", kind="signed_scan")
        image = upload(org.sales1, contract, png_bytes(text_image(["x"], size=(300, 100))), "i.png")
    for v in (version, image):
        v.refresh_from_db()
        assert v.text_status == TextStatus.OCR_UNAVAILABLE
        assert v.text_reason_code == "ocr_unavailable"
        assert "OCR" in v.text_reason
    assert version.page_count == 1


def test_extraction_is_idempotent_unless_forced(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    contract = make_contract(org.sales1)
    with django_capture_on_commit_callbacks(execute=True):
        version = upload(org.sales1, contract, b"plain contract text", "a.txt")
    assert AuditEvent.objects.filter(action="document.text_extracted").count() == 1
    extract_version(version.pk)
    assert AuditEvent.objects.filter(action="document.text_extracted").count() == 1
    extract_version(version.pk, force=True)
    assert AuditEvent.objects.filter(action="document.text_extracted").count() == 2
    version.refresh_from_db()
    assert version.text_status == TextStatus.OK
    assert version_pages(version) == [
        {"number": 1, "text": "plain contract text", "method": "text"}
    ]


def test_a_damaged_file_is_marked_failed_and_the_job_survives(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    contract = make_contract(org.sales1)
    broken = pdf_bytes(["x"])[:60]
    with django_capture_on_commit_callbacks(execute=True):
        version = upload(org.sales1, contract, broken, "broken.pdf")
    version.refresh_from_db()
    assert version.text_status == TextStatus.FAILED
    assert version.text_reason_code
    assert version.text_reason
    assert version_pages(version) is None
    assert not list((docs / "tmp").iterdir())


def test_a_missing_version_is_ignored(db: Any, docs: Path) -> None:  # noqa: F811
    extract_version(987654)


def test_enqueue_goes_through_the_huey_task(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = make_contract(org.sales1)
    version = upload(org.sales1, contract, b"queued text", "q.txt")
    assert DocumentVersion.objects.get(pk=version.pk).text_status == TextStatus.PENDING
    seen: list[int] = []
    real = actions.extract_version
    monkeypatch.setattr(
        actions, "extract_version", lambda pk, force=False: (seen.append(pk), real(pk))
    )
    actions.enqueue_extraction(version.pk)
    assert seen == [version.pk]
    assert DocumentVersion.objects.get(pk=version.pk).text_status == TextStatus.OK


def test_the_queue_settings_follow_the_environment(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.HUEY['huey_class'], s.HUEY.get('url') or s.HUEY.get('filename'),"
        " s.HUEY['immediate'], s.WATERMARK_LEVELS]))"
    )
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "qiyue.settings",
        "QIYUE_DATA_DIR": str(tmp_path),
    }
    base.pop("QIYUE_QUEUE_URL", None)
    base.pop("QIYUE_JOBS_IMMEDIATE", None)
    base.pop("QIYUE_WATERMARK_LEVELS", None)

    def run(**env: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**base, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip() or out.stderr.strip().splitlines()[-1]

    assert run() == (
        f'["huey.SqliteHuey", "{tmp_path}/queue.sqlite3", false, '
        '["internal", "confidential", "secret"]]'
    )
    assert (
        run(
            QIYUE_QUEUE_URL="redis://127.0.0.1:6379/3",
            QIYUE_JOBS_IMMEDIATE="true",
            QIYUE_WATERMARK_LEVELS="secret",
        )
        == '["huey.RedisHuey", "redis://127.0.0.1:6379/3", true, ["secret"]]'
    )
    assert "QIYUE_WATERMARK_LEVELS" in run(QIYUE_WATERMARK_LEVELS="topsecret")
    assert "QIYUE_QUEUE_URL" in run(QIYUE_QUEUE_URL="amqp://x")
    assert run(QIYUE_WATERMARK_LEVELS="none").endswith("[]]")


@pytest.mark.django_db(transaction=True)
def test_the_consumer_embedded_in_serve_runs_queued_jobs(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
) -> None:
    import time

    from huey.contrib.djhuey import HUEY

    from qiyue.documents.queue import embedded_consumer

    HUEY.immediate = False  # the autouse fixture puts it back
    HUEY.flush()
    contract = make_contract(org.sales1)
    with embedded_consumer(workers=1) as consumer:
        assert consumer is not None
        version = upload(org.sales1, contract, b"queued for the worker", "w.txt")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            version.refresh_from_db()
            # extraction queues follow-up jobs (search, review, compliance): wait for all
            if version.text_status != TextStatus.PENDING and len(HUEY) == 0:
                break
            time.sleep(0.1)
    assert version.text_status == TextStatus.OK
    assert len(HUEY) == 0


def test_the_worker_command_is_huey_s_consumer() -> None:
    from django.core.management import load_command_class
    from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey

    command = load_command_class("qiyue.documents", "worker")
    assert isinstance(command, RunHuey)
    assert "--workers" in command.create_parser("qiyue", "worker").format_help()


def test_the_documents_extract_command_catches_up_on_pending_versions(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
) -> None:
    from django.core.management import call_command

    contract = make_contract(org.sales1)
    first = upload(org.sales1, contract, b"one", "1.txt")  # no commit: stays pending
    second = upload(org.sales1, contract, b"two", "2.txt")
    out = io.StringIO()
    call_command("documents", "extract", stdout=out)
    assert "2 versions queued" in out.getvalue()
    statuses = DocumentVersion.objects.filter(pk__in=[first.pk, second.pk])
    assert set(statuses.values_list("text_status", flat=True)) == {TextStatus.OK}
    call_command("documents", "extract", "--version", str(first.pk), "--force", "--now", stdout=out)
    assert AuditEvent.objects.filter(action="document.text_extracted").count() == 3
