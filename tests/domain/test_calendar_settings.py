"""Reading the business calendar from the settings: hours, weekdays, holidays."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.domain.calendar_settings import parse_business_hours, parse_holidays, parse_weekdays


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-18:00", (time(9), time(18))),
        (" 9:00 - 18:30 ", (time(9), time(18, 30))),
        ("10:00–19:00", (time(10), time(19))),
        ("00:00-24:00", (time(0), time(0))),
        ("20:00-00:00", (time(20), time(0))),
    ],
)
def test_parse_business_hours(text: str, expected: tuple[time, time]) -> None:
    assert parse_business_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-18", "must look like '09:00-18:00'"),
        ("09:00", "must look like"),
        ("", "must look like"),
        ("25:00-26:00", "invalid time"),
        ("09:60-18:00", "invalid time"),
        ("09:00-24:30", "invalid time"),
        ("18:00-09:00", "overnight hours are not supported"),
        ("09:00-09:00", "must end after they start"),
    ],
)
def test_parse_business_hours_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_business_hours(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,tue,wed", {0, 1, 2}),
        ("Mon - Wed, Fri", {0, 1, 2, 4}),
        ("sat-mon", {5, 6, 0}),
        ("sunday", {6}),
        ("mon-sun", set(range(7))),
    ],
)
def test_parse_weekdays(text: str, expected: set[int]) -> None:
    assert parse_weekdays(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must look like 'mon-fri'"),
        ("mon,,fri", "empty weekday"),
        ("mon-fry", "unknown weekday 'fry'"),
        ("1-5", "unknown weekday '1'"),
    ],
)
def test_parse_weekdays_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weekdays(text)


def test_parse_holidays() -> None:
    assert parse_holidays(["2025-05-09", date(2025, 6, 12)]) == {
        date(2025, 5, 9),
        date(2025, 6, 12),
    }
    with pytest.raises(ValueError, match=r"invalid holiday date '2025-13-01': expected YYYY-MM-DD"):
        parse_holidays(["2025-13-01"])
    with pytest.raises(ValueError, match="not a single string"):
        parse_holidays("2025-01-01")
