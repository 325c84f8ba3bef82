"""Deciding what a file is from its bytes, never from its name.

Uploads are accepted only when their content is one of the kinds Qiyue can store, show
and extract (PDF, DOCX, DOC, XLSX, JPEG, PNG, TIFF, OFD, plain text). Anything else —
HTML, SVG, scripts, executables, archives — is refused with :class:`UnsupportedFileType`,
whatever the file is called, because a browser or a colleague's desktop would otherwise
trust the name. The original name is kept only as display metadata, cleaned by
:func:`safe_display_name`.

Pure module: no Django models, no database.
"""

from __future__ import annotations

import enum
import io
import os
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

__all__ = [
    "HEAD_BYTES",
    "FileKind",
    "Kind",
    "UnsupportedFileType",
    "ZipBombError",
    "check_zip_bounds",
    "safe_display_name",
    "sniff",
    "sniff_path",
]

#: How many leading bytes :func:`sniff` needs for non-ZIP kinds (ZIP-based kinds are
#: decided from the central directory, see :func:`sniff`).
HEAD_BYTES = 64 * 1024

# Central directories larger than this are not inspected (a DOCX has a few dozen members).
_MAX_ZIP_MEMBERS = 20_000
_TEXT_SAMPLE = 64 * 1024


class Kind(enum.StrEnum):
    """The file kinds Qiyue accepts."""

    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    DOC = "doc"
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    OFD = "ofd"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class FileKind:
    """What a file is: its kind, canonical extension (with dot) and MIME type."""

    kind: Kind
    extension: str
    mime: str

    @property
    def is_image(self) -> bool:
        return self.kind in (Kind.JPEG, Kind.PNG, Kind.TIFF)

    @property
    def can_preview(self) -> bool:
        """Whether :mod:`qiyue.documents.render` can render pages of this kind."""
        return self.kind is Kind.PDF or self.is_image


KINDS: dict[Kind, FileKind] = {
    Kind.PDF: FileKind(Kind.PDF, ".pdf", "application/pdf"),
    Kind.DOCX: FileKind(
        Kind.DOCX,
        ".docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    Kind.XLSX: FileKind(
        Kind.XLSX, ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    Kind.DOC: FileKind(Kind.DOC, ".doc", "application/msword"),
    Kind.JPEG: FileKind(Kind.JPEG, ".jpg", "image/jpeg"),
    Kind.PNG: FileKind(Kind.PNG, ".png", "image/png"),
    Kind.TIFF: FileKind(Kind.TIFF, ".tif", "image/tiff"),
    Kind.OFD: FileKind(Kind.OFD, ".ofd", "application/ofd"),
    Kind.TEXT: FileKind(Kind.TEXT, ".txt", "text/plain; charset=utf-8"),
}

#: Stable codes of refusals with their English message, marked for translation (show
#: with ``gettext``; see :attr:`UnsupportedFileType.user_message`).
REFUSALS = {
    "empty": _("The file is empty."),
    "markup": _("HTML, SVG and XML files are not accepted."),
    "script": _("Scripts are not accepted."),
    "executable": _("Programs and executables are not accepted."),
    "archive": _("This archive is not a Word, Excel or OFD document."),
    "zip_bomb": _("The file looks like a zip bomb and was refused."),
    "unknown": _(
        "This file type is not accepted. Upload PDF, Word (DOCX/DOC), Excel (XLSX), "
        "JPEG, PNG, TIFF, OFD or plain text."
    ),
}


class UnsupportedFileType(ValueError):
    """The bytes are not a kind Qiyue accepts. ``code`` is stable, ``str()`` is English."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        message = REFUSALS.get(code, REFUSALS["unknown"])
        super().__init__(f"{message} ({detail})" if detail else message)

    @property
    def user_message(self) -> str:
        """The refusal in the active language (call inside a request)."""
        return gettext(REFUSALS.get(self.code, REFUSALS["unknown"]))


class ZipBombError(UnsupportedFileType):
    """A ZIP whose declared uncompressed size or compression ratio is beyond the caps."""

    def __init__(self, detail: str) -> None:
        super().__init__("zip_bomb", detail)


# ---------------------------------------------------------------------------------------
# sniffing


def sniff(head: bytes, *, name: str = "") -> FileKind:
    """The kind of a file from its content.

    ``head`` is the start of the file (at least :data:`HEAD_BYTES` when the file is
    larger). ZIP-based kinds (DOCX, XLSX, OFD) are recognised from the central directory
    when ``head`` is the whole file, otherwise from the local headers in ``head``; prefer
    :func:`sniff_path` for files on disk. ``name`` is only used in the error message —
    a file named ``.pdf`` that is HTML is still refused.

    Raises :class:`UnsupportedFileType` for anything not accepted.
    """
    label = f"{safe_display_name(name)}: " if name else ""
    if not head:
        raise UnsupportedFileType("empty", label.rstrip(": "))
    kind = _sniff_magic(head)
    if kind is None and head.startswith(b"PK\x03\x04"):
        kind = _zip_kind_from_bytes(head)
        if kind is None:
            raise UnsupportedFileType("archive", label + "ZIP without a known document part")
    if kind is None:
        _refuse_known_bad(head, label)
        if _looks_like_text(head[:_TEXT_SAMPLE]):
            kind = Kind.TEXT
    if kind is None:
        raise UnsupportedFileType("unknown", label + _describe(head))
    return KINDS[kind]


def sniff_path(path: Path | str) -> FileKind:
    """Like :func:`sniff` for a file on disk; reads ZIP central directories from the file."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        if head.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(fh) as zf:
                    kind = _zip_kind_from_names(_bounded_names(zf))
            except zipfile.BadZipFile as exc:
                raise UnsupportedFileType("archive", f"damaged ZIP: {exc}") from exc
            if kind is None:
                raise UnsupportedFileType("archive", "ZIP without a known document part")
            return KINDS[kind]
    return sniff(head)


def _sniff_magic(head: bytes) -> Kind | None:
    if head.startswith(b"%PDF-"):
        return Kind.PDF
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Kind.DOC
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return Kind.TIFF
    return None


def _bounded_names(zf: zipfile.ZipFile) -> list[str]:
    infos = zf.infolist()
    if len(infos) > _MAX_ZIP_MEMBERS:
        raise UnsupportedFileType("archive", f"{len(infos)} members")
    return [i.filename for i in infos]


def _zip_kind_from_names(names: list[str]) -> Kind | None:
    members = set(names)
    if "word/document.xml" in members:
        return Kind.DOCX
    if "xl/workbook.xml" in members:
        return Kind.XLSX
    if "OFD.xml" in members or "ofd.xml" in members:
        return Kind.OFD
    return None


def _zip_kind_from_bytes(data: bytes) -> Kind | None:
    # The whole file: trust the central directory only.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _zip_kind_from_names(_bounded_names(zf))
    except zipfile.BadZipFile:
        pass
    # Only the head: walk the local file headers it holds.
    names: list[str] = []
    offset = 0
    while offset + 30 <= len(data) and data[offset : offset + 4] == b"PK\x03\x04":
        flags, _method, _t, _d, _crc, csize, _usize, nlen, xlen = struct.unpack(
            "<HHHHIIIHH", data[offset + 6 : offset + 30]
        )
        names.append(data[offset + 30 : offset + 30 + nlen].decode("utf-8", "replace"))
        if flags & 0x08:  # sizes follow the data: cannot skip reliably
            break
        offset += 30 + nlen + xlen + csize
    return _zip_kind_from_names(names)


_MARKUP = re.compile(
    rb"<\s*(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|xsl|form)\b",
    re.IGNORECASE,
)


def _refuse_known_bad(head: bytes, label: str) -> None:
    sample = head[:_TEXT_SAMPLE]
    stripped = sample.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if sample.startswith((b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")):
        raise UnsupportedFileType("executable", label + _describe(head))
    if stripped.startswith(b"#!"):
        raise UnsupportedFileType("script", label + "starts with #!")
    if stripped.startswith(b"<") or _MARKUP.search(sample):
        raise UnsupportedFileType("markup", label + "markup")
    if stripped.startswith((b"{\\rtf", b"%!PS")):
        raise UnsupportedFileType("unknown", label + _describe(head))


def _looks_like_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = sample.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            # A multibyte character cut by the end of the sample is fine.
            if exc.start >= len(sample) - 4 and len(sample) >= _TEXT_SAMPLE:
                try:
                    text = sample[: exc.start].decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
    if not text:
        return False
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    return control <= len(text) // 100


def _describe(head: bytes) -> str:
    return "starts with " + head[:8].hex(" ")


# ---------------------------------------------------------------------------------------
# ZIP bounds (DOCX/XLSX/OFD are ZIPs; check before handing them to any parser)


@dataclass(frozen=True, slots=True)
class ZipStats:
    members: int
    compressed: int
    uncompressed: int


def check_zip_bounds(
    path: Path | str,
    *,
    max_total: int = 200 * 1024 * 1024,
    max_ratio: float = 100.0,
    ratio_floor: int = 1024 * 1024,
    max_members: int = _MAX_ZIP_MEMBERS,
) -> ZipStats:
    """Refuse a ZIP whose central directory declares a decompression bomb.

    Caps: total uncompressed size ``max_total``; compression ratio ``max_ratio`` for any
    member larger than ``ratio_floor`` uncompressed (small XML parts legitimately compress
    well); member count ``max_members``. Only the central directory is read. Raises
    :class:`ZipBombError` or :class:`UnsupportedFileType`.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedFileType("archive", f"damaged ZIP: {exc}") from exc
    if len(infos) > max_members:
        raise ZipBombError(f"{len(infos)} members (limit {max_members})")
    total = compressed = 0
    for info in infos:
        total += info.file_size
        compressed += info.compress_size
        if total > max_total:
            raise ZipBombError(f"more than {max_total} bytes uncompressed")
        if info.file_size > ratio_floor and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ZipBombError(
                f"{info.filename!r} inflates {info.file_size // max(info.compress_size, 1)}×"
            )
    return ZipStats(len(infos), compressed, total)


# ---------------------------------------------------------------------------------------
# display names

_BIDI_AND_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_MAX_NAME = 200
_SPACES = frozenset("\t\n\r\v\f\u00a0\u2028\u2029\u3000")


def safe_display_name(original: str, *, max_chars: int = _MAX_NAME) -> str:
    """A harmless display form of an uploaded file's original name.

    Drops directory parts (``../../etc/passwd`` → ``passwd``, also with backslashes),
    control characters, bidirectional overrides and zero-width characters, collapses
    white space, and trims to ``max_chars`` characters keeping the extension. Never
    empty (``"file"``). This is metadata for display (escaped by templates); the stored
    name is generated elsewhere.
    """
    name = unicodedata.normalize("NFC", original or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _BIDI_AND_INVISIBLE.sub("", name)
    name = "".join(
        " " if ch in _SPACES else ch
        for ch in name
        if ch in _SPACES or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    name = " ".join(name.split()).strip(". ")
    if not name:
        return "file"
    if len(name) > max_chars:
        stem, ext = os.path.splitext(name)
        if not (1 < len(ext) <= 16):
            ext = ""
        name = stem[: max_chars - len(ext)].rstrip(". ") + ext
    return name or "file"
