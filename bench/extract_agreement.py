"""Agreement of Qiyue's PDF text extraction with CUAD's reference texts.

Extracts every PDF in ``../shared/data/cuad/pdf/`` (through the same bounded worker the
jobs use) and compares it with the matching ``txt/`` file: SequenceMatcher ratio over
whitespace-normalised text and a token-level F1, per file and overall, plus the time per
page. Run: ``QIYUE_DATA_DIR=/tmp/qy-bench .venv/bin/python bench/extract_agreement.py``.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiyue.settings")

from qiyue.documents.extract import extract_text
from qiyue.documents.sniff import sniff_path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def normalise(text: str) -> str:
    return " ".join(text.split())


def stem_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", Path(name).stem.lower())


def token_f1(a: str, b: str) -> float:
    ta, tb = Counter(a.split()), Counter(b.split())
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ta.values()), common / sum(tb.values())
    return 2 * precision * recall / (precision + recall)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED / "data" / "cuad"
    texts = {stem_key(p.name): p for p in (root / "txt").glob("*.txt")}
    ratios: list[float] = []
    f1s: list[float] = []
    pages = 0
    seconds = 0.0
    for pdf in sorted((root / "pdf").iterdir()):
        reference = texts.get(stem_key(pdf.name))
        if reference is None:
            print(f"-- no reference text for {pdf.name}")
            continue
        started = time.perf_counter()
        result = extract_text(pdf, sniff_path(pdf))
        elapsed = time.perf_counter() - started
        a, b = normalise(result.text), normalise(reference.read_text("utf-8"))
        ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        f1 = token_f1(a, b)
        ratios.append(ratio)
        f1s.append(f1)
        pages += len(result.pages)
        seconds += elapsed
        print(
            f"{ratio:6.3f} {f1:6.3f} {len(result.pages):3d}p "
            f"{elapsed / max(len(result.pages), 1) * 1000:6.1f} ms/page "
            f"{result.status.value:6s} {pdf.name[:70]}"
        )
    n = len(ratios)
    print(
        f"\n{n} PDFs, {pages} pages: mean ratio {sum(ratios) / n:.4f} "
        f"(min {min(ratios):.3f}), mean token F1 {sum(f1s) / n:.4f} (min {min(f1s):.3f}), "
        f"{seconds / pages * 1000:.1f} ms/page incl. worker start "
        f"({seconds / n * 1000:.0f} ms/file)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
