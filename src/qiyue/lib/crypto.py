"""Envelope encryption of documents: AES-256-GCM in chunks, data keys wrapped by master keys.

Pure helpers (no Django). Every blob has its own random 256-bit *data key*; the content
is encrypted with it, and the data key is stored *wrapped* (encrypted) by a *master key*
from the :class:`Keyring`. Rotating the master key re-wraps the 32-byte data keys and
never touches the content.

Blob format (``QYB1``), all integers big-endian::

    header  = b"QYB1" | version (1 byte, = 1) | chunk size (4 bytes) | nonce prefix (8 bytes)
    chunk i = AES-256-GCM(data key, nonce = prefix | i (4 bytes),
                          plaintext[i*chunk size : (i+1)*chunk size],
                          aad = header | i (8 bytes) | final flag (1 byte))
              = ciphertext (same length as the plaintext) | tag (16 bytes)

Every chunk but the last carries exactly ``chunk size`` bytes of plaintext; the last one
carries 0..chunk size bytes and is the only one with the final flag set (an empty
plaintext is one empty final chunk). The AAD binds the header, the index and the flag, so
a flipped bit, reordered or dropped chunks, a truncation at any offset and bytes appended
after the final chunk all fail authentication: :class:`DecryptionError`, never garbage.

Wrapped data key format (``QYK1``)::

    b"QYK1" | len(key id) (1 byte) | key id (ASCII) | nonce (12 bytes) | AES-256-GCM(master
    key, nonce, data key, aad = b"QYK1" | key id) (32 + 16 bytes)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"QYB1"
VERSION = 1
HEADER = struct.Struct(">4sBI8s")  # magic, version, chunk size, nonce prefix
HEADER_SIZE = HEADER.size  # 17
TAG_SIZE = 16
KEY_SIZE = 32
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
MAX_CHUNKS = 2**32  # the nonce counter is 4 bytes
WRAP_MAGIC = b"QYK1"
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class CryptoError(Exception):
    """Base of every error of this module."""


class DecryptionError(CryptoError):
    """Ciphertext that does not authenticate: the wrong key, or the bytes were altered."""


class UnknownKeyError(DecryptionError):
    """A data key was wrapped by a master key that is not in the keyring."""


class KeyringError(CryptoError, ValueError):
    """A master key specification that cannot be used (bad base64, wrong length, …)."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


# -- data keys and content ----------------------------------------------------------------


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0)


def _read_exactly(src: Readable, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at end of stream (raw streams may return short)."""
    data = src.read(size)
    if not data or len(data) == size:
        return data or b""
    parts = [data]
    got = len(data)
    while got < size:
        more = src.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class ChunkSealer:
    """Encrypts the chunks of one blob (the format above). For callers that schedule
    their own I/O — :func:`encrypt_stream` is the simple way. Chunks must be sealed with
    consecutive indexes from 0, each one ``chunk_size`` long except the final one."""

    def __init__(self, data_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if len(data_key) != KEY_SIZE:
            raise CryptoError("a data key has 32 bytes")
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise CryptoError(f"chunk size must be 1..{MAX_CHUNK_SIZE}")
        self.chunk_size = chunk_size
        self._aead = AESGCM(data_key)
        self._prefix = os.urandom(8)
        self.header = HEADER.pack(MAGIC, VERSION, chunk_size, self._prefix)

    def _params(self, index: int, length: int, final: bool) -> tuple[bytes, bytes]:
        if index >= MAX_CHUNKS:
            raise CryptoError("content too large for one blob")
        if length > self.chunk_size or (length != self.chunk_size and not final):
            raise CryptoError("only the final chunk may be shorter than the chunk size")
        return self._prefix + struct.pack(">I", index), _aad(self.header, index, final)

    def seal(self, index: int, plain: bytes | memoryview, final: bool) -> bytes:
        nonce, aad = self._params(index, len(plain), final)
        return self._aead.encrypt(nonce, bytes(plain), aad)

    def seal_into(
        self, index: int, plain: bytes | memoryview, final: bool, out: bytearray
    ) -> memoryview:
        """Encrypt into the reusable buffer ``out``; return the view of the sealed chunk."""
        nonce, aad = self._params(index, len(plain), final)
        view = memoryview(out)[: len(plain) + TAG_SIZE]
        self._aead.encrypt_into(nonce, plain, aad, view)
        return view


def encrypt_chunks(
    src: Readable, data_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(plaintext chunk, encrypted bytes)``; the first item has an empty plaintext
    and the header as its encrypted bytes. Lets a caller hash the plaintext on the way."""
    sealer = ChunkSealer(data_key, chunk_size=chunk_size)
    yield b"", sealer.header
    index = 0
    current = _read_exactly(src, chunk_size)
    while True:
        # Look one chunk ahead: the final flag must be set on the last chunk, also when
        # the size is an exact multiple of the chunk size.
        following = _read_exactly(src, chunk_size) if len(current) == chunk_size else b""
        final = not following
        yield current, sealer.seal(index, current, final)
        if final:
            return
        current = following
        index += 1


def encrypt_stream(
    src: Readable, dst: _Writable, data_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> int:
    """Encrypt everything readable from ``src`` into ``dst``; return the plaintext size."""
    size = 0
    for plain, encrypted in encrypt_chunks(src, data_key, chunk_size=chunk_size):
        size += len(plain)
        dst.write(encrypted)
    return size


def encrypt_bytes(data: bytes, data_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, data_key, chunk_size=chunk_size)
    return out.getvalue()


def decrypt_stream(src: Readable, data_key: bytes, *, label: str = "blob") -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk, each one authenticated before it is yielded.

    Raises :class:`DecryptionError` (naming ``label``) on a wrong key or altered bytes. A
    consumer that must not act on a prefix of a tampered blob reads it to the end first
    (every chunk is authentic on its own; only the end of the stream proves completeness).
    """
    header = _read_exactly(src, HEADER_SIZE)
    if len(header) != HEADER_SIZE:
        raise DecryptionError(f"{label} cannot be decrypted: it is truncated (no header)")
    magic, version, chunk_size, prefix = HEADER.unpack(header)
    if magic != MAGIC or version != VERSION or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError(f"{label} cannot be decrypted: not a Qiyue blob (bad header)")
    if len(data_key) != KEY_SIZE:
        raise DecryptionError(f"{label} cannot be decrypted: the data key is not 32 bytes")
    aead = AESGCM(data_key)
    record = chunk_size + TAG_SIZE
    index = 0
    current = _read_exactly(src, record)
    while True:
        following = _read_exactly(src, record) if len(current) == record else b""
        final = not following
        if len(current) < TAG_SIZE or index >= MAX_CHUNKS:
            raise DecryptionError(
                f"{label} cannot be decrypted: wrong master key or tampered data (truncated)"
            )
        nonce = prefix + struct.pack(">I", index)
        try:
            plain = aead.decrypt(nonce, current, _aad(header, index, final))
        except InvalidTag:
            raise DecryptionError(
                f"{label} cannot be decrypted: wrong master key or tampered data "
                f"(chunk {index} fails authentication)"
            ) from None
        yield plain
        if final:
            return
        current = following
        index += 1


def decrypt_bytes(data: bytes, data_key: bytes, *, label: str = "blob") -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(data), data_key, label=label))


def encrypted_size(plain_size: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    chunks = max(1, -(-plain_size // chunk_size))
    return HEADER_SIZE + plain_size + chunks * TAG_SIZE


# -- master keys --------------------------------------------------------------------------


def fingerprint(master_key: bytes) -> str:
    """A short public id for a key given without one (a hash; reveals nothing usable)."""
    return "k" + hashlib.sha256(b"qiyue master key id\x00" + master_key).hexdigest()[:12]


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """32 bytes from standard or URL-safe base64 (padding optional)."""
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            key = base64.urlsafe_b64decode(padded.encode("ascii"))
        else:
            key = base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyringError("a master key must be base64 of 32 random bytes") from None
    if len(key) != KEY_SIZE:
        raise KeyringError(f"a master key must be 32 bytes; this one has {len(key)}")
    return key


@dataclass(frozen=True)
class Keyring:
    """Master keys by id; ``current`` wraps new data keys, the others only unwrap."""

    keys: dict[str, bytes] = field(repr=False)
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyringError(f"the current key {self.current!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if not KEY_ID_PATTERN.match(key_id):
                raise KeyringError(f"key id {key_id!r} must be 1-32 of A-Z a-z 0-9 _ . -")
            if len(key) != KEY_SIZE:
                raise KeyringError(f"master key {key_id!r} must be 32 bytes")

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """``[id:]key[,[id:]key…]``: base64 keys, the first is current. A key without an
        id gets its :func:`fingerprint` as id."""
        items = [item.strip() for item in text.replace("\n", ",").split(",")]
        items = [item for item in items if item and not item.startswith("#")]
        if not items:
            raise KeyringError("no master key given")
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in items:
            key_id, sep, encoded = item.partition(":")
            if not sep:
                key = decode_key(key_id)
                key_id = fingerprint(key)
            else:
                key_id = key_id.strip()
                key = decode_key(encoded)
            if key_id in keys:
                raise KeyringError(f"master key id {key_id!r} appears twice")
            keys[key_id] = key
            order.append(key_id)
        return cls(keys=keys, current=order[0])

    @classmethod
    def generate_spec(cls, key_id: str | None = None) -> str:
        """A new key as a keyring item, ``id:base64`` (the id defaults to its fingerprint)."""
        key = new_data_key()
        return f"{key_id or fingerprint(key)}:{encode_key(key)}"


def wrap_key(master_key: bytes, key_id: str, data_key: bytes) -> bytes:
    if not KEY_ID_PATTERN.match(key_id):
        raise KeyringError(f"key id {key_id!r} must be 1-32 of A-Z a-z 0-9 _ . -")
    if len(data_key) != KEY_SIZE:
        raise CryptoError("a data key has 32 bytes")
    ident = key_id.encode("ascii")
    nonce = os.urandom(12)
    sealed = AESGCM(master_key).encrypt(nonce, data_key, WRAP_MAGIC + ident)
    return WRAP_MAGIC + bytes([len(ident)]) + ident + nonce + sealed


def wrapped_key_id(wrapped: bytes) -> str:
    if len(wrapped) < 6 or wrapped[:4] != WRAP_MAGIC:
        raise DecryptionError("the wrapped data key is malformed")
    length = wrapped[4]
    try:
        return wrapped[5 : 5 + length].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("the wrapped data key is malformed") from None


def unwrap_key(keyring: Keyring, wrapped: bytes, *, label: str = "blob") -> bytes:
    wrapped = bytes(wrapped)
    key_id = wrapped_key_id(wrapped)
    rest = wrapped[5 + len(key_id) :]
    if len(rest) != 12 + KEY_SIZE + TAG_SIZE:
        raise DecryptionError(f"{label} cannot be decrypted: its wrapped data key is malformed")
    master = keyring.keys.get(key_id)
    if master is None:
        raise UnknownKeyError(
            f"{label} cannot be decrypted: its data key is wrapped by master key {key_id!r}, "
            f"which is not in the keyring (known: {', '.join(sorted(keyring.keys))})"
        )
    try:
        return AESGCM(master).decrypt(rest[:12], rest[12:], WRAP_MAGIC + key_id.encode("ascii"))
    except InvalidTag:
        raise DecryptionError(
            f"{label} cannot be decrypted: wrong master key or tampered data "
            f"(master key {key_id!r} does not unwrap its data key)"
        ) from None
