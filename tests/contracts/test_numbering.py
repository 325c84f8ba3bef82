"""Contract numbers: patterns, per type and per year, gap-free under concurrency."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from qiyue.contracts.models import Contract, ContractType, NumberSequence
from qiyue.contracts.numbering import allocate_number, render, validate_pattern
from tests.contracts._workers import create_contract_now, create_contracts_in_process
from tests.factories import make_contract, make_party
from tests.processes import in_processes

pytestmark = pytest.mark.django_db

CONCURRENT_CREATIONS = 12


@pytest.mark.parametrize(
    "pattern",
    ["XS-{year}-{seq:05}", "{code}/{year}{month}/{seq}", "HT{seq:04}", "合同-{seq:06}"],
)
def test_valid_number_patterns_are_accepted(pattern: str) -> None:
    validate_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "XS-{year}-{nonsense}",
        "XS-{year}",
        "XS-{seq.real}",
        "XS-{seq[0]}",
        "XS-{seq:zz}",
        "XS-{seq",
        "XS-}{seq}",
        "XS-{}",
        "XS-{0}",
    ],
)
def test_bad_number_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError):
        validate_pattern(pattern)


def test_contract_type_clean_validates_its_pattern() -> None:
    with pytest.raises(ValidationError):
        ContractType(code="ZZ", name="坏", number_pattern="ZZ-{year}").clean()


def test_render_pads_sequence_and_month() -> None:
    assert render("{code}-{year}{month}-{seq:05}", code="XS", on=date(2026, 3, 9), seq=7) == (
        "XS-202603-00007"
    )


def test_numbers_count_up_per_type(org: Any) -> None:
    year = date.today().year
    first = make_contract(org.sales1)
    second = make_contract(org.sales1)
    service = make_contract(org.sales1, type_code="FW")
    assert first.number == f"XS-{year}-00001"
    assert second.number == f"XS-{year}-00002"
    assert service.number == f"FW-{year}-00001"


def test_numbers_restart_each_year(org: Any) -> None:
    xs = org.types["XS"]
    with transaction.atomic():
        assert allocate_number(xs, on=date(2025, 12, 31)) == "XS-2025-00001"
        assert allocate_number(xs, on=date(2025, 12, 31)) == "XS-2025-00002"
        assert allocate_number(xs, on=date(2026, 1, 1)) == "XS-2026-00001"
        assert allocate_number(xs, on=date(2025, 6, 1)) == "XS-2025-00003"


def test_pattern_without_year_counts_across_years(org: Any) -> None:
    xs = org.types["XS"]
    xs.number_pattern = "XS{seq:03}"
    xs.save(update_fields=["number_pattern"])
    with transaction.atomic():
        assert allocate_number(xs, on=date(2025, 12, 31)) == "XS001"
        assert allocate_number(xs, on=date(2026, 1, 1)) == "XS002"


@pytest.mark.django_db(transaction=True)
def test_allocate_number_refuses_to_run_outside_a_transaction(org: Any) -> None:
    with pytest.raises(AssertionError):
        allocate_number(org.types["XS"], on=date(2026, 1, 1))


def _assert_gap_free(numbers: list[str], n: int) -> None:
    year = date.today().year
    assert len(numbers) == n
    assert len(set(numbers)) == n
    assert sorted(numbers) == [f"XS-{year}-{i:05d}" for i in range(1, n + 1)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_from_threads_get_unique_gap_free_numbers(org: Any) -> None:
    party = make_party(org.sales1)
    xs = org.types["XS"]
    numbers: list[str] = []
    errors: list[str] = []
    barrier = threading.Barrier(CONCURRENT_CREATIONS)

    def run() -> None:
        barrier.wait()
        number, error = create_contract_now(org.sales1.pk, party.pk, xs.pk)
        if number:
            numbers.append(number)
        else:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(CONCURRENT_CREATIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    _assert_gap_free(numbers, CONCURRENT_CREATIONS)
    assert NumberSequence.objects.get(contract_type=xs, year=date.today().year).last == (
        CONCURRENT_CREATIONS
    )
    assert Contract.objects.count() == CONCURRENT_CREATIONS


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="processes share a database only on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_from_processes_get_unique_gap_free_numbers(org: Any) -> None:
    party = make_party(org.sales1)
    xs = org.types["XS"]
    results = in_processes(
        create_contracts_in_process,
        [(org.sales1.pk, party.pk, xs.pk)] * CONCURRENT_CREATIONS,
        timeout=60,
    )
    numbers = [number for number, _error in results if number]
    errors = [error for number, error in results if not number]
    assert errors == []
    _assert_gap_free(numbers, CONCURRENT_CREATIONS)
