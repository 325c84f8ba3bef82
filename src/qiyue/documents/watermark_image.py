"""Drawing the download watermark (水印) with Pillow: the tile stamped on PDF pages and
the overlay on image previews.

Chinese needs a CJK font: :func:`find_cjk_font` looks for Noto Sans CJK (Debian
``fonts-noto-cjk``) and falls back to Pillow's built-in Latin font, in which case
characters it cannot draw are replaced by ``?`` so the user name and time still show.
Free of Django so the document worker can import it.
"""

from __future__ import annotations

import functools
import io
import math
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["find_cjk_font", "tile_layout", "watermark_png", "watermark_tile"]

_KNOWN_FONTS = [
    # (path, face index of Simplified Chinese in the collection)
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
]

_COLOR = (200, 40, 40)
_ALPHA = 72  # of 255: legible but leaves the contract readable


@functools.cache
def find_cjk_font() -> tuple[str, int] | None:
    """``(path, face index)`` of a font that draws Simplified Chinese, or None."""
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            out = subprocess.run(  # noqa: S603 - fixed argv
                [fc_match, "-f", "%{file}\n%{index}\n%{lang}", "Noto Sans CJK SC:lang=zh-cn"],
                capture_output=True,
                timeout=5,
                check=False,
                text=True,
            ).stdout
            found, face, langs = ([*out.split("\n"), "", "", ""])[:3]
            if found and Path(found).is_file() and "zh-cn" in langs.split("|"):
                return found, int(face or 0)
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    for path, index in _KNOWN_FONTS:
        if Path(path).is_file():
            return path, index
    return None


def _font(
    size: int, font_path: str | None, font_index: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if font_path:
        try:
            return ImageFont.truetype(font_path, size, index=font_index)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _drawable(text: str, font_path: str | None) -> str:
    if font_path:
        return text
    return "".join(ch if ch.isascii() else "?" for ch in text)


def tile_layout(width: float, height: float) -> tuple[float, list[tuple[float, float]]]:
    """Side and offsets of the square tiles that stamp a ``width`` × ``height`` page:
    side by side along the long edge without overlap, centred across the short one."""
    short, long_ = min(width, height), max(width, height)
    count = max(1, math.ceil(long_ / short - 0.05))
    side = min(short, long_ / count)
    margin_long = (long_ - side * count) / 2
    margin_short = (short - side) / 2
    spots = [(margin_long + n * side, margin_short) for n in range(count)]
    if height > width:
        spots = [(y, x) for x, y in spots]
    return side, spots


def watermark_tile(
    text: str, side_px: int, font_path: str | None = None, font_index: int = 0
) -> Image.Image:
    """A transparent square RGBA tile with ``text`` drawn twice along the diagonal."""
    text = _drawable(" ".join(text.split())[:120] or "-", font_path)
    size = max(12, side_px // 24)
    font = _font(size, font_path, font_index)
    # Two lines at 35°, 0.2 side either side of the centre, stay inside the square when
    # each is at most ~0.9 side long.
    left, top, right, bottom = font.getbbox(text)
    longest = side_px * 0.85
    if right - left > longest:
        size = max(8, int(size * longest / (right - left)))
        font = _font(size, font_path, font_index)
        left, top, right, bottom = font.getbbox(text)
    line_w, line_h = right - left, bottom - top
    band = Image.new("RGBA", (int(side_px * 1.42), int(side_px * 1.42)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    cx = (band.width - line_w) // 2 - left
    for offset in (-side_px // 5, side_px // 5):
        cy = (band.height - line_h) // 2 - top + offset
        draw.text((cx, cy), text, font=font, fill=(*_COLOR, _ALPHA))
    band = band.rotate(35, resample=Image.Resampling.BICUBIC)
    x0 = (band.width - side_px) // 2
    return band.crop((x0, x0, x0 + side_px, x0 + side_px))


def watermark_png(png_bytes: bytes, text: str, *, max_pixels: int = 40_000_000) -> bytes:
    """Stamp ``text`` over a PNG (a preview page) and return the new PNG bytes."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    with Image.open(io.BytesIO(png_bytes)) as source:
        if source.width * source.height > max_pixels:
            raise ValueError("image too large to watermark")
        base = source.convert("RGBA")
    font = find_cjk_font()
    side, spots = tile_layout(base.width, base.height)
    tile = watermark_tile(text, max(1, int(side)), *(font or (None, 0)))
    for x, y in spots:
        base.alpha_composite(tile, (int(x), int(y)))
    out = io.BytesIO()
    base.convert("RGB").save(out, format="PNG")
    return out.getvalue()
