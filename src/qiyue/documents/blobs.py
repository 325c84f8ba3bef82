"""The encrypted, content-addressed blob store: the only code that touches document bytes.

Public interface (everything else here is private)::

    put_blob(fileobj, *, max_bytes=None) -> Blob        # store bytes (or reuse), encrypted
    open_blob(blob) -> Iterator[bytes]                  # plaintext, chunk by chunk
    read_blob(blob, *, limit) -> bytes                  # the whole plaintext, if <= limit
    verify_blob(blob) -> None                           # decrypt all, check size and SHA-256
    blob_exists(blob) -> bool                           # is its file in the storage?
    rotate_keys(*, new_key_id=None) -> int              # re-wrap data keys (qiyue keys rotate)
    sweep(*, delete=False, grace=...) -> SweepReport    # orphans (qiyue documents sweep)

Errors: :class:`BlobTooLarge`, :class:`BlobMissing`, and ``DecryptionError`` /
``UnknownKeyError`` from :mod:`qiyue.lib.crypto` (wrong or absent master key, altered bytes).

How a blob is written (crash safety). ``put_blob`` reads the plaintext once, hashing it and
encrypting it into a temporary file in ``DATA_DIR/tmp`` (ciphertext only, removed in every
case), then stores the ciphertext under a generated name (``ab/<uuid>.qyb``) — for the
local folder by fsync, rename and fsync of the directory — and only then inserts the row.
A crash leaves at most a file without a row (an orphan, found and removed by
:func:`sweep` after a grace period), never a row without its file. ``put_blob`` works
inside the caller's transaction: the row commits, or rolls back, with the caller's
document row; a rolled-back row leaves an orphan for the sweep, too.

Blobs are immutable and shared between documents with the same bytes; nothing here
deletes a blob that has a row.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from botocore.exceptions import ClientError
from cachetools import LRUCache
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage

from qiyue.documents.models import Blob
from qiyue.lib.crypto import (
    TAG_SIZE,
    ChunkSealer,
    DecryptionError,
    Keyring,
    KeyringError,
    UnknownKeyError,
    decrypt_bytes,
    decrypt_stream,
    new_data_key,
    unwrap_key,
    wrap_key,
    wrapped_key_id,
)

__all__ = [
    "Blob",
    "BlobError",
    "BlobMissing",
    "BlobTooLarge",
    "DecryptionError",
    "SweepReport",
    "UnknownKeyError",
    "blob_exists",
    "open_blob",
    "put_blob",
    "read_blob",
    "rotate_keys",
    "sweep",
    "verify_blob",
]

log = logging.getLogger(__name__)

STORAGE_ALIAS = "documents"
SUFFIX = ".qyb"
TEMP_PREFIX = "put-"
DEFAULT_GRACE = timedelta(hours=24)
READ_SIZE = 1024 * 1024
SLOTS = 3  # chunks in flight per upload, each way


class BlobError(Exception):
    """A blob cannot be stored or read."""


class BlobTooLarge(BlobError):
    """The content exceeds the size limit; found while streaming, nothing is kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(
            _("The file is larger than the limit of %(limit)s.")
            % {"limit": filesizeformat(max_bytes)}
        )


class BlobMissing(BlobError):
    """The row exists but its file is not in the storage (see :func:`sweep`)."""

    def __init__(self, blob: Blob) -> None:
        self.blob = blob
        super().__init__(
            _("The stored file %(name)s of this document is missing.") % {"name": blob.storage_name}
        )


# -- helpers ------------------------------------------------------------------------------


def _storage() -> Storage:
    # Looked up at call time: tests and settings changes swap the backend.
    return storages[STORAGE_ALIAS]


def _keyring() -> Keyring:
    keyring = settings.MASTER_KEYRING
    if not isinstance(keyring, Keyring):
        raise KeyringError("settings.MASTER_KEYRING is not a Keyring")
    return keyring


def _tmp_dir() -> Path:
    path = Path(settings.DATA_DIR) / "tmp"
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _label(blob: Blob) -> str:
    return f"blob {blob.storage_name} (sha256 {blob.sha256[:12]}…)"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Source:
    """Fills buffers from the upload, counting; refuses to go past ``max_bytes``."""

    def __init__(self, src: BinaryIO, max_bytes: int | None) -> None:
        self.src = src
        self.max_bytes = max_bytes
        self.size = 0
        self._readinto = getattr(src, "readinto", None)

    def fill(self, buf: bytearray) -> int:
        """Read until ``buf`` is full or the source ends; the number of bytes read."""
        view = memoryview(buf)
        got = 0
        while got < len(buf):
            if self._readinto is not None:
                n = self._readinto(view[got:])
            else:
                data = self.src.read(len(buf) - got)
                n = len(data)
                view[got : got + n] = data
            if not n:
                break
            got += n
        self.size += got
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise BlobTooLarge(self.max_bytes)
        return got


def _write_all(fd: int, data: bytes | memoryview, *, start_writeback: bool = False) -> None:
    view = memoryview(data)
    length = len(view)
    while view:
        view = view[os.write(fd, view) :]
    if start_writeback and hasattr(os, "posix_fadvise"):
        # Linux starts writing these pages to the disk now (asynchronously) instead of
        # at the final fsync, so the disk works while the next chunks are hashed and
        # encrypted; the fsync then waits for little. The pages are not needed again.
        end = os.lseek(fd, 0, os.SEEK_CUR)
        os.posix_fadvise(fd, end - length, length, os.POSIX_FADV_DONTNEED)


def _encrypt_to_file(
    source: _Source, fd: int, data_key: bytes, *, start_writeback: bool = False
) -> str:
    """Encrypt the source into ``fd`` and fsync it; return the plaintext's SHA-256.

    A pipeline over reusable buffers: this thread reads and encrypts, one worker hashes
    the plaintext and another writes the ciphertext (hashlib and file writes release the
    GIL), so that hashing and the disk work side by side — the upload then costs about
    as much as writing the bytes. Memory stays at ``SLOTS`` chunks in and out. Content
    of one chunk (most documents) is done on this thread alone."""
    sealer = ChunkSealer(data_key)
    size = sealer.chunk_size
    digest = hashlib.sha256()
    first = bytearray(size)
    length = source.fill(first)
    if length < size:
        chunk = memoryview(first)[:length]
        digest.update(chunk)
        _write_all(fd, sealer.header)
        _write_all(fd, sealer.seal_into(0, chunk, True, bytearray(length + TAG_SIZE)))
        os.fsync(fd)
        return digest.hexdigest()
    plain = [first, *(bytearray(size) for _ in range(SLOTS - 1))]
    sealed = [bytearray(size + TAG_SIZE) for _ in range(SLOTS)]
    hashed: list[Future[None] | None] = [None] * SLOTS
    written: list[Future[None] | None] = [None] * SLOTS

    def wait(future: Future[None] | None) -> None:
        if future is not None:
            future.result()  # re-raises a failed write here

    with (
        ThreadPoolExecutor(1, thread_name_prefix="qiyue-blob-hash") as hasher,
        ThreadPoolExecutor(1, thread_name_prefix="qiyue-blob-write") as writer,
    ):
        try:
            header = writer.submit(_write_all, fd, sealer.header)
            slot, index = 0, 0
            while True:
                # Read one chunk ahead: only the last chunk carries the final flag.
                following = (slot + 1) % SLOTS
                if length == size:
                    wait(hashed[following])
                    next_length = source.fill(plain[following])
                else:
                    next_length = 0
                final = next_length == 0
                chunk = memoryview(plain[slot])[:length]
                hashed[slot] = hasher.submit(digest.update, chunk)
                wait(written[slot])
                out = sealer.seal_into(index, chunk, final, sealed[slot])
                written[slot] = writer.submit(_write_all, fd, out, start_writeback=start_writeback)
                if final:
                    break
                slot, index, length = following, index + 1, next_length
            header.result()
            for future in (*hashed, *written):
                wait(future)
            writer.submit(os.fsync, fd).result()
        except BaseException:
            for future in (*hashed, *written):
                if future is not None:
                    future.cancel()
            raise
    return digest.hexdigest()


def _new_name() -> str:
    # 256 folders: a million blobs are ~4,000 files per folder, which file systems handle
    # well; a second level would make most of the first 65,536 uploads create a folder
    # (two more directory fsyncs each).
    token = uuid.uuid4().hex
    return f"{token[:2]}/{token}{SUFFIX}"


def _store_local(storage: FileSystemStorage, name: str, tmp_path: Path) -> None:
    """Move the fsynced temp file to its final name and make the rename durable."""
    final = Path(storage.path(name))
    root = Path(storage.location)
    created: list[Path] = []
    for parent in reversed(final.relative_to(root).parents):
        directory = root / parent
        if not directory.exists():
            directory.mkdir(mode=0o700, exist_ok=True)
            created.append(directory)
    try:
        os.replace(tmp_path, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # The data folder's tmp/ is on another file system: copy next to the target.
        fd, staging = tempfile.mkstemp(prefix=".staging-", dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as out, open(tmp_path, "rb") as src:
                shutil.copyfileobj(src, out, READ_SIZE)
                out.flush()
                os.fsync(out.fileno())
            os.replace(staging, final)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
    _fsync_dir(final.parent)
    for directory in reversed(created):  # a new directory is durable once its parent is
        _fsync_dir(directory.parent)


def _store(storage: Storage, name: str, tmp_path: Path) -> str:
    if isinstance(storage, FileSystemStorage):
        _store_local(storage, name, tmp_path)
        return name
    with open(tmp_path, "rb") as fh:
        return storage.save(name, File(fh, name=name))


def _delete_quietly(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        log.warning("could not delete the blob file %s; the sweep will find it", name)


# -- writing ------------------------------------------------------------------------------


def put_blob(fileobj: BinaryIO | bytes, *, max_bytes: int | None = None) -> Blob:
    """Store the bytes readable from ``fileobj`` (read once, from its current position)
    and return their :class:`Blob` — an existing one when the same bytes are stored
    already. Raises :class:`BlobTooLarge` as soon as more than ``max_bytes`` were read;
    then nothing is kept.

    Inside the caller's transaction the row commits or rolls back with the document row
    (a rollback leaves an orphan file for :func:`sweep`). On SQLite an open write
    transaction holds the database's write lock while the bytes stream, so for large
    uploads open it late: the hashing, encryption and file write happen before the only
    query, but a transaction begun earlier is held throughout."""
    src: BinaryIO = io.BytesIO(fileobj) if isinstance(fileobj, bytes | bytearray) else fileobj
    keyring = _keyring()
    data_key = new_data_key()
    source = _Source(src, max_bytes)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=SUFFIX, dir=_tmp_dir())
    tmp_path = Path(tmp_name)
    try:
        try:
            # The local folder keeps this very file; S3 reads it back to upload it.
            local = isinstance(_storage(), FileSystemStorage)
            sha256 = _encrypt_to_file(source, fd, data_key, start_writeback=local)
        finally:
            os.close(fd)
        existing = Blob.objects.filter(sha256=sha256).first()
        if existing is not None:
            return existing
        storage = _storage()
        name = _store(storage, _new_name(), tmp_path)
        try:
            with transaction.atomic():  # a savepoint inside the caller's transaction
                return Blob.objects.create(
                    sha256=sha256,
                    size=source.size,
                    storage_name=name,
                    key_id=keyring.current,
                    wrapped_key=wrap_key(keyring.current_key, keyring.current, data_key),
                )
        except IntegrityError:
            # Someone stored the same bytes meanwhile (their row committed first).
            _delete_quietly(storage, name)
            existing = Blob.objects.filter(sha256=sha256).first()
            if existing is None:
                raise
            return existing
        except BaseException:
            _delete_quietly(storage, name)
            raise
    finally:
        tmp_path.unlink(missing_ok=True)


# -- reading ------------------------------------------------------------------------------


def _open_ciphertext(storage: Storage, blob: Blob) -> BinaryIO:
    try:
        if isinstance(storage, S3Storage):
            # Stream the object body; S3File would spool the whole object to a temp file.
            key = storage._normalize_name(blob.storage_name)
            try:
                response = storage.bucket.Object(key).get()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise FileNotFoundError(blob.storage_name) from None
                raise
            return response["Body"]
        return storage.open(blob.storage_name, "rb")  # type: ignore[return-value]
    except FileNotFoundError:
        raise BlobMissing(blob) from None


# Unwrapped data keys of recently read blobs, so reading the same blobs again (a page of
# search results, a preview page after page) skips the unwrap: in this process's memory
# only, never written anywhere, at most KEY_CACHE_SIZE of them. Keyed by the wrapped key
# (re-wrapped by a rotation: another entry) and used only while the keyring still holds
# the very master key that unwrapped it, so removing or replacing a master key takes
# effect at once.
KEY_CACHE_SIZE = 256
_key_cache: LRUCache[bytes, tuple[str, bytes, bytes]] = LRUCache(KEY_CACHE_SIZE)
_key_cache_lock = threading.Lock()


def _data_key(blob: Blob) -> bytes:
    wrapped = bytes(blob.wrapped_key)
    keyring = _keyring()
    with _key_cache_lock:
        cached = _key_cache.get(wrapped)
    if cached is not None:
        key_id, master, data_key = cached
        if keyring.keys.get(key_id) == master:
            return data_key
    data_key = unwrap_key(keyring, wrapped, label=_label(blob))
    key_id = wrapped_key_id(wrapped)
    with _key_cache_lock:
        _key_cache[wrapped] = (key_id, keyring.keys[key_id], data_key)
    return data_key


# The names put_blob gives (``_new_name``): safe to join to the folder without checks.
_LOCAL_NAME = re.compile(rf"[0-9a-f]{{2}}/[0-9a-f]{{32}}{re.escape(SUFFIX)}")


def _read_local(storage: Storage, blob: Blob) -> bytes | None:
    """The ciphertext of a small blob of the local folder in one read, without the
    storage layer's file object; None to take the general path."""
    if type(storage) is not FileSystemStorage or blob.size > READ_SIZE:
        return None
    if not _LOCAL_NAME.fullmatch(blob.storage_name):
        return None
    try:
        with open(os.path.join(storage.location, blob.storage_name), "rb", buffering=0) as f:
            return f.readall()
    except FileNotFoundError:
        raise BlobMissing(blob) from None


def open_blob(blob: Blob) -> Iterator[bytes]:
    """The plaintext in chunks (≤ 1 MiB each). A wrong or absent master key, or a missing
    file, raises here at once; altered bytes raise ``DecryptionError`` when reached (read
    to the end before acting on a prefix; every chunk yielded is authentic)."""
    data_key = _data_key(blob)
    source = _open_ciphertext(_storage(), blob)

    def chunks() -> Iterator[bytes]:
        try:
            yield from decrypt_stream(source, data_key, label=_label(blob))
        finally:
            source.close()

    return chunks()


def read_blob(blob: Blob, *, limit: int) -> bytes:
    """The whole plaintext, authenticated; :class:`BlobTooLarge` if it exceeds ``limit``."""
    if blob.size > limit:
        raise BlobTooLarge(limit)
    data_key = _data_key(blob)  # a wrong or absent master key first, as open_blob
    ciphertext = _read_local(_storage(), blob)
    if ciphertext is None:
        data = b"".join(open_blob(blob))
    else:
        data = decrypt_bytes(ciphertext, data_key, label=_label(blob))
    if len(data) != blob.size:
        raise DecryptionError(f"{_label(blob)} has {len(data)} bytes, its row says {blob.size}")
    return data


def verify_blob(blob: Blob) -> None:
    """Decrypt all of it and check size and SHA-256 against the row (backups, audits)."""
    digest = hashlib.sha256()
    size = 0
    for chunk in open_blob(blob):
        digest.update(chunk)
        size += len(chunk)
    if size != blob.size or digest.hexdigest() != blob.sha256:
        raise DecryptionError(f"{_label(blob)} does not match its size or SHA-256")


def blob_exists(blob: Blob) -> bool:
    return bool(_storage().exists(blob.storage_name))


# -- key rotation -------------------------------------------------------------------------


def rotate_keys(*, new_key_id: str | None = None, batch_size: int = 500) -> int:
    """Re-wrap every data key not yet under master key ``new_key_id`` (default: the
    current key) with it, without touching the content. Batched, each batch one
    transaction with compare-and-set updates, so it can be interrupted and run again, and
    runs beside uploads. Returns the number of data keys re-wrapped. Every master key
    that wrapped one must still be in the keyring; afterwards only the new one is needed."""
    keyring = _keyring()
    target = new_key_id or keyring.current
    if target not in keyring.keys:
        raise KeyringError(f"master key {target!r} is not in the keyring")
    master = keyring.keys[target]
    rewrapped = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                Blob.objects.filter(pk__gt=last_pk)
                .exclude(key_id=target)
                .order_by("pk")
                .only("pk", "sha256", "storage_name", "key_id", "wrapped_key")[:batch_size]
            )
            if not batch:
                return rewrapped
            for blob in batch:
                data_key = unwrap_key(keyring, bytes(blob.wrapped_key), label=_label(blob))
                rewrapped += Blob.objects.filter(pk=blob.pk, key_id=blob.key_id).update(
                    key_id=target, wrapped_key=wrap_key(master, target, data_key)
                )
            last_pk = batch[-1].pk


def key_usage() -> dict[str, int]:
    """How many blobs each master key id wraps (``qiyue keys status``)."""
    rows = Blob.objects.values_list("key_id").annotate(n=Count("pk")).order_by("key_id")
    return {key_id: n for key_id, n in rows}


# -- orphan sweep -------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What :func:`sweep` found. Names are storage names, ids are ``Blob`` ids."""

    files: int = 0  # files listed in the storage
    orphans: list[str] = field(default_factory=list)  # files without a row
    deleted: list[str] = field(default_factory=list)  # orphans removed (delete=True)
    kept: list[str] = field(default_factory=list)  # orphans younger than the grace period
    missing: list[int] = field(default_factory=list)  # rows whose file is gone (never deleted)
    stale_temp: list[str] = field(default_factory=list)  # old entries of DATA_DIR/tmp

    @property
    def ok(self) -> bool:
        return not self.missing


def _list_files(storage: Storage) -> Iterator[tuple[str, datetime]]:
    """Every file in the storage with its modification time (aware, UTC)."""
    if isinstance(storage, FileSystemStorage):
        root = Path(storage.location)
        for dirpath, _dirs, filenames in os.walk(root):
            for filename in filenames:
                path = Path(dirpath) / filename
                try:
                    mtime = path.stat().st_mtime
                except FileNotFoundError:
                    continue
                yield (
                    path.relative_to(root).as_posix(),
                    datetime.fromtimestamp(mtime, tz=UTC),
                )
    elif isinstance(storage, S3Storage):
        prefix = storage.location.strip("/")
        prefix = f"{prefix}/" if prefix else ""
        for obj in storage.bucket.objects.filter(Prefix=prefix):
            yield obj.key[len(prefix) :], obj.last_modified
    else:
        yield from _list_generic(storage, "")


def _list_generic(storage: Storage, path: str) -> Iterator[tuple[str, datetime]]:
    dirs, files = storage.listdir(path)
    for name in files:
        full = f"{path}/{name}" if path else name
        yield full, storage.get_modified_time(full)
    for name in dirs:
        yield from _list_generic(storage, f"{path}/{name}" if path else name)


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def sweep(*, delete: bool = False, grace: timedelta = DEFAULT_GRACE) -> SweepReport:
    """Compare the storage with the rows. Files without a row are orphans (a crash or a
    rolled-back upload); with ``delete=True`` those older than ``grace`` are removed —
    younger ones may belong to an upload whose transaction has not committed yet. Rows
    whose file is missing are reported, never deleted: that is data loss to investigate
    (restore the file from a backup)."""
    storage = _storage()
    report = SweepReport()
    started = timezone.now()
    cutoff = started - grace
    listed: dict[str, datetime] = dict(_list_files(storage))
    report.files = len(listed)
    for batch in _batched(sorted(listed), 500):
        known = set(
            Blob.objects.filter(storage_name__in=batch).values_list("storage_name", flat=True)
        )
        report.orphans.extend(name for name in batch if name not in known)
    for name in report.orphans:
        if not delete or listed[name] > cutoff:
            if delete:
                report.kept.append(name)
            continue
        if Blob.objects.filter(storage_name=name).exists():  # committed meanwhile
            continue
        storage.delete(name)
        report.deleted.append(name)
    # A row older than the listing had its file written before the listing began.
    rows = Blob.objects.filter(created_at__lt=started).values_list("pk", "storage_name")
    report.missing = [pk for pk, name in rows.iterator(chunk_size=2000) if name not in listed]
    tmp = _tmp_dir()
    limit = time.time() - grace.total_seconds()
    # Everything in tmp/ is transient: blob temp files, upload spools and the private
    # folders of extraction, previews and downloads. Left over only by a killed process.
    for path in sorted(tmp.iterdir()):
        try:
            old = path.lstat().st_mtime < limit
        except FileNotFoundError:
            continue
        if old:
            report.stale_temp.append(path.name)
            if delete:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
    return report
