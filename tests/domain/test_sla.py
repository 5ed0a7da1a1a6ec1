"""Service levels: due times from a ticket's facts, and the policy built from the settings."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta
from enum import Enum, StrEnum
from zoneinfo import ZoneInfo

import pytest

from bot.domain.business_calendar import BusinessCalendar
from bot.domain.service_time import (
    add_service_time,
    service_time_between,
)
from bot.domain.sla import DEFAULT_TARGETS, SlaPolicy, SlaTarget, compute_due
from tests.domain.calendars import (
    MIN,
    MOSCOW_CAL,
    MSK,
    H,
    business_policy,
    msk,
)

# --------------------------------------------------------------------------- compute_due


def test_compute_due_in_business_time() -> None:
    policy = business_policy()
    opened = msk(2025, 3, 7, 17, 0)  # Friday
    due = compute_due(policy, priority="high", opened_at=opened, now=opened)
    assert due.first_response_due == msk(2025, 3, 10, 12, 0)  # 4 business hours
    assert due.resolution_due == add_service_time(opened, 24 * H, calendar=MOSCOW_CAL)
    assert due.resolution_due == msk(2025, 3, 12, 14, 0)  # 1 + 9 + 9 + 5 hours


def test_first_response_due_is_none_once_responded() -> None:
    opened = msk(2025, 6, 3, 10, 0)
    due = compute_due(
        SlaPolicy(),
        priority="urgent",
        opened_at=opened,
        now=opened + 2 * H,
        first_response_at=opened + 30 * MIN,
    )
    assert due.first_response_due is None
    assert due.resolution_due == (opened + 8 * H).astimezone(UTC)


def test_pause_pushes_resolution_due_but_not_first_response() -> None:
    policy = business_policy()
    opened = msk(2025, 6, 2, 10, 0)  # Monday
    plain = compute_due(policy, priority="normal", opened_at=opened, now=opened)
    paused = compute_due(policy, priority="normal", opened_at=opened, now=opened, paused=5 * H)
    assert paused.first_response_due == plain.first_response_due
    assert paused.resolution_due == add_service_time(opened, 53 * H, calendar=MOSCOW_CAL)
    assert (
        service_time_between(plain.resolution_due, paused.resolution_due, calendar=MOSCOW_CAL)
        == 5 * H
    )


def test_running_pause_counts_up_to_now() -> None:
    policy = business_policy()
    opened = msk(2025, 6, 2, 10, 0)  # Monday
    paused_since = msk(2025, 6, 3, 16, 0)  # Tuesday afternoon
    now = msk(2025, 6, 4, 11, 0)  # Wednesday: 2 h Tuesday + 2 h Wednesday of pause
    due = compute_due(
        policy,
        priority="normal",
        opened_at=opened,
        now=now,
        paused=H,
        first_response_at=opened + H,
        paused_since=paused_since,
    )
    assert due.resolution_due == add_service_time(opened, 48 * H + 5 * H, calendar=MOSCOW_CAL)


def test_recomputing_later_from_stored_facts_gives_the_same_due_times() -> None:
    policy = business_policy()
    opened = msk(2025, 6, 2, 10, 0)
    first = compute_due(policy, priority="low", opened_at=opened, now=opened, paused=2 * H)
    later = compute_due(
        policy, priority="low", opened_at=opened, now=opened + timedelta(days=9), paused=2 * H
    )
    assert first == later


def test_negative_pause_rejected() -> None:
    opened = msk(2025, 6, 2, 10, 0)
    with pytest.raises(ValueError, match="paused"):
        compute_due(SlaPolicy(), priority="low", opened_at=opened, now=opened, paused=-H)


class StrPriority(StrEnum):
    URGENT = "urgent"


class MixinPriority(str, Enum):  # noqa: UP042 - the pre-StrEnum style must keep working
    HIGH = "high"


def test_priority_accepts_string_enums_and_any_case() -> None:
    policy = SlaPolicy()
    assert policy.target_for(StrPriority.URGENT) == DEFAULT_TARGETS["urgent"]
    assert policy.target_for(MixinPriority.HIGH) == DEFAULT_TARGETS["high"]
    assert policy.target_for(" Normal ") == DEFAULT_TARGETS["normal"]
    with pytest.raises(ValueError, match="no SLA target for priority 'critical'"):
        policy.target_for("critical")


# --------------------------------------------------------------------------- config


def test_from_config_defaults() -> None:
    policy = SlaPolicy.from_config()
    assert policy == SlaPolicy()
    assert policy.calendar.timezone == MSK
    assert (policy.calendar.work_start, policy.calendar.work_end) == (time(9), time(18))
    assert policy.calendar.weekdays == frozenset({0, 1, 2, 3, 4})
    assert policy.business_time_only is False
    assert policy.service_calendar is None
    assert policy.warn_fraction == 0.75


def test_from_config_values() -> None:
    policy = SlaPolicy.from_config(
        targets={"urgent": (0.5, 4), "Low": (72, 240)},
        business_hours="8:30-17:00",
        weekdays="mon-thu,sat",
        holidays=["2025-01-01", " 2025-01-07 "],
        timezone="Asia/Yekaterinburg",
        business_time_only=True,
        warn_fraction=0.8,
    )
    assert policy.target_for("urgent") == SlaTarget(30 * MIN, 4 * H)
    assert policy.target_for("low") == SlaTarget(72 * H, 240 * H)
    assert (
        policy.target_for("high") == DEFAULT_TARGETS["high"]
    )  # untouched priorities keep defaults
    calendar = policy.calendar
    assert calendar.timezone == ZoneInfo("Asia/Yekaterinburg")
    assert (calendar.work_start, calendar.work_end) == (time(8, 30), time(17))
    assert calendar.weekdays == frozenset({0, 1, 2, 3, 5})
    assert calendar.holidays == frozenset({date(2025, 1, 1), date(2025, 1, 7)})
    assert policy.service_calendar is calendar
    assert policy.warn_fraction == 0.8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"timezone": ""}, "IANA name"),
        ({"targets": {"urgnt": (1, 8)}}, "unknown priority 'urgnt'"),
        ({"targets": {"urgent": (0, 8)}}, "SLA target for 'urgent' must be two positive"),
        ({"targets": {"urgent": (1,)}}, "two positive numbers"),
        ({"targets": {"urgent": (1, float("nan"))}}, "two positive numbers"),
        ({"targets": {"urgent": ("1", 8)}}, "two positive numbers"),
        ({"business_hours": "nine to six"}, "business hours must look like"),
        ({"weekdays": "weekdays"}, "unknown weekday"),
        ({"holidays": ["tomorrow"]}, "invalid holiday date 'tomorrow'"),
        ({"warn_fraction": 1.0}, "warn_fraction must be a number between 0 and 1"),
        ({"warn_fraction": 0}, "warn_fraction"),
    ],
)
def test_from_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlaPolicy.from_config(**kwargs)  # type: ignore[arg-type]


def test_calendar_and_target_validation() -> None:
    with pytest.raises(ValueError, match="at least one working weekday"):
        BusinessCalendar(weekdays=set())
    with pytest.raises(ValueError, match="weekdays must be integers"):
        BusinessCalendar(weekdays={7})
    with pytest.raises(ValueError, match="must end after they start"):
        BusinessCalendar(work_start=time(18), work_end=time(9))
    with pytest.raises(ValueError, match="positive timedelta"):
        SlaTarget(timedelta(0), H)
    # sets given to the calendar are frozen, so calendars and policies are hashable
    calendar = BusinessCalendar(weekdays={0, 1}, holidays={date(2025, 1, 1)})
    assert isinstance(calendar.weekdays, frozenset)
    assert hash(calendar) == hash(BusinessCalendar(weekdays={1, 0}, holidays={date(2025, 1, 1)}))
    assert hash(business_policy(calendar=calendar)) == hash(business_policy(calendar=calendar))
