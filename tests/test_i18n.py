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


def test_every_source_string_is_in_the_catalogue(tmp_path: Path) -> None:
    """`makemessages` run on a copy of the sources finds no message the committed
    catalogue lacks (a new string without its Chinese translation fails here)."""
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("gettext is not installed (run `make system-deps`)")
        pytest.skip("gettext is not installed")
    src = LOCALE.parent
    copy = tmp_path / "qiyue"
    shutil.copytree(
        src, copy, ignore=shutil.ignore_patterns("migrations", "__pycache__", "*.mo", "static")
    )
    admin = Path(sys.executable).with_name("django-admin")
    subprocess.run(
        [str(admin), "makemessages", "-l", "zh_Hans", "--no-obsolete", "-i", "*/migrations/*"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    committed = polib.pofile(str(PO))
    known = {(e.msgctxt, e.msgid) for e in committed if not e.obsolete}
    missing = sorted(e.msgid for e in fresh if (e.msgctxt, e.msgid) not in known)
    assert missing == [], "run `make messages` and translate the new strings"
