"""Contract numbers from per-type patterns such as ``XS-{year}-{seq:05}``.

Numbers are gap-free per type and year: the sequence row is incremented inside the
transaction that creates the contract, so a failed creation rolls the increment back,
and concurrent creators queue on the row (PostgreSQL row lock; SQLite's immediate write
transaction)."""

from __future__ import annotations

import functools
import string
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from qiyue.contracts.models import ContractType, NumberSequence

ALLOWED_FIELDS = {"year", "month", "code", "seq"}


def validate_pattern(pattern: str) -> None:
    """Refuse patterns with unknown fields, attribute access or no ``{seq}``."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValidationError(_("Invalid number pattern: %(e)s") % {"e": exc}) from None
    fields = [name for _lit, name, _spec, _conv in parts if name is not None]
    for name in fields:
        if name not in ALLOWED_FIELDS:
            raise ValidationError(_("Unknown field {%(f)s} in number pattern.") % {"f": name})
    if "seq" not in fields:
        raise ValidationError(_("A number pattern must contain {seq}."))
    try:
        render(pattern, code="X", on=date(2000, 1, 1), seq=1)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationError(_("Invalid number pattern: %(e)s") % {"e": exc}) from None


def render(pattern: str, *, code: str, on: date, seq: int) -> str:
    return pattern.format(year=on.year, month=f"{on.month:02d}", code=code, seq=seq)


def allocate_number(contract_type: ContractType, *, on: date) -> str:
    """The next number for the type; call inside the creating transaction."""
    return allocate_numbers(contract_type, on=on, count=1)[0]


def allocate_numbers(contract_type: ContractType, *, on: date, count: int) -> list[str]:
    """The next ``count`` consecutive numbers of the type (one increment of the sequence
    row for the whole block); call inside the creating transaction."""
    assert connection.in_atomic_block, "allocate_numbers must run inside a transaction"
    assert count >= 1
    per_year = "{year" in contract_type.number_pattern
    year = on.year if per_year else 0
    last = _advance(contract_type.pk, year, count)
    if last is None:  # the type's first number (of the year)
        NumberSequence.objects.get_or_create(contract_type=contract_type, year=year)
        last = _advance(contract_type.pk, year, count)
        assert last is not None
    pattern, code = contract_type.number_pattern, contract_type.code
    return [render(pattern, code=code, on=on, seq=n) for n in range(last - count + 1, last + 1)]


def _advance(type_id: int, year: int, count: int) -> int | None:
    """Add ``count`` to the sequence row and return its new ``last`` (None: no row), in
    one statement that also takes the row's lock (through the ORM it was three)."""
    with connection.cursor() as cursor:
        cursor.execute(_advance_sql(connection.vendor), [count, type_id, year])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


@functools.cache
def _advance_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    meta = NumberSequence._meta
    last = q(meta.get_field("last").column)
    return (
        f"UPDATE {q(meta.db_table)} SET {last} = {last} + %s "  # noqa: S608
        f"WHERE {q(meta.get_field('contract_type').column)} = %s "
        f"AND {q(meta.get_field('year').column)} = %s RETURNING {last}"
    )
