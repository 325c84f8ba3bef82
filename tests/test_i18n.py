"""Chinese and English ship complete: every source string has a Chinese translation,
and the compiled catalogue matches the source catalogue."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[1] / "src" / "qiyue" / "locale"
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    assert PO.exists(), "run `make messages` and translate"
    return polib.pofile(str(PO))


def test_every_chinese_string_is_translated(catalogue: polib.POFile) -> None:
    missing = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
    assert missing == []


def test_no_chinese_translation_is_marked_fuzzy(catalogue: polib.POFile) -> None:
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_compiled_catalogue_matches_the_source(catalogue: polib.POFile) -> None:
    compiled = polib.mofile(str(MO))
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in catalogue.translated_entries()
    }
    built = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in compiled if e.msgid}
    assert built == source, "run `make messages` to recompile the catalogue"
