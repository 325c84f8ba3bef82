"""The blob store keeps documents encrypted, content-addressed and crash-safe, on the local
folder and on S3 alike (every test taking ``backend`` runs on both)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from qiyue.documents import blobs
from qiyue.documents.blobs import (
    BlobMissing,
    BlobTooLarge,
    DecryptionError,
    UnknownKeyError,
    blob_exists,
    open_blob,
    put_blob,
    read_blob,
    rotate_keys,
    sweep,
    verify_blob,
)
from qiyue.documents.models import Blob
from qiyue.lib.crypto import DEFAULT_CHUNK_SIZE, Keyring

from .conftest import Backend

MB = 1024 * 1024


def _tmp_files(settings: Any) -> list[str]:
    tmp = Path(settings.DATA_DIR) / "tmp"
    return sorted(os.listdir(tmp)) if tmp.exists() else []


class EndlessZeros:
    """A source that never ends: only a streaming size check stops reading it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        n = MB if n < 0 else n
        self.read_bytes += n
        return bytes(n)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "size",
    [0, 1, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1, 5 * MB + 3],
)
def test_stored_bytes_read_back_identical(backend: Backend, settings: Any, size: int) -> None:
    data = os.urandom(size)
    blob = put_blob(io.BytesIO(data))
    blob.refresh_from_db()
    assert blob.size == size
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert read_blob(blob, limit=size) == data
    assert b"".join(open_blob(blob)) == data
    verify_blob(blob)
    assert blob_exists(blob)
    assert list(backend.files()) == [blob.storage_name]
    assert _tmp_files(settings) == []


@pytest.mark.django_db
def test_storage_names_are_generated_and_spread_over_folders(backend: Backend) -> None:
    blob = put_blob(b"a contract")
    folder, rest = blob.storage_name.split("/")
    assert len(folder) == 2
    assert rest.startswith(folder)
    assert len(rest) == 32 + len(".qyb")
    assert rest.endswith(".qyb")


@pytest.mark.django_db
def test_the_same_bytes_uploaded_twice_reuse_one_blob(backend: Backend, settings: Any) -> None:
    first = put_blob(b"the same contract")
    second = put_blob(io.BytesIO(b"the same contract"))
    assert second.pk == first.pk
    assert Blob.objects.count() == 1
    assert len(backend.files()) == 1
    assert _tmp_files(settings) == []


@pytest.mark.django_db
def test_an_upload_over_the_limit_stops_while_streaming_and_leaves_nothing(
    backend: Backend, settings: Any
) -> None:
    source = EndlessZeros()
    with pytest.raises(BlobTooLarge, match=r"larger than the limit|大小上限"):
        put_blob(source, max_bytes=3 * MB)  # type: ignore[arg-type]
    assert source.read_bytes <= 3 * MB + 2 * DEFAULT_CHUNK_SIZE
    assert not Blob.objects.exists()
    assert backend.files() == {}
    assert _tmp_files(settings) == []


@pytest.mark.django_db
def test_an_upload_of_exactly_the_limit_is_accepted(backend: Backend) -> None:
    blob = put_blob(bytes(1000), max_bytes=1000)
    assert blob.size == 1000
    with pytest.raises(BlobTooLarge):
        read_blob(blob, limit=999)


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_at_rest_in_storage_database_or_data_folder(
    backend: Backend, settings: Any
) -> None:
    marker = f"QIYUE-MARKER-{os.urandom(8).hex()}".encode()
    small = b"Contract text " + marker + b" end"
    large = os.urandom(MB) + marker + os.urandom(MB) + marker
    blobs_ = [put_blob(small), put_blob(io.BytesIO(large))]
    with connection.cursor() as cursor:  # make sure nothing is waiting in memory
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    stored = backend.files()
    assert len(stored) == 2
    for name, content in stored.items():
        assert marker not in content, name
        assert marker.hex().encode() not in content
    places = [p for p in Path(settings.DATA_DIR).rglob("*") if p.is_file()]
    if connection.vendor == "sqlite":
        db = Path(connection.settings_dict["NAME"])
        places += [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal")) if p.exists()]
        assert db in places
    for path in places:
        assert marker not in path.read_bytes(), path
    # …and the marker is really in there, for whoever holds the key:
    assert marker in read_blob(blobs_[0], limit=MB)
    assert read_blob(blobs_[1], limit=3 * MB) == large


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_local_blob_files_are_private_to_the_owner(backend: Backend, settings: Any) -> None:
    blob = put_blob(b"private")
    path = Path(settings.STORAGES["documents"]["OPTIONS"]["location"]) / blob.storage_name
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_rotation_rewraps_data_keys_and_old_blobs_then_need_only_the_new_key(
    backend: Backend, settings: Any, keyring: Keyring
) -> None:
    old_spec = "test1:" + blobs_key(keyring)
    contents = [os.urandom(n) for n in (10, MB + 5, 0)]
    stored = [put_blob(c) for c in contents]
    ciphertext_before = backend.files()
    new_spec = Keyring.generate_spec("test2")

    # The new key alone cannot read blobs wrapped by the old one: a clear error.
    settings.MASTER_KEYRING = Keyring.parse(new_spec)
    with pytest.raises(UnknownKeyError, match="'test1', which is not in the keyring"):
        read_blob(stored[0], limit=MB)

    settings.MASTER_KEYRING = Keyring.parse(f"{new_spec},{old_spec}")
    assert read_blob(stored[0], limit=MB) == contents[0]  # old key still works meanwhile
    new_blob = put_blob(b"uploaded after the new key")
    assert new_blob.key_id == "test2"
    assert rotate_keys() == 3
    assert rotate_keys() == 0  # nothing left to do; safe to run again
    assert set(Blob.objects.values_list("key_id", flat=True)) == {"test2"}
    for blob in stored:
        blob.refresh_from_db()
    after = backend.files()
    assert {n: after[n] for n in ciphertext_before} == ciphertext_before  # content untouched

    settings.MASTER_KEYRING = Keyring.parse(new_spec)
    for blob, content in zip(stored, contents, strict=True):
        assert read_blob(blob, limit=2 * MB) == content


def blobs_key(keyring: Keyring) -> str:
    from qiyue.lib.crypto import encode_key

    return encode_key(keyring.current_key)


@pytest.mark.django_db
def test_rotation_to_a_named_key_of_the_keyring(settings: Any, backend: Backend) -> None:
    blob = put_blob(b"x")
    spare = Keyring.generate_spec("spare")
    settings.MASTER_KEYRING = Keyring.parse(f"test1:{blobs_key(settings.MASTER_KEYRING)},{spare}")
    assert rotate_keys(new_key_id="spare") == 1
    blob.refresh_from_db()
    assert blob.key_id == "spare"
    with pytest.raises(Exception, match="not in the keyring"):
        rotate_keys(new_key_id="nope")


@pytest.mark.django_db
def test_a_wrong_master_key_gives_a_clear_error_never_garbage(
    backend: Backend, settings: Any
) -> None:
    blob = put_blob(b"secret terms")
    settings.MASTER_KEYRING = Keyring.parse(Keyring.generate_spec("test1"))  # same id
    with pytest.raises(DecryptionError, match="cannot be decrypted: wrong master key"):
        read_blob(blob, limit=100)
    with pytest.raises(DecryptionError, match=blob.storage_name):
        open_blob(blob)


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["flip", "truncate", "append", "swap"])
def test_a_tampered_stored_file_is_refused(backend: Backend, how: str) -> None:
    blob = put_blob(os.urandom(2 * MB + 10))
    other = put_blob(os.urandom(2 * MB + 10))
    stored = backend.files()
    data = bytearray(stored[blob.storage_name])
    if how == "flip":
        data[len(data) // 2] ^= 0x80
    elif how == "truncate":
        del data[-(DEFAULT_CHUNK_SIZE + 16) :]
    elif how == "append":
        data += b"\0" * 16
    else:  # another blob's ciphertext under this name: its data key does not fit
        data = bytearray(stored[other.storage_name])
    backend.overwrite(blob.storage_name, bytes(data))
    with pytest.raises(DecryptionError, match="wrong master key or tampered data"):
        read_blob(blob, limit=3 * MB)
    with pytest.raises(DecryptionError):
        verify_blob(blob)


@pytest.mark.django_db
def test_a_missing_file_is_a_clear_error(backend: Backend) -> None:
    blob = put_blob(b"gone")
    backend.remove(blob.storage_name)
    assert not blob_exists(blob)
    with pytest.raises(BlobMissing, match=blob.storage_name):
        read_blob(blob, limit=10)


@pytest.mark.django_db
def test_a_failed_row_insert_removes_the_file_it_wrote(
    backend: Backend, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Blob:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Blob.objects, "create", broken)
    with pytest.raises(RuntimeError):
        put_blob(b"half written")
    assert backend.files() == {}
    assert _tmp_files(settings) == []


@pytest.mark.django_db
def test_a_concurrent_upload_of_the_same_bytes_keeps_one_blob(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"uploaded twice at the same moment"
    original = blobs._store
    winner: list[Blob] = []

    def store_then_lose_the_race(storage: Any, name: str, tmp_path: Path) -> str:
        saved = original(storage, name, tmp_path)
        # The other uploader commits its row between our lookup and our insert.
        monkeypatch.setattr(blobs, "_store", original)
        winner.append(put_blob(data))
        return saved

    monkeypatch.setattr(blobs, "_store", store_then_lose_the_race)
    blob = put_blob(data)
    assert blob.pk == winner[0].pk
    assert Blob.objects.count() == 1
    assert list(backend.files()) == [blob.storage_name]
    assert read_blob(blob, limit=100) == data


@pytest.mark.django_db
def test_put_blob_inside_a_caller_transaction_commits_or_rolls_back_with_it(
    backend: Backend,
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        put_blob(b"rolled back document")
        raise RuntimeError("the document row failed")
    assert not Blob.objects.exists()
    with transaction.atomic():
        blob = put_blob(b"committed document")
    assert Blob.objects.get() == blob


@pytest.mark.django_db
def test_sweep_finds_an_orphan_left_by_a_crash_and_deletes_it_after_the_grace_period(
    backend: Backend, settings: Any
) -> None:
    kept = put_blob(b"a good document")
    # A crash between writing the blob and committing its row.
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = put_blob(b"the upload that crashed")
        raise RuntimeError("killed before commit")
    report = sweep()
    assert report.files == 2
    assert report.orphans == [lost.storage_name]
    assert report.missing == []
    assert report.ok

    report = sweep(delete=True)  # too young: may be an upload still in its transaction
    assert report.kept == [lost.storage_name]
    assert report.deleted == []
    assert lost.storage_name in backend.files()

    from datetime import timedelta

    report = sweep(delete=True, grace=timedelta(0))
    assert report.deleted == [lost.storage_name]
    assert list(backend.files()) == [kept.storage_name]
    assert read_blob(kept, limit=100) == b"a good document"
    assert sweep().orphans == []


@pytest.mark.django_db
def test_sweep_reports_a_row_whose_file_is_missing_and_never_deletes_it(
    backend: Backend,
) -> None:
    from datetime import timedelta

    blob = put_blob(b"a document whose file was lost")
    backend.remove(blob.storage_name)
    report = sweep(delete=True, grace=timedelta(0))
    assert report.missing == [blob.pk]
    assert not report.ok
    assert Blob.objects.filter(pk=blob.pk).exists()


@pytest.mark.django_db
def test_sweep_removes_stale_upload_temp_files(backend: Backend, settings: Any) -> None:
    from datetime import timedelta

    tmp = Path(settings.DATA_DIR) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stale = tmp / "put-abandoned.qyb"
    stale.write_bytes(b"ciphertext of a killed upload")
    os.utime(stale, (1, 1))
    report = sweep(delete=True, grace=timedelta(hours=1))
    assert report.stale_temp == ["put-abandoned.qyb"]
    assert not stale.exists()


@pytest.mark.django_db
def test_sweep_removes_private_work_folders_left_by_a_killed_job(
    backend: Backend, settings: Any
) -> None:
    from datetime import timedelta

    tmp = Path(settings.DATA_DIR) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for entry in list(tmp.iterdir()):
        os.utime(entry)  # only what this test leaves behind is old
    killed = tmp / "extract-abandoned"
    killed.mkdir()
    (killed / "plain.pdf").write_bytes(b"plaintext a killed extraction left")
    os.utime(killed / "plain.pdf", (1, 1))
    os.utime(killed, (1, 1))
    running = tmp / "extract-running"
    running.mkdir()
    report = sweep(delete=True, grace=timedelta(hours=1))
    assert report.stale_temp == ["extract-abandoned"]
    assert not killed.exists()
    assert running.exists()


@pytest.mark.django_db
def test_sweep_command_lists_orphans_and_fails_on_missing_files(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        orphan = put_blob(b"orphan")
        raise RuntimeError
    call_command("documents", "sweep")
    out = capsys.readouterr().out
    assert f"orphan file {orphan.storage_name}: orphan" in out
    call_command("documents", "sweep", "--delete", "--grace-hours", "0")
    assert "deleted" in capsys.readouterr().out
    assert backend.files() == {}

    blob = put_blob(b"lost")
    backend.remove(blob.storage_name)
    with pytest.raises(CommandError, match="1 blobs are missing their files"):
        call_command("documents", "sweep")
    assert f"MISSING FILE for blob {blob.pk}" in capsys.readouterr().out


@pytest.mark.django_db
def test_keys_commands_generate_show_and_rotate(
    backend: Backend, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = put_blob(b"rotate me")
    call_command("keys", "generate", "--id", "next")
    spec = capsys.readouterr().out.strip()
    assert spec.startswith("next:")
    settings.MASTER_KEYRING = Keyring.parse(f"{spec},test1:{blobs_key(settings.MASTER_KEYRING)}")
    call_command("keys", "status")
    out = capsys.readouterr().out
    assert "next (current): 0 blobs" in out
    assert "test1: 1 blobs" in out
    call_command("keys", "rotate")
    assert "re-wrapped 1 data keys under master key next" in capsys.readouterr().out
    settings.MASTER_KEYRING = Keyring.parse(spec)
    blob.refresh_from_db()
    assert read_blob(blob, limit=100) == b"rotate me"
    settings.MASTER_KEYRING = Keyring.parse(Keyring.generate_spec("other"))
    with pytest.raises(CommandError, match="missing from the keyring"):
        call_command("keys", "status")


class TrickleSource:
    """A raw stream (socket-like): ``readinto`` returns at most 1000 bytes at a time."""

    def __init__(self, data: bytes) -> None:
        self.buf = io.BytesIO(data)

    def readinto(self, view: Any) -> int:
        return self.buf.readinto(memoryview(view)[:1000])

    def read(self, n: int = -1) -> bytes:
        raise AssertionError("readinto is used when the source has it")


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_short_reads_from_a_raw_stream_store_the_same_bytes(backend: Backend) -> None:
    data = os.urandom(DEFAULT_CHUNK_SIZE + 4321)
    blob = put_blob(TrickleSource(data))  # type: ignore[arg-type]
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert read_blob(blob, limit=2 * MB) == data


CRASH = """
import os, signal, django
django.setup()
from qiyue.documents import blobs

class NoRow:
    def first(self):
        return None

def killed(**fields):  # the process dies after the blob is stored, before the row
    os.kill(os.getpid(), signal.SIGKILL)

blobs.Blob.objects.filter = lambda **kw: NoRow()
blobs.Blob.objects.create = killed
blobs.put_blob(b"an upload killed before its commit " * 1000)
"""


@pytest.mark.django_db
def test_a_process_killed_between_blob_write_and_commit_leaves_an_orphan_the_sweep_removes(
    backend: Backend, settings: Any, keyring: Keyring
) -> None:
    import subprocess
    import sys
    from datetime import timedelta

    from qiyue.lib.crypto import encode_key

    env = {k: v for k, v in os.environ.items() if not k.startswith(("QIYUE_", "AWS_"))}
    env.pop("DATABASE_URL", None)
    env |= backend.env | {
        "DJANGO_SETTINGS_MODULE": "qiyue.settings",
        "QIYUE_DATA_DIR": str(settings.DATA_DIR),
        "QIYUE_MASTER_KEY": f"test1:{encode_key(keyring.current_key)}",
    }
    done = subprocess.run(
        [sys.executable, "-c", CRASH], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    assert len(backend.files()) == 1  # the blob was written…
    assert not Blob.objects.exists()  # …and its row never committed
    report = sweep()
    assert report.orphans == list(backend.files())
    assert report.missing == []
    report = sweep(delete=True, grace=timedelta(0))
    assert report.deleted == report.orphans
    assert backend.files() == {}
    assert _tmp_files(settings) == []
