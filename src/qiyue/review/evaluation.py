"""Scores the key-term extractor on a labelled folder, by the rules of ``SCORING.md``.

Two formats: the zh-contracts folder (``NAME.txt`` + gold ``NAME.json``) and CUAD
(``labels.csv`` + ``txt/``). For every field, ``found`` = right value where the label has
one, ``clean`` = left empty where the label is empty; overall = all correct / all scored.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from qiyue.lib.durations import find_durations
from qiyue.review.extraction import extract_values
from qiyue.review.extraction.base import FIELDS

__all__ = [
    "CUAD_FIELDS",
    "ZH_FIELDS",
    "FieldScore",
    "Report",
    "detect_format",
    "evaluate",
    "evaluate_cuad",
    "evaluate_zh",
    "normalise_stem",
]

# Every proposed field has a scoring rule in SCORING.md except the payment schedule.
ZH_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f != "payment_schedule")
CUAD_FIELDS: dict[str, str] = {
    "governing_law": "Governing Law-Answer",
    "signing_date": "Agreement Date-Answer",
    "effective_date": "Effective Date-Answer",
    "expiration_date": "Expiration Date-Answer",
    "renewal_term_months": "Renewal Term-Answer",
    "notice_period_days": "Notice Period To Terminate Renewal- Answer",
    "parties": "Parties-Answer",
}


@dataclass
class FieldScore:
    """Counts for one field: ``found`` over labelled rows, ``clean`` over empty-label rows."""

    found_ok: int = 0
    found_n: int = 0
    clean_ok: int = 0
    clean_n: int = 0

    def add(self, *, labelled: bool, correct: bool) -> None:
        if labelled:
            self.found_n += 1
            self.found_ok += correct
        else:
            self.clean_n += 1
            self.clean_ok += correct

    @property
    def found(self) -> float | None:
        return self.found_ok / self.found_n if self.found_n else None

    @property
    def clean(self) -> float | None:
        return self.clean_ok / self.clean_n if self.clean_n else None


@dataclass
class Report:
    """Scores per field, the number of contracts, and the contracts without text."""

    name: str
    contracts: int = 0
    fields: dict[str, FieldScore] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def score(self, name: str) -> FieldScore:
        return self.fields.setdefault(name, FieldScore())

    @property
    def overall(self) -> float:
        ok = sum(f.found_ok + f.clean_ok for f in self.fields.values())
        n = sum(f.found_n + f.clean_n for f in self.fields.values())
        return ok / n if n else 0.0

    def table(self) -> str:
        def pct(value: float | None, ok: int, n: int) -> str:
            return f"{'—':>6} {'':>9}" if value is None else f"{value:6.1%} {f'({ok}/{n})':>9}"

        lines = [
            f"{self.name}: {self.contracts} contracts",
            f"{'field':<22} {'found':>16} {'clean':>16}",
        ]
        for name, s in self.fields.items():
            lines.append(
                f"{name:<22} {pct(s.found, s.found_ok, s.found_n)} "
                f"{pct(s.clean, s.clean_ok, s.clean_n)}"
            )
        lines.append(f"{'overall':<22} {self.overall:6.1%}")
        if self.missing:
            lines.append(f"no text for {len(self.missing)} labelled contracts")
        return "\n".join(lines)


def normalise_stem(name: str) -> str:
    """A file name's stem reduced to lower-case letters and digits (for matching)."""
    stem = Path(name.strip()).stem if name.strip().lower().endswith((".pdf", ".txt")) else name
    return re.sub(r"[^0-9a-z]", "", stem.lower())


# --- the Chinese set -----------------------------------------------------------------

_BRACKETS = re.compile(r"[\s()（）\[\]【】〔〕{}｛｝<>《》〈〉]")


def _norm_str(value: Any) -> str:
    return _BRACKETS.sub("", str(value)).lower()


def _zh_correct(name: str, gold: Any, got: Any) -> bool:
    if gold is None or got is None:
        return gold is None and got is None
    if name in ("signing_date", "effective_date", "expiration_date"):
        return str(got)[:10] == str(gold)[:10]
    if isinstance(gold, bool) or isinstance(got, bool):
        return gold is got
    if isinstance(gold, int | float) and not isinstance(gold, bool):
        try:
            return abs(Decimal(str(got)) - Decimal(str(gold))) <= Decimal("0.01")
        except ArithmeticError:
            return False
    a, b = _norm_str(gold), _norm_str(got)
    if name in ("party_a", "party_b", "dispute_venue"):
        return bool(a and b) and (a in b or b in a)
    return a == b


def evaluate_zh(
    folder: Path, *, extractor: Callable[[str], dict[str, Any]] = extract_values
) -> Report:
    """Score the zh-contracts format: every ``NAME.json`` with its ``NAME.txt``."""
    report = Report(name=f"zh-contracts ({folder})")
    for name in ZH_FIELDS:
        report.score(name)
    for gold_path in sorted(folder.glob("*.json")):
        text_path = gold_path.with_suffix(".txt")
        if not text_path.exists():
            report.missing.append(gold_path.name)
            continue
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        got = extractor(text_path.read_text(encoding="utf-8"))
        report.contracts += 1
        for name in ZH_FIELDS:
            expected = gold.get(name)
            report.score(name).add(
                labelled=expected is not None, correct=_zh_correct(name, expected, got.get(name))
            )
    return report


# --- CUAD ------------------------------------------------------------------------------

_LABEL_DATE = re.compile(r"([\d\[\] ]*)/([\d\[\] ]*)/([\d\[\] ]*)")


def _label_dates(label: str) -> list[tuple[int | None, int | None, int | None]]:
    out = []
    for m in _LABEL_DATE.finditer(label):
        parts: list[int | None] = []
        for g in m.groups():
            g = g.strip()
            parts.append(int(g) if g.isdigit() else None)
        month, day, year = parts
        raw_year = m.group(3).strip()
        if year is not None and len(raw_year) <= 2:
            year += 2000 if year <= 30 else 1900
        out.append((year, month, day))
    return out


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _date_correct(label: str, got: Any) -> tuple[bool, bool] | None:
    """(labelled, correct) for a date field; None when the row is not scored."""
    label = label.strip()
    out = _as_date(got)
    if not label:
        return False, out is None
    dates = _label_dates(label)
    if not dates:
        # "perpetual" and other date-less answers are matched by null
        return True, out is None
    for year, month, day in dates:
        if None in (year, month, day) and out is None:
            return True, True
        if out is not None and all(
            want is None or want == have
            for want, have in ((year, out.year), (month, out.month), (day, out.day))
        ):
            return True, True
    return True, False


def _law_correct(label: str, got: Any) -> bool:
    answers = [re.sub(r"[^a-z]", "", a.lower()) for a in label.split(";")]
    answers = [a for a in answers if a]
    if not answers:
        return got is None or not str(got).strip()
    if got is None:
        return False
    out = re.sub(r"[^a-z]", "", str(got).lower())
    if not out:
        return False
    for answer in answers:
        if answer in out or out in answer:
            return True
        if "peoplesrepublicofchina" in answer and out in ("china", "prc"):
            return True
    return False


def _label_durations(label: str) -> list[tuple[int | None, int]]:
    return [(d.months, d.days) for d in find_durations(label)]


_SUFFIXES = {
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "llc",
    "ltd",
    "limited",
    "lp",
    "llp",
    "plc",
    "sa",
    "ag",
    "gmbh",
    "nv",
    "bv",
    "pty",
    "lc",
    "pc",
    "the",
}


def _name_tokens(name: str) -> set[str]:
    name = re.sub(r"\([^)]*\)|“[^”]*”|\"[^\"]*\"", " ", name)
    name = name.replace(".", "")
    tokens = set(re.findall(r"[a-z0-9&]+", name.lower()))
    return tokens - _SUFFIXES


def _party_matches(names: list[set[str]], got: Any) -> bool:
    if not got:
        return False
    tokens = _name_tokens(str(got))
    if not tokens:
        return False
    return any(name and len(name & tokens) / max(len(name), len(tokens)) >= 0.8 for name in names)


def _read_labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def evaluate_cuad(
    folder: Path,
    *,
    extractor: Callable[[str], dict[str, Any]] = extract_values,
    limit: int | None = None,
) -> Report:
    """Score CUAD's ``labels.csv`` + ``txt/`` (``limit`` rows only, for quick checks)."""
    report = Report(name=f"CUAD ({folder})")
    for name in CUAD_FIELDS:
        report.score(name)
    texts = {normalise_stem(p.name): p for p in (folder / "txt").glob("*.txt")}
    rows = _read_labels(folder)
    if limit is not None:
        rows = rows[:limit]
    for row in rows:
        path = texts.get(normalise_stem(row["Filename"]))
        if path is None:
            report.missing.append(row["Filename"])
            continue
        got = extractor(path.read_text(encoding="utf-8", errors="replace"))
        report.contracts += 1
        _score_cuad_row(report, row, got)
    return report


def _score_cuad_row(report: Report, row: dict[str, str], got: dict[str, Any]) -> None:
    law = row[CUAD_FIELDS["governing_law"]].strip()
    report.score("governing_law").add(
        labelled=bool(law), correct=_law_correct(law, got.get("governing_law"))
    )
    for name in ("signing_date", "effective_date", "expiration_date"):
        outcome = _date_correct(row[CUAD_FIELDS[name]], got.get(name))
        if outcome is not None:
            report.score(name).add(labelled=outcome[0], correct=outcome[1])
    renewal = row[CUAD_FIELDS["renewal_term_months"]].strip()
    value = got.get("renewal_term_months")
    if not renewal:
        report.score("renewal_term_months").add(labelled=False, correct=value is None)
    elif not (_LABEL_DATE.search(renewal) or "perpetual" in renewal.lower()):
        months = [m for m, _ in _label_durations(renewal) if m is not None]
        report.score("renewal_term_months").add(labelled=True, correct=value in months)
    notice = row[CUAD_FIELDS["notice_period_days"]].strip()
    days = got.get("notice_period_days")
    if not notice:
        report.score("notice_period_days").add(labelled=False, correct=days is None)
    else:
        wanted = [_label_days(d) for d in find_durations(notice)]
        ok = days is not None and any(abs(float(days) - w) <= 3 for w in wanted)
        report.score("notice_period_days").add(labelled=True, correct=ok)
    parties = row[CUAD_FIELDS["parties"]].strip()
    a, b = got.get("party_a"), got.get("party_b")
    if not parties:
        report.score("parties").add(labelled=False, correct=not a and not b)
    else:
        names = [_name_tokens(n) for n in parties.split(";")]
        report.score("parties").add(
            labelled=True, correct=_party_matches(names, a) and _party_matches(names, b)
        )


def _label_days(duration: Any) -> float:
    if duration.unit == "year":
        return float(duration.amount * 365)
    if duration.unit == "month":
        return duration.amount * 30.4
    if duration.unit == "week":
        return float(duration.amount * 7)
    return float(duration.amount)


def detect_format(folder: Path) -> str:
    """``cuad`` when the folder holds ``labels.csv``, else ``zh``."""
    return "cuad" if (folder / "labels.csv").exists() else "zh"


def evaluate(folder: Path, *, fmt: str | None = None) -> Report:
    """Score ``folder`` in its format (detected unless ``fmt`` is ``zh`` or ``cuad``)."""
    fmt = fmt or detect_format(folder)
    if fmt == "cuad":
        return evaluate_cuad(folder)
    if fmt == "zh":
        return evaluate_zh(folder)
    raise ValueError(f"unknown format {fmt!r}")
