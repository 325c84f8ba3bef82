"""Builders of small document files (good and hostile) for the document-processing tests."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CUAD_PDF = SHARED / "data" / "cuad" / "pdf"
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def pdf_bytes(pages: list[str], *, extra_objects: bytes = b"") -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page, written by hand."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    font_id = 3 + 2 * count
    for i, text in enumerate(pages):
        content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue() + extra_objects


def flate_bomb_pdf(inflated_mb: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` MB of spaces."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(chunk) for _ in range(inflated_mb)) + compressor.flush()
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data
    body = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(body, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 5\n0000000000 65535 f \n")
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def text_image(lines: list[str], *, size: tuple[int, int] = (1400, 500)) -> Image.Image:
    """White image with black text (Chinese needs the Noto CJK font)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(CJK_FONT), 48, index=2)
    for n, line in enumerate(lines):
        draw.text((60, 60 + n * 90), line, font=font, fill="black")
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def image_pdf(path: Path, image: Image.Image) -> None:
    """A PDF with one page holding only ``image`` (a scan: no text layer)."""
    pdf = pdfium.PdfDocument.new()
    width, height = image.width * 72 / 200, image.height * 72 / 200
    page = pdf.new_page(width, height)
    obj = pdfium.PdfImage.new(pdf)
    obj.set_bitmap(pdfium.PdfBitmap.from_pil(image))
    obj.set_matrix(pdfium.PdfMatrix().scale(width, height))
    page.insert_obj(obj)
    page.gen_content()
    pdf.save(str(path))


def encrypted_pdf_bytes() -> bytes:
    """A PDF protected by a user password (standard security handler, RC4 40-bit).

    The /U and /O entries are not derived from any password we know, so the empty
    password fails exactly as for a document locked by its author."""
    base = pdf_bytes(["secret"])
    head = base[: base.rindex(b"trailer")]
    xref_at = head.rindex(b"xref")
    body, xref = head[:xref_at], head[xref_at:]
    lines = xref.split(b"\n")
    number = int(lines[1].split()[1])  # the next free object number
    encrypt_obj = (
        b"%d 0 obj\n<< /Filter /Standard /V 1 /R 2 /P -44 /O <%s> /U <%s> >>\nendobj\n"
        % (number, b"ab" * 32, b"cd" * 32)
    )
    entries = [*lines[2 : 2 + number], b"%010d 00000 n " % len(body)]
    new_xref_at = len(body) + len(encrypt_obj)
    xref_new = b"xref\n0 %d\n" % len(entries) + b"\n".join(entries) + b"\n"
    trailer = (
        b"trailer\n<< /Size %d /Root 1 0 R /Encrypt %d 0 R /ID [<%s> <%s>] >>\n"
        b"startxref\n%d\n%%%%EOF\n" % (len(entries), number, b"00" * 16, b"00" * 16, new_xref_at)
    )
    return body + encrypt_obj + xref_new + trailer


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels."""
    data = bytearray(png_bytes(text_image(["x"], size=(8, 8))))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)
