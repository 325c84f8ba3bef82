import pytest

from qiyue.lib.durations import find_durations, parse_duration, word_number


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("三年", 3, "year"),
        ("两年", 2, "year"),
        ("十二个月", 12, "month"),
        ("3个月", 3, "month"),
        ("30日", 30, "day"),
        ("30天", 30, "day"),
        ("六十(60)日", 60, "day"),
        ("六十（60）日", 60, "day"),
        ("5个工作日", 5, "day"),
        ("five (5) years", 5, "year"),
        ("sixty (60) days", 60, "day"),
        ("one year", 1, "year"),
        ("12 months", 12, "month"),
        ("successive one-year terms", 1, "year"),
        ("twenty-four (24) months", 24, "month"),
        ("ninety days", 90, "day"),
        ("2 weeks", 2, "week"),
    ],
)
def test_durations_in_chinese_and_english(text, amount, unit):
    found = parse_duration(text)
    assert found is not None
    assert (found.amount, found.unit) == (amount, unit)


def test_conversions_to_months_and_days():
    three_years = parse_duration("三年")
    assert three_years is not None
    assert three_years.months == 36
    assert three_years.days == 1095
    month = parse_duration("one month")
    assert month is not None
    assert month.days == 30
    days = parse_duration("60 days")
    assert days is not None
    assert days.months is None


def test_business_days_are_marked():
    found = parse_duration("10个工作日")
    assert found is not None and found.business
    english = parse_duration("five (5) business days")
    assert english is not None and english.business


@pytest.mark.parametrize("text", ["2025年3月1日", "每月", "3月5日", "第三条", ""])
def test_dates_and_words_without_a_length_are_not_durations(text):
    assert parse_duration(text) is None


def test_spans_point_at_the_duration():
    text = "有效期为三年，任何一方可提前30日书面通知"
    found = find_durations(text)
    assert [text[d.start : d.end] for d in found] == ["三年", "30日"]


@pytest.mark.parametrize(
    ("word", "value"),
    [("three", 3), ("Ten", 10), ("sixty", 60), ("twenty-one", 21), ("an", 1), ("third", None)],
)
def test_word_number(word: str, value: int | None) -> None:
    assert word_number(word) == value
