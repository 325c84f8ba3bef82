from datetime import date

import pytest

from qiyue.lib.dates import add_months, add_term, find_dates, parse_date


@pytest.mark.parametrize(
    "text",
    [
        "2025年3月1日",
        "2025 年 3 月 1 日",
        "二〇二五年三月一日",
        "二零二五年三月一号",
        "2025-03-01",
        "2025.3.1",
        "2025/3/1",
        "March 1, 2025",
        "Mar. 1, 2025",
        "March 1st 2025",
        "1st day of March, 2025",
        "the 1st day of March 2025",
        "this 1st day of March, 2025",
        "1 March 2025",
        "3/1/2025",
        "3/1/25",
        "made as of1 March 2025",
        "the 1s t day of March, 2025",
    ],
)
def test_every_common_form_of_a_date_is_read(text):
    assert parse_date(text) == date(2025, 3, 1)


def test_impossible_dates_and_plain_numbers_are_ignored():
    assert parse_date("2025年2月30日") is None
    assert parse_date("February 30, 2025") is None
    assert parse_date("version 1.2.3") is None
    assert parse_date("") is None


def test_two_digit_years_above_thirty_are_last_century():
    assert parse_date("12/31/99") == date(1999, 12, 31)
    assert parse_date("1/2/30") == date(2030, 1, 2)


def test_found_dates_carry_their_span_in_order():
    text = "自2025年7月1日起至2028年6月30日止"
    found = find_dates(text)
    assert [d.value for d in found] == [date(2025, 7, 1), date(2028, 6, 30)]
    assert text[found[0].start : found[0].end] == "2025年7月1日"


def test_a_term_includes_its_first_day():
    assert add_term(date(2025, 6, 9), months=36) == date(2028, 6, 8)
    assert add_term(date(2025, 1, 1), months=12) == date(2025, 12, 31)
    assert add_term(date(2025, 1, 1), days=30) == date(2025, 1, 30)


def test_adding_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
