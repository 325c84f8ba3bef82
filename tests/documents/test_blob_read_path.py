"""The cheaper read path of small local blobs and the in-memory cache of unwrapped data
keys (search snippets read a page of documents at a time): same bytes, same errors."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cachetools import LRUCache

from qiyue.documents import blobs
from qiyue.documents.blobs import (
    BlobMissing,
    DecryptionError,
    UnknownKeyError,
    put_blob,
    read_blob,
)
from qiyue.lib.crypto import Keyring

from .conftest import Backend


@pytest.fixture(autouse=True)
def _empty_key_cache() -> None:
    blobs._key_cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["flip", "truncate", "append"])
def test_a_tampered_small_blob_is_refused(backend: Backend, how: str) -> None:
    content = os.urandom(300)
    blob = put_blob(content)
    assert read_blob(blob, limit=1000) == content  # and its data key is now cached
    if backend.kind == "local":  # the one-read path, not the storage's file object
        assert blobs._read_local(blobs._storage(), blob) is not None
    data = bytearray(backend.files()[blob.storage_name])
    if how == "flip":
        data[len(data) // 2] ^= 0x01
    elif how == "truncate":
        del data[-5:]
    else:
        data += b"\0"
    backend.overwrite(blob.storage_name, bytes(data))
    with pytest.raises(DecryptionError, match="wrong master key or tampered data"):
        read_blob(blob, limit=1000)


@pytest.mark.django_db
def test_a_missing_small_blob_is_a_clear_error(backend: Backend) -> None:
    blob = put_blob(b"gone")
    assert read_blob(blob, limit=10) == b"gone"
    backend.remove(blob.storage_name)
    with pytest.raises(BlobMissing, match=blob.storage_name):
        read_blob(blob, limit=10)


@pytest.mark.django_db
def test_a_cached_key_is_not_used_once_its_master_key_is_gone_or_replaced(
    backend: Backend, settings: Any, keyring: Keyring
) -> None:
    blob = put_blob(b"secret terms")
    assert read_blob(blob, limit=100) == b"secret terms"
    assert blobs._key_cache  # in memory only, for the next read
    settings.MASTER_KEYRING = Keyring.parse(Keyring.generate_spec("test1"))  # same id
    with pytest.raises(DecryptionError, match="wrong master key"):
        read_blob(blob, limit=100)
    settings.MASTER_KEYRING = Keyring.parse(Keyring.generate_spec("other"))
    with pytest.raises(UnknownKeyError, match="not in the keyring"):
        read_blob(blob, limit=100)
    settings.MASTER_KEYRING = keyring
    assert read_blob(blob, limit=100) == b"secret terms"


@pytest.mark.django_db
def test_the_key_cache_is_bounded(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blobs, "_key_cache", LRUCache(3))
    stored = [(put_blob(os.urandom(50)), i) for i in range(6)]
    for blob, _i in stored:
        read_blob(blob, limit=100)
    assert len(blobs._key_cache) == 3
    assert set(blobs._key_cache) == {bytes(b.wrapped_key) for b, _i in stored[3:]}
