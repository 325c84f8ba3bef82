"""Previews render pages of PDFs and images as PNG, and downloads carry a visible
watermark with the user's name and the time — in Chinese too."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from qiyue.documents.render import (
    RenderError,
    page_count,
    render_page_png,
    watermark_image_png,
    watermark_pdf,
)
from qiyue.documents.sniff import KINDS, Kind
from qiyue.documents.watermark_image import find_cjk_font

from .doc_files import encrypted_pdf_bytes, pdf_bytes, png_bomb, png_bytes, text_image

PDF, PNG, JPEG, TIFF = KINDS[Kind.PDF], KINDS[Kind.PNG], KINDS[Kind.JPEG], KINDS[Kind.TIFF]
WATERMARK = "张伟 sales1 2026-11-26 18:30"


@pytest.fixture
def two_page_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_bytes(["First page", "Second page"]))
    return path


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_pdf_page_renders_as_png_of_the_requested_width(two_page_pdf: Path) -> None:
    image = _image(render_page_png(two_page_pdf, PDF, page=2, width_px=600))
    assert image.format == "PNG"
    assert image.width == 600
    assert image.height == pytest.approx(600 * 792 / 612, abs=2)


def test_page_count_of_pdfs_and_images(tmp_path: Path, two_page_pdf: Path) -> None:
    assert page_count(two_page_pdf, PDF) == 2
    png = tmp_path / "a.png"
    png.write_bytes(png_bytes(text_image(["x"], size=(40, 40))))
    assert page_count(png, PNG) == 1
    assert page_count(png, KINDS[Kind.DOCX]) is None
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage")
    assert page_count(broken, PDF) is None


def test_page_out_of_range_is_a_clear_error(two_page_pdf: Path) -> None:
    with pytest.raises(RenderError) as caught:
        render_page_png(two_page_pdf, PDF, page=3)
    assert caught.value.code == "page_out_of_range"


def test_password_protected_pdf_cannot_be_previewed(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf_bytes())
    with pytest.raises(RenderError) as caught:
        render_page_png(path, PDF, page=1)
    assert caught.value.code == "password"


def test_images_are_shrunk_to_the_width_and_exif_rotated(tmp_path: Path) -> None:
    source = Image.new("RGB", (400, 200), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "photo.jpg"
    source.save(path, format="JPEG", exif=exif)
    image = _image(render_page_png(path, JPEG, page=1, width_px=100))
    assert image.size == (100, 200)


def test_multi_page_tiff_frames_are_pages(tmp_path: Path) -> None:
    frames = [Image.new("L", (50, 60), shade) for shade in (0, 255)]
    path = tmp_path / "scan.tif"
    frames[0].save(path, format="TIFF", save_all=True, append_images=frames[1:])
    assert page_count(path, TIFF) == 2
    assert _image(render_page_png(path, TIFF, page=2)).getpixel((5, 5)) == 255


def test_png_decompression_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(60_000, 60_000))
    with pytest.raises(RenderError) as caught:
        render_page_png(path, PNG, page=1)
    assert caught.value.code == "image_too_large"


def test_watermarked_pdf_keeps_its_pages_and_shows_the_stamp(
    tmp_path: Path, two_page_pdf: Path
) -> None:
    out = tmp_path / "out.pdf"
    watermark_pdf(two_page_pdf, out, text=WATERMARK)
    original, stamped = pdfium.PdfDocument(str(two_page_pdf)), pdfium.PdfDocument(str(out))
    assert len(stamped) == len(original) == 2
    for index in range(2):
        before = original[index].render(scale=1).to_pil().convert("RGB")
        after = stamped[index].render(scale=1).to_pil().convert("RGB")
        box = ImageChops.difference(before, after).getbbox()
        assert box is not None
        # the stamp crosses the middle of the page
        assert box[0] < before.width / 2 < box[2] and box[1] < before.height / 2 < box[3]
        # and its text stays readable: red-tinted, light
        red, green, _blue = after.split()
        assert ImageChops.subtract(red, green, offset=-20).getbbox() is not None
    assert stamped[0].get_textpage().get_text_range().strip() == "First page"


@pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font installed")
def test_watermark_draws_chinese_glyphs_not_boxes() -> None:
    from qiyue.documents.watermark_image import watermark_tile

    font = find_cjk_font()
    assert font is not None
    chinese = watermark_tile("张伟", 400, *font).getchannel("A")
    other = watermark_tile("李娜", 400, *font).getchannel("A")
    # different characters draw different shapes (tofu boxes would be identical)
    assert ImageChops.difference(chinese, other).getbbox() is not None


def test_watermark_of_a_password_protected_pdf_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf_bytes())
    with pytest.raises(RenderError) as caught:
        watermark_pdf(path, tmp_path / "out.pdf", text=WATERMARK)
    assert caught.value.code == "password"
    assert not (tmp_path / "out.pdf").exists()


def test_watermark_on_a_preview_image_changes_it(two_page_pdf: Path) -> None:
    png = render_page_png(two_page_pdf, PDF, page=1, width_px=400)
    stamped = watermark_image_png(png, WATERMARK)
    before, after = _image(png).convert("RGB"), _image(stamped).convert("RGB")
    assert before.size == after.size
    assert ImageChops.difference(before, after).getbbox() is not None
