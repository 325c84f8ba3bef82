"""Amounts are non-negative Decimals rounded to cents; anything else is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qiyue.lib.money import MAX_AMOUNT, MoneyError, format_money, format_wan, parse_amount


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1200", "1200.00"),
        ("1,200.00", "1200.00"),
        (" 1,200.5 ", "1200.50"),
        ("1,200.005", "1200.01"),
        ("1,200.004", "1200.00"),
        ("0", "0.00"),
        (0, "0.00"),
        (1200, "1200.00"),
        (Decimal("3.14159"), "3.14"),
        (1.1, "1.10"),
        (0.1 + 0.2, "0.30"),
        (2.675, "2.68"),
        ("1e3", "1000.00"),
        ("１２００", "1200.00"),
        ("9999999999999999.99", "9999999999999999.99"),
    ],
)
def test_amounts_parse_to_cents(raw: object, expected: str) -> None:
    amount = parse_amount(raw)
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "",
        "1.2.3",
        "¥100",
        "-1",
        "-0.01",
        -5,
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        float("nan"),
        float("inf"),
        "1e30",
        "1e16",
        "1E+999999",
        "10000000000000000",
        "9999999999999999.995",
        None,
        True,
        [1],
    ],
)
def test_bad_amounts_raise_money_error(raw: object) -> None:
    with pytest.raises(MoneyError):
        parse_amount(raw)


def test_the_largest_amount_fits_the_database_column() -> None:
    assert Decimal("9999999999999999.99") == MAX_AMOUNT
    assert len(MAX_AMOUNT.as_tuple().digits) == 18


def test_format_money_groups_thousands_with_the_currency_symbol() -> None:
    assert format_money(Decimal("1200000"), "CNY") == "¥1,200,000.00"
    assert format_money(Decimal("1200000"), "USD", language="en") == "$1,200,000.00"
    assert format_money(Decimal("5"), "CHF") == "CHF 5.00"
    assert format_money(None, "CNY") == ""


def test_format_wan_uses_wan_and_yi() -> None:
    assert format_wan(Decimal("1200000"), "CNY") == "¥120万"
    assert format_wan(Decimal("350000000"), "CNY") == "¥3.5亿"
    assert format_wan(Decimal("12345"), "CNY") == "¥1.23万"
    assert format_wan(Decimal("9999"), "CNY") == "¥9,999.00"
    assert format_wan(None, "CNY") == ""
