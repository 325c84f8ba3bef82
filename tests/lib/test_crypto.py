"""Chunked AES-256-GCM envelope encryption: round trips of every size, and any change to
the ciphertext or the key is refused with a clear error instead of garbage."""

from __future__ import annotations

import io
import os

import pytest

from qiyue.lib import crypto
from qiyue.lib.crypto import (
    HEADER_SIZE,
    TAG_SIZE,
    DecryptionError,
    Keyring,
    KeyringError,
    UnknownKeyError,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    encrypted_size,
    new_data_key,
    unwrap_key,
    wrap_key,
)

CHUNK = 1024  # small chunks keep the boundary tests fast; the format is the same


class TrickleReader:
    """A raw stream that returns at most 100 bytes per read, like a socket."""

    def __init__(self, data: bytes) -> None:
        self.buf = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self.buf.read(min(n, 100) if n >= 0 else 100)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 7])
def test_round_trip_at_every_chunk_boundary(size: int) -> None:
    key = new_data_key()
    data = os.urandom(size)
    sealed = encrypt_bytes(data, key, chunk_size=CHUNK)
    assert len(sealed) == encrypted_size(size, chunk_size=CHUNK)
    assert decrypt_bytes(sealed, key) == data


def test_round_trip_of_several_megabytes_with_the_default_chunk_size() -> None:
    key = new_data_key()
    data = os.urandom(3 * 1024 * 1024 + 12345)
    out = io.BytesIO()
    assert encrypt_stream(io.BytesIO(data), out, key) == len(data)
    chunks = list(decrypt_stream(io.BytesIO(out.getvalue()), key))
    assert max(len(c) for c in chunks) == crypto.DEFAULT_CHUNK_SIZE
    assert b"".join(chunks) == data


def test_short_reads_of_a_raw_stream_give_the_same_ciphertext_layout() -> None:
    key = new_data_key()
    data = os.urandom(5 * CHUNK + 3)
    out = io.BytesIO()
    encrypt_stream(TrickleReader(data), out, key, chunk_size=CHUNK)
    assert len(out.getvalue()) == encrypted_size(len(data), chunk_size=CHUNK)
    assert b"".join(decrypt_stream(TrickleReader(out.getvalue()), key)) == data


def test_the_same_content_encrypts_differently_each_time() -> None:
    key = new_data_key()
    assert encrypt_bytes(b"same", key) != encrypt_bytes(b"same", key)


def _sealed(chunks: int = 4) -> tuple[bytes, bytes, bytes]:
    key = new_data_key()
    data = os.urandom(chunks * CHUNK)
    return key, data, encrypt_bytes(data, key, chunk_size=CHUNK)


def _records(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_SIZE:]
    size = CHUNK + TAG_SIZE
    return sealed[:HEADER_SIZE], [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("cut", [1, TAG_SIZE, CHUNK + TAG_SIZE, 2 * (CHUNK + TAG_SIZE), 5])
def test_truncated_ciphertext_is_refused(cut: int) -> None:
    key, _data, sealed = _sealed()
    with pytest.raises(DecryptionError, match="wrong master key or tampered data"):
        decrypt_bytes(sealed[:-cut], key)


def test_ciphertext_cut_to_the_header_or_less_is_refused() -> None:
    key, _data, sealed = _sealed()
    for cut in (sealed[:HEADER_SIZE], sealed[:5], b""):
        with pytest.raises(DecryptionError):
            decrypt_bytes(cut, key)


def test_reordered_chunks_are_refused() -> None:
    key, _data, sealed = _sealed()
    header, records = _records(sealed)
    records[0], records[1] = records[1], records[0]
    with pytest.raises(DecryptionError, match="chunk 0"):
        decrypt_bytes(header + b"".join(records), key)


def test_a_dropped_middle_chunk_is_refused() -> None:
    key, _data, sealed = _sealed()
    header, records = _records(sealed)
    del records[1]
    with pytest.raises(DecryptionError):
        decrypt_bytes(header + b"".join(records), key)


@pytest.mark.parametrize("extra", [b"x", os.urandom(CHUNK + TAG_SIZE)])
def test_appended_bytes_are_refused(extra: bytes) -> None:
    key, _data, sealed = _sealed()
    with pytest.raises(DecryptionError):
        decrypt_bytes(sealed + extra, key)


def test_a_chunk_copied_from_another_blob_with_the_same_key_is_refused() -> None:
    key = new_data_key()
    one = encrypt_bytes(os.urandom(2 * CHUNK), key, chunk_size=CHUNK)
    two = encrypt_bytes(os.urandom(2 * CHUNK), key, chunk_size=CHUNK)
    header, records = _records(one)
    _header2, records2 = _records(two)
    with pytest.raises(DecryptionError):
        decrypt_bytes(header + records[0] + records2[1], key)


@pytest.mark.parametrize("position", [0, 4, 6, HEADER_SIZE - 1, HEADER_SIZE, -1, -TAG_SIZE - 1])
def test_a_flipped_bit_anywhere_is_refused(position: int) -> None:
    key, _data, sealed = _sealed()
    tampered = bytearray(sealed)
    tampered[position] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt_bytes(bytes(tampered), key)


def test_the_wrong_data_key_is_refused_not_garbage() -> None:
    _key, _data, sealed = _sealed()
    with pytest.raises(DecryptionError, match=r"blob x\.qyb cannot be decrypted"):
        decrypt_bytes(sealed, new_data_key(), label="blob x.qyb")


def test_wrapped_data_keys_unwrap_with_their_master_key() -> None:
    keyring = Keyring.parse(Keyring.generate_spec("k1"))
    data_key = new_data_key()
    wrapped = wrap_key(keyring.current_key, "k1", data_key)
    assert data_key not in wrapped
    assert unwrap_key(keyring, wrapped) == data_key


def test_a_wrong_master_key_under_the_same_id_gives_a_clear_error() -> None:
    right = Keyring.parse(Keyring.generate_spec("k1"))
    wrong = Keyring.parse(Keyring.generate_spec("k1"))
    wrapped = wrap_key(right.current_key, "k1", new_data_key())
    with pytest.raises(DecryptionError, match="wrong master key or tampered data"):
        unwrap_key(wrong, wrapped, label="blob ab/cd/x.qyb")


def test_a_master_key_missing_from_the_keyring_is_named() -> None:
    old = Keyring.parse(Keyring.generate_spec("old"))
    new = Keyring.parse(Keyring.generate_spec("new"))
    wrapped = wrap_key(old.current_key, "old", new_data_key())
    with pytest.raises(UnknownKeyError, match="master key 'old', which is not in the keyring"):
        unwrap_key(new, wrapped)


def test_the_key_id_is_bound_to_the_wrapped_key() -> None:
    spec_a = Keyring.generate_spec("a")
    key = spec_a.split(":", 1)[1]
    keyring = Keyring.parse(f"a:{key},b:{key}")  # same key under two ids
    wrapped = wrap_key(keyring.keys["a"], "a", new_data_key())
    relabelled = wrapped.replace(b"\x01a", b"\x01b", 1)
    with pytest.raises(DecryptionError):
        unwrap_key(keyring, relabelled)


def test_keyring_parses_ids_bare_keys_and_both_base64_alphabets() -> None:
    raw = bytes(range(256))[-32:]  # has + and / in standard base64
    import base64

    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert "+" in standard or "/" in standard
    keyring = Keyring.parse(f"new:{urlsafe}, {standard}")
    assert keyring.current == "new"
    assert keyring.keys["new"] == raw
    assert keyring.keys[crypto.fingerprint(raw)] == raw


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "not base64!",
        "k1:" + "A" * 20,
        "k1:" + "A" * 43 + ",k1:" + "B" * 43,
        "bad id:" + "A" * 43,
    ],
)
def test_keyring_refuses_bad_specs(spec: str) -> None:
    with pytest.raises(KeyringError):
        Keyring.parse(spec)


def test_keyring_repr_does_not_show_keys() -> None:
    keyring = Keyring.parse(Keyring.generate_spec("k1"))
    assert crypto.encode_key(keyring.current_key)[:10] not in repr(keyring)
