"""Adding and measuring service time: wall clock, business hours, holidays, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.business_calendar import BusinessCalendar
from bot.domain.service_time import (
    _add_day_by_day,
    _between_day_by_day,
    add_service_time,
    service_time_between,
)
from bot.domain.sla import DEFAULT_TARGETS, DueTimes, SlaPolicy, compute_due
from tests.domain.calendars import (
    BERLIN,
    BERLIN_CAL,
    MIN,
    MOSCOW_CAL,
    MSK,
    US,
    H,
    berlin,
    msk,
)

# --------------------------------------------------------------------------- wall clock


@pytest.mark.parametrize(
    ("priority", "first", "resolution"),
    [
        ("urgent", 1 * H, 8 * H),
        ("high", 4 * H, 24 * H),
        ("normal", 24 * H, 48 * H),
        ("low", 48 * H, 120 * H),
    ],
)
def test_wall_clock_targets_per_priority(
    priority: str, first: timedelta, resolution: timedelta
) -> None:
    opened = msk(2025, 3, 8, 23, 30)  # a Saturday night: wall-clock ignores the calendar
    due = compute_due(SlaPolicy(), priority=priority, opened_at=opened, now=opened)
    assert due == DueTimes(
        first_response_due=(opened + first).astimezone(UTC),
        resolution_due=(opened + resolution).astimezone(UTC),
    )
    assert due.resolution_due.tzinfo is UTC


def test_results_are_utc_and_inputs_in_any_zone_agree() -> None:
    start_msk = msk(2025, 6, 2, 10, 0)
    start_utc = start_msk.astimezone(UTC)
    for calendar in (None, MOSCOW_CAL):
        a = add_service_time(start_msk, 3 * H, calendar=calendar)
        b = add_service_time(start_utc, 3 * H, calendar=calendar)
        assert a == b
        assert a.tzinfo is UTC


def test_wall_clock_across_dst_counts_real_hours() -> None:
    # Berlin springs forward on 2025-03-30 at 02:00: 24 real hours end at 13:00 local.
    start = berlin(2025, 3, 29, 12, 0)
    due = add_service_time(start, 24 * H, calendar=None)
    assert due.astimezone(BERLIN) == berlin(2025, 3, 30, 13, 0)
    assert service_time_between(start, due, calendar=None) == 24 * H


@pytest.mark.parametrize("func", ["add", "between"])
def test_naive_datetimes_are_rejected(func: str) -> None:
    naive = datetime(2025, 1, 1, 12, 0)
    aware = msk(2025, 1, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        if func == "add":
            add_service_time(naive, H, calendar=MOSCOW_CAL)
        else:
            service_time_between(aware, naive, calendar=None)


def test_naive_facts_are_rejected_by_name() -> None:
    opened = msk(2025, 1, 1, 12, 0)
    with pytest.raises(ValueError, match="opened_at must be timezone-aware"):
        compute_due(SlaPolicy(), priority="high", opened_at=datetime(2025, 1, 1), now=opened)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        compute_due(SlaPolicy(), priority="high", opened_at=opened, now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="first_response_at must be timezone-aware"):
        compute_due(
            SlaPolicy(),
            priority="high",
            opened_at=opened,
            now=opened,
            first_response_at=datetime(2025, 1, 1, 13),
        )


def test_negative_duration_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_service_time(msk(2025, 1, 1), -H, calendar=None)


# --------------------------------------------------------------------------- business time


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # within one day
        (msk(2025, 6, 3, 10, 0), 2 * H, msk(2025, 6, 3, 12, 0)),
        # across a night: 2 h on Tuesday, 2 h on Wednesday
        (msk(2025, 6, 3, 16, 0), 4 * H, msk(2025, 6, 4, 11, 0)),
        # across a weekend: Friday 17:00 + 4 h -> Monday 12:00
        (msk(2025, 3, 7, 17, 0), 4 * H, msk(2025, 3, 10, 12, 0)),
        # start on Saturday: counting begins Monday 09:00
        (msk(2025, 3, 8, 10, 0), 2 * H, msk(2025, 3, 10, 11, 0)),
        # start on Sunday night just before Monday
        (msk(2025, 3, 9, 23, 59), 1 * H, msk(2025, 3, 10, 10, 0)),
        # start before opening
        (msk(2025, 6, 3, 7, 30), 1 * H, msk(2025, 6, 3, 10, 0)),
        # start after closing
        (msk(2025, 6, 3, 20, 0), 1 * H, msk(2025, 6, 4, 10, 0)),
        # a due time exactly at closing stays at closing time
        (msk(2025, 6, 3, 9, 0), 9 * H, msk(2025, 6, 3, 18, 0)),
        # one minute more spills into the next morning
        (msk(2025, 6, 3, 9, 0), 9 * H + MIN, msk(2025, 6, 4, 9, 1)),
        # exactly at opening time
        (msk(2025, 6, 3, 9, 0), 30 * MIN, msk(2025, 6, 3, 9, 30)),
        # exactly at closing time counts from the next opening
        (msk(2025, 6, 3, 18, 0), 30 * MIN, msk(2025, 6, 4, 9, 30)),
        # sub-second precision is kept
        (msk(2025, 6, 3, 17, 59, 59), 2 * US + timedelta(seconds=1), msk(2025, 6, 4, 9, 0, 0, 2)),
    ],
)
def test_business_hours(start: datetime, duration: timedelta, expected: datetime) -> None:
    due = add_service_time(start, duration, calendar=MOSCOW_CAL)
    assert due == expected
    assert due.tzinfo is UTC
    assert service_time_between(start, due, calendar=MOSCOW_CAL) == duration


def test_zero_duration_returns_start_even_outside_hours() -> None:
    saturday = msk(2025, 3, 8, 10, 0)
    assert add_service_time(saturday, timedelta(0), calendar=MOSCOW_CAL) == saturday


def test_holidays_are_skipped() -> None:
    # 1 and 2 May 2025 (Thursday, Friday) are holidays: Wednesday 17:00 + 4 h -> Monday 12:00.
    calendar = BusinessCalendar(holidays={date(2025, 5, 1), date(2025, 5, 2)})
    start = msk(2025, 4, 30, 17, 0)
    due = add_service_time(start, 4 * H, calendar=calendar)
    assert due == msk(2025, 5, 5, 12, 0)
    assert service_time_between(start, due, calendar=calendar) == 4 * H
    # a start on the holiday itself also waits for the next working day
    assert add_service_time(msk(2025, 5, 1, 11, 0), H, calendar=calendar) == msk(2025, 5, 5, 10)


def test_business_target_of_n_hours_counts_n_business_hours() -> None:
    monday = msk(2025, 6, 2, 9, 0)
    # 45 business hours = five 9-hour days: due Friday at closing time.
    assert add_service_time(monday, 45 * H, calendar=MOSCOW_CAL) == msk(2025, 6, 6, 18, 0)
    # the default low-priority resolution target of 5 days is 120 business hours:
    # 13 full working days (117 h) and 3 hours on the 14th, i.e. Thursday of week 3, 12:00.
    due = add_service_time(monday, DEFAULT_TARGETS["low"].resolution, calendar=MOSCOW_CAL)
    assert due == msk(2025, 6, 19, 12, 0)


def test_long_spans_are_computed_without_drift() -> None:
    start = msk(2025, 1, 6, 9, 0)  # Monday
    one_year_of_weeks = 52 * 45 * H
    due = add_service_time(start, one_year_of_weeks, calendar=MOSCOW_CAL)
    assert due == msk(2026, 1, 2, 18, 0)  # Friday of the 52nd week, closing time
    assert service_time_between(start, due, calendar=MOSCOW_CAL) == one_year_of_weeks


def test_custom_weekdays_and_full_day_hours() -> None:
    calendar = BusinessCalendar(timezone=MSK, work_start=time(0), work_end=time(0), weekdays={5, 6})
    friday = msk(2025, 3, 7, 12, 0)
    assert add_service_time(friday, 30 * H, calendar=calendar) == msk(2025, 3, 9, 6, 0)
    assert add_service_time(friday, 48 * H, calendar=calendar) == msk(2025, 3, 10, 0, 0)
    assert calendar.working_interval(date(2025, 3, 9)) == (
        msk(2025, 3, 9, 0, 0),
        msk(2025, 3, 10, 0, 0),
    )
    assert calendar.working_interval(date(2025, 3, 10)) is None


# --------------------------------------------------------------------------- DST


def test_business_hours_across_spring_dst_switch() -> None:
    # Berlin switches to summer time on Sunday 2025-03-30; UTC offset +1 -> +2.
    start = berlin(2025, 3, 28, 17, 0)
    due = add_service_time(start, 4 * H, calendar=BERLIN_CAL)
    assert due.astimezone(BERLIN) == berlin(2025, 3, 31, 12, 0)
    assert due == datetime(2025, 3, 31, 10, 0, tzinfo=UTC)
    assert service_time_between(start, due, calendar=BERLIN_CAL) == 4 * H


def test_business_hours_across_autumn_dst_switch() -> None:
    # Back to winter time on Sunday 2025-10-26; UTC offset +2 -> +1.
    start = berlin(2025, 10, 24, 17, 0)
    due = add_service_time(start, 4 * H, calendar=BERLIN_CAL)
    assert due == datetime(2025, 10, 27, 11, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN) == berlin(2025, 10, 27, 12, 0)


def test_round_the_clock_calendar_counts_real_hours_on_dst_days() -> None:
    always = BusinessCalendar(
        timezone=BERLIN, work_start=time(0), work_end=time(0), weekdays=set(range(7))
    )
    # 2025-03-30 has only 23 hours, 2025-10-26 has 25.
    spring = berlin(2025, 3, 29, 0, 0)
    assert add_service_time(spring, 48 * H, calendar=always).astimezone(BERLIN) == berlin(
        2025, 3, 31, 1, 0
    )
    autumn = berlin(2025, 10, 25, 0, 0)
    assert add_service_time(autumn, 48 * H, calendar=always).astimezone(BERLIN) == berlin(
        2025, 10, 26, 23, 0
    )
    # matches wall-clock arithmetic exactly
    for start in (spring, autumn):
        for hours in (1, 5, 23, 24, 25, 47, 100):
            assert add_service_time(start, hours * H, calendar=always) == add_service_time(
                start, hours * H, calendar=None
            )


# --------------------------------------------------------------------------- properties


def _brute_force_minutes(start: datetime, end: datetime, calendar: BusinessCalendar) -> int:
    """Working minutes in [start, end), checked one minute at a time (test oracle only)."""
    count = 0
    t = start.astimezone(UTC)
    end_utc = end.astimezone(UTC)
    while t < end_utc:
        local = t.astimezone(calendar.timezone)
        day = local.date()
        if (
            day.weekday() in calendar.weekdays
            and day not in calendar.holidays
            and calendar.work_start <= local.time().replace(fold=0) < calendar.work_end
        ):
            count += 1
        t += MIN
    return count


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (berlin(2025, 3, 27, 8, 13), berlin(2025, 4, 2, 19, 47)),
        (berlin(2025, 10, 23, 23, 0), berlin(2025, 10, 28, 9, 30)),
        (berlin(2025, 12, 24, 12, 0), berlin(2025, 12, 29, 10, 0)),
    ],
)
def test_service_time_between_matches_minute_by_minute_count(
    start: datetime, end: datetime
) -> None:
    calendar = BusinessCalendar(timezone=BERLIN, holidays={date(2025, 12, 25), date(2025, 12, 26)})
    expected = _brute_force_minutes(start, end, calendar) * MIN
    assert service_time_between(start, end, calendar=calendar) == expected


def test_service_time_between_is_the_inverse_of_add_service_time() -> None:
    calendar = BusinessCalendar(
        timezone=BERLIN,
        work_start=time(8, 30),
        work_end=time(17, 15),
        holidays={date(2025, 4, 18), date(2025, 4, 21)},
    )
    durations = [
        timedelta(0),
        US,
        MIN,
        37 * MIN,
        H,
        8 * H + 45 * MIN,  # exactly one working day
        9 * H,
        24 * H,
        timedelta(days=5),
        timedelta(hours=123, minutes=17, seconds=3, microseconds=9),
    ]
    start = berlin(2025, 3, 20, 0, 7)
    stop = berlin(2025, 4, 25, 0, 0)
    checked = 0
    while start < stop:
        for duration in durations:
            for cal in (calendar, None):
                due = add_service_time(start, duration, calendar=cal)
                assert due >= start
                assert service_time_between(start, due, calendar=cal) == duration
                if duration:
                    # the earliest such instant: one microsecond before, the target is not met
                    assert service_time_between(start, due - US, calendar=cal) < duration
                checked += 1
            if duration:
                # the indexed computation agrees with the plain day-by-day walk
                utc_start = start.astimezone(UTC)
                due = _add_day_by_day(utc_start, duration, calendar)
                assert add_service_time(start, duration, calendar=calendar) == due
                assert _between_day_by_day(utc_start, due, calendar) == duration
        start += timedelta(minutes=97)
    assert checked > 10_000


def test_results_do_not_depend_on_the_order_of_calls() -> None:
    starts = [msk(2024, 1, 1, 8, 0) + timedelta(days=9 * i, minutes=71 * i) for i in range(120)]
    forward = BusinessCalendar(holidays={date(2024, 5, 1), date(2025, 1, 1)})
    backward = BusinessCalendar(holidays={date(2024, 5, 1), date(2025, 1, 1)})
    expected = [add_service_time(s, 50 * H, calendar=forward) for s in starts]
    got = [add_service_time(s, 50 * H, calendar=backward) for s in reversed(starts)]
    assert got[::-1] == expected
    # the internal index is not part of a calendar's identity
    assert forward == BusinessCalendar(holidays={date(2024, 5, 1), date(2025, 1, 1)})


def test_spans_of_decades_are_still_correct() -> None:
    always_utc = BusinessCalendar(
        timezone=ZoneInfo("UTC"), work_start=time(0), work_end=time(0), weekdays=set(range(7))
    )
    start = datetime(1990, 1, 1, 12, 0, tzinfo=UTC)
    end = datetime(2060, 1, 1, 12, 0, tzinfo=UTC)
    assert service_time_between(start, end, calendar=always_utc) == end - start
    assert add_service_time(start, end - start, calendar=always_utc) == end
    weekdays_only = BusinessCalendar(timezone=ZoneInfo("UTC"))
    monday = datetime(2001, 1, 1, 9, 0, tzinfo=UTC)
    weeks = 52 * 40
    due = add_service_time(monday, weeks * 45 * H, calendar=weekdays_only)
    assert due == monday + timedelta(weeks=weeks) - timedelta(days=2, hours=15)
    assert service_time_between(monday, due, calendar=weekdays_only) == weeks * 45 * H


def test_add_service_time_is_monotonic_and_additive() -> None:
    start = msk(2025, 3, 7, 16, 20)
    previous = start.astimezone(UTC)
    for minutes in range(0, 3000, 13):
        due = add_service_time(start, minutes * MIN, calendar=MOSCOW_CAL)
        assert due >= previous
        previous = due
    # splitting a duration in two steps gives the same due time
    for first in (H, 3 * H, 9 * H, 11 * H):
        middle = add_service_time(start, first, calendar=MOSCOW_CAL)
        assert add_service_time(middle, 20 * H - first, calendar=MOSCOW_CAL) == (
            add_service_time(start, 20 * H, calendar=MOSCOW_CAL)
        )


def test_service_time_between_reversed_interval_is_zero() -> None:
    a = msk(2025, 6, 3, 12, 0)
    assert service_time_between(a, a - H, calendar=MOSCOW_CAL) == timedelta(0)
    assert service_time_between(a, a - H, calendar=None) == timedelta(0)
