"""Template filters of the browser UI: money in the reader's language, badges, sorting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import get_language

from qiyue.lib.money import format_money, format_wan

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "CNY") -> str:
    """``{{ c.amount|money:c.currency }}`` → ¥1,200,000.00"""
    return format_money(amount, currency or "CNY", language=get_language() or "zh-hans")


@register.filter
def wan(amount: Decimal | None, currency: str = "CNY") -> str:
    """The short Chinese form (120万, 3.5亿) where the page is in Chinese; the full
    amount otherwise, since 万 means nothing to an English reader."""
    if (get_language() or "").startswith("zh"):
        return format_wan(amount, currency or "CNY")
    return format_money(amount, currency or "CNY", language="en")


@register.simple_tag(takes_context=True)
def sort_link(context: Any, key: str) -> str:
    """The ``sort`` value a column header links to: ascending first, then descending."""
    current = context.get("current_sort", "")
    return f"-{key}" if current == key else key


@register.simple_tag(takes_context=True)
def sort_mark(context: Any, key: str) -> str:
    current = context.get("current_sort", "")
    if current == key:
        return "▲"
    if current == f"-{key}":
        return "▼"
    return ""
