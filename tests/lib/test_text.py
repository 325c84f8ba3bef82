"""Company names normalise to one duplicate-detection key."""

from __future__ import annotations

import pytest

from qiyue.lib.text import fold_width, normalize_company_name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ACME Co., Ltd.", "acme co ltd"),
        ("ACME Co., Ltd.", "ACME Company Limited"),
        ("ACME Co., Ltd.", "ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．"),
        ("ACME Inc.", "acme"),
        ("北京甲乙有限公司", "北京甲乙 有限公司"),
        ("北京甲乙有限公司", "北京甲乙有限责任公司"),
        ("北京甲乙有限公司", "北京甲乙股份有限公司"),
        ("北京甲乙有限公司", " 北京甲乙公司 "),
        ("北京甲乙（集团）有限公司", "北京甲乙(集团)有限公司"),
    ],
)
def test_spellings_of_one_company_collide(a: str, b: str) -> None:
    assert normalize_company_name(a) == normalize_company_name(b)
    assert normalize_company_name(a) != ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("北京甲乙有限公司", "上海甲乙有限公司"),
        ("ACME Co., Ltd.", "ACMEX Co., Ltd."),
        ("Costco Ltd", "Cost Ltd"),
    ],
)
def test_different_companies_do_not_collide(a: str, b: str) -> None:
    assert normalize_company_name(a) != normalize_company_name(b)


def test_a_suffix_inside_a_word_is_kept() -> None:
    # "co" is a legal form only as a separate word: Costco stays Costco.
    assert normalize_company_name("Costco") == "costco"
    assert normalize_company_name("Ltdx Inc") == "ltdx"


def test_fold_width_turns_full_width_into_ascii() -> None:
    assert fold_width("ＡＢＣ１２３（）") == "ABC123()"
