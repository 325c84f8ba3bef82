from decimal import Decimal

import pytest

from qiyue.lib.cn_numerals import parse_amount, parse_cn_int, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("零", 0),
        ("〇", 0),
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("一千零一", 1001),
        ("两千", 2000),
        ("一万", 10000),
        ("十万", 100000),
        ("一千二百万", 12000000),
        ("三亿五千万", 350000000),
        ("壹佰贰拾万", 1200000),
        ("壹拾壹万零贰佰伍拾", 110250),
        ("叁佰捌拾伍万捌仟柒佰伍拾", 3858750),
        ("二〇二五", 2025),
        ("二零二四", 2024),
        ("2025", 2025),
    ],
)
def test_chinese_integers_are_read(text, value):
    assert parse_cn_int(text) == value


@pytest.mark.parametrize("text", ["", "abc", "三点五", "万一x"])
def test_text_that_is_not_a_numeral_gives_none(text):
    assert parse_cn_int(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("壹佰贰拾万元整", Decimal(1200000)),
        ("人民币壹佰贰拾捌万元整", Decimal(1280000)),
        ("叁拾元伍角", Decimal("30.5")),
        ("壹元贰角叁分", Decimal("1.23")),
        ("¥3,858,750.00", Decimal("3858750.00")),
        ("120万", Decimal(1200000)),
        ("1.5亿", Decimal(150000000)),
        ("人民币80万元", Decimal(800000)),
        ("１２３", Decimal(123)),
    ],
)
def test_amounts_in_figures_units_and_capitals(text, value):
    assert parse_amount(text) == value


def test_amount_without_a_number_gives_none():
    assert parse_amount("元整") is None
    assert parse_amount("人民币") is None


def test_parse_number_accepts_grouping_and_full_width_digits():
    assert parse_number("1,234.50") == Decimal("1234.50")
    assert parse_number("１２") == Decimal(12)
    assert parse_number("十二") == Decimal(12)
    assert parse_number("") is None
