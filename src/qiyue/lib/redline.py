"""Side-by-side text diff (redline) of two versions of a contract, Chinese-aware.

Lines are matched with :class:`difflib.SequenceMatcher`; inside a changed pair of lines
the difference is computed per character, because Chinese has no spaces between words
and a word diff would mark whole sentences. The result is plain data — segments tagged
equal/insert/delete — for a template to render (and escape); no HTML is built here.

Bounded: above :data:`MAX_LINES` lines per side the line matching uses difflib's
autojunk heuristic, and character diffs are skipped for line pairs longer than
:data:`MAX_PAIR_CHARS` (shown as a whole delete + insert).

Pure module: no Django.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "DiffLine",
    "LineTag",
    "RedlineSummary",
    "SegTag",
    "Segment",
    "collapse",
    "redline",
    "summarize",
]

MAX_LINES = 20_000
MAX_PAIR_CHARS = 5_000
# Below this similarity a "changed" pair is really a removed and an added line.
PAIR_MIN_RATIO = 0.3


class SegTag(enum.StrEnum):
    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


class LineTag(enum.StrEnum):
    EQUAL = "equal"
    INSERT = "insert"  # only on the new side
    DELETE = "delete"  # only on the old side
    CHANGE = "change"  # both sides, with character-level segments
    SKIP = "skip"  # folded unchanged lines (see :func:`collapse`)


@dataclass(frozen=True, slots=True)
class Segment:
    tag: SegTag
    text: str


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One row of the side-by-side view.

    ``old_no``/``new_no`` are 1-based line numbers (None where that side is blank);
    ``old``/``new`` the segments of each side: for ``change`` rows equal and
    delete (old) / insert (new) pieces, otherwise one segment with the whole line.
    ``skipped`` counts folded lines on a ``skip`` row.
    """

    tag: LineTag
    old_no: int | None
    new_no: int | None
    old: tuple[Segment, ...] = ()
    new: tuple[Segment, ...] = ()
    skipped: int = 0

    @property
    def old_text(self) -> str:
        return "".join(s.text for s in self.old)

    @property
    def new_text(self) -> str:
        return "".join(s.text for s in self.new)


@dataclass(frozen=True, slots=True)
class RedlineSummary:
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if text else []


def redline(old: str, new: str) -> list[DiffLine]:
    """The side-by-side diff of ``old`` and ``new`` (line endings normalised)."""
    a, b = _lines(old), _lines(new)
    coarse = max(len(a), len(b)) > MAX_LINES
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=coarse)
    rows: list[DiffLine] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(
                DiffLine(
                    LineTag.EQUAL,
                    i + 1,
                    j + 1,
                    (Segment(SegTag.EQUAL, a[i]),),
                    (Segment(SegTag.EQUAL, b[j]),),
                )
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        elif op == "delete":
            rows.extend(_deleted(a, i) for i in range(i1, i2))
        elif op == "insert":
            rows.extend(_inserted(b, j) for j in range(j1, j2))
        else:
            rows.extend(_replace(a, i1, i2, b, j1, j2, coarse=coarse))
    return rows


def _deleted(a: list[str], i: int) -> DiffLine:
    return DiffLine(LineTag.DELETE, i + 1, None, old=(Segment(SegTag.DELETE, a[i]),))


def _inserted(b: list[str], j: int) -> DiffLine:
    return DiffLine(LineTag.INSERT, None, j + 1, new=(Segment(SegTag.INSERT, b[j]),))


def _replace(
    a: list[str], i1: int, i2: int, b: list[str], j1: int, j2: int, *, coarse: bool
) -> Iterable[DiffLine]:
    """Pair the old and new lines of a replaced block in order; pairs too different to
    be the same line edited become a removed and an added line."""
    rows: list[DiffLine] = []
    pairs = min(i2 - i1, j2 - j1)
    for k in range(pairs):
        i, j = i1 + k, j1 + k
        segments = None if coarse else _char_diff(a[i], b[j])
        if segments is None:
            rows.append(_deleted(a, i))
            rows.append(_inserted(b, j))
        else:
            rows.append(DiffLine(LineTag.CHANGE, i + 1, j + 1, segments[0], segments[1]))
    rows.extend(_deleted(a, i) for i in range(i1 + pairs, i2))
    rows.extend(_inserted(b, j) for j in range(j1 + pairs, j2))
    return rows


def _char_diff(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]] | None:
    if len(old) + len(new) > MAX_PAIR_CHARS:
        return None
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if old.strip() and new.strip() and matcher.ratio() < PAIR_MIN_RATIO:
        return None
    opcodes = _cleanup(matcher.get_opcodes())
    left: list[Segment] = []
    right: list[Segment] = []
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            _append(left, SegTag.EQUAL, old[i1:i2])
            _append(right, SegTag.EQUAL, new[j1:j2])
        else:
            _append(left, SegTag.DELETE, old[i1:i2])
            _append(right, SegTag.INSERT, new[j1:j2])
    return tuple(left), tuple(right)


def _cleanup(
    opcodes: Sequence[tuple[str, int, int, int, int]],
) -> list[tuple[str, int, int, int, int]]:
    """Fold a one-character equal run between two changes into the change, so a
    rewritten phrase reads as one deletion and one insertion, not confetti."""
    out: list[tuple[str, int, int, int, int]] = []
    for index, code in enumerate(opcodes):
        op, i1, i2, j1, j2 = code
        between_changes = 0 < index < len(opcodes) - 1
        if op == "equal" and between_changes and i2 - i1 <= 1:
            op = "replace"
        if out and op != "equal" and out[-1][0] != "equal":
            _, pi1, _, pj1, _ = out[-1]
            out[-1] = ("replace", pi1, i2, pj1, j2)
        else:
            out.append((op, i1, i2, j1, j2))
    return out


def _append(segments: list[Segment], tag: SegTag, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].tag is tag:
        segments[-1] = Segment(tag, segments[-1].text + text)
    else:
        segments.append(Segment(tag, text))


def summarize(lines: Iterable[DiffLine]) -> RedlineSummary:
    """Counts of added, removed, changed and unchanged lines."""
    counts = dict.fromkeys(LineTag, 0)
    skipped = 0
    for line in lines:
        counts[line.tag] += 1
        skipped += line.skipped
    return RedlineSummary(
        added=counts[LineTag.INSERT],
        removed=counts[LineTag.DELETE],
        changed=counts[LineTag.CHANGE],
        unchanged=counts[LineTag.EQUAL] + skipped,
    )


def collapse(lines: list[DiffLine], *, context: int = 3) -> list[DiffLine]:
    """Fold runs of unchanged lines farther than ``context`` from a change into one
    ``skip`` row (for long documents)."""
    out: list[DiffLine] = []
    n = len(lines)
    near = [False] * n
    for index, line in enumerate(lines):
        if line.tag is not LineTag.EQUAL:
            for k in range(max(0, index - context), min(n, index + context + 1)):
                near[k] = True
    run: list[DiffLine] = []

    def flush() -> None:
        if not run:
            return
        if len(run) == 1:
            out.append(run[0])
        else:
            out.append(DiffLine(LineTag.SKIP, run[0].old_no, run[0].new_no, skipped=len(run)))
        run.clear()

    for index, line in enumerate(lines):
        if line.tag is LineTag.EQUAL and not near[index]:
            run.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return out
