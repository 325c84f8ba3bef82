"""Money: Decimal amounts with an ISO currency, formatted for the reader's language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY_SYMBOLS = {
    "CNY": "¥",
    "USD": "$",
    "EUR": "€",
    "HKD": "HK$",
    "JPY": "JP¥",
    "GBP": "£",
}
CURRENCIES = list(CURRENCY_SYMBOLS)
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")  # fits max_digits=18, decimal_places=2


class MoneyError(ValueError):
    """An amount that cannot be a contract amount."""


def parse_amount(value: object) -> Decimal:
    """A non-negative amount rounded to cents; raises MoneyError on anything else."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise MoneyError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise MoneyError(f"{value!r} is not an amount")
    if amount < 0:
        raise MoneyError("an amount cannot be negative")
    # Compare before quantizing: quantize raises InvalidOperation on huge exponents.
    if amount >= MAX_AMOUNT + 1:
        raise MoneyError("the amount is too large")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > MAX_AMOUNT:
        raise MoneyError("the amount is too large")
    return amount


def format_money(amount: Decimal | None, currency: str, *, language: str = "zh-hans") -> str:
    """¥1,200,000.00 in either language; the wan form is :func:`format_wan`."""
    if amount is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{symbol}{format_amount(amount)}"


def format_amount(amount: Decimal) -> str:
    """1,200,000.00: grouped by thousands, two places, in either language (no symbol)."""
    return f"{amount:,.2f}"


def format_wan(amount: Decimal | None, currency: str) -> str:
    """Chinese short form: 120万 / 3.5亿, for dashboards and lists."""
    if amount is None:
        return ""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    if amount >= Decimal(100_000_000):
        value, unit = amount / Decimal(100_000_000), "亿"
    elif amount >= Decimal(10_000):
        value, unit = amount / Decimal(10_000), "万"
    else:
        return f"{symbol}{amount:,.2f}"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{symbol}{text}{unit}"
