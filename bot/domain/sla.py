"""Service levels: the targets of each priority, and when a ticket's targets fall due.

Pure domain code: standard library only, no I/O. Targets are counted in service time,
wall-clock or business hours (see :mod:`bot.domain.service_time` and
:mod:`bot.domain.business_calendar`). A business-time target of N hours counts N business
hours, never calendar days: with 09:00-18:00 hours a 45 h target is five working days, and
the default low-priority resolution target of 5 days (120 h) is 13 working days and 3 hours.

Due times are computed by :func:`compute_due` from the ticket's facts (``opened_at``,
priority, accumulated pause, ``first_response_at``) as
``add_service_time(opened_at, target + paused)``; the caller stores them on the ticket and
computes them again whenever one of those facts changes.

Time spent waiting for the customer is measured by the caller in service time, i.e. with
``service_time_between(paused_at, resumed_at, calendar=policy.service_calendar)``, and
accumulated; it pushes the resolution due time later. A pause that is still running can be
passed as ``paused_since`` and is counted up to ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType

from bot.domain.business_calendar import DEFAULT_TIMEZONE, ZERO, BusinessCalendar
from bot.domain.service_time import (
    add_service_time,
    require_aware,
    require_non_negative,
    service_time_between,
)

__all__ = [
    "DEFAULT_TARGETS",
    "PRIORITIES",
    "DueTimes",
    "SlaPolicy",
    "SlaTarget",
    "compute_due",
]

DEFAULT_WARN_FRACTION = 0.75
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")


def _priority_key(priority: str) -> str:
    """Normalise a priority given as a string or a string-valued enum member."""
    value = getattr(priority, "value", priority)
    if not isinstance(value, str):
        raise ValueError(f"priority must be a string, got {priority!r}")
    return value.strip().lower()


@dataclass(frozen=True)
class SlaTarget:
    """Service-time allowances for one priority."""

    first_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        for name in ("first_response", "resolution"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= ZERO:
                raise ValueError(f"{name} target must be a positive timedelta, got {value!r}")

    @classmethod
    def from_hours(cls, first_response: float, resolution: float) -> SlaTarget:
        return cls(timedelta(hours=first_response), timedelta(hours=resolution))


DEFAULT_TARGETS: Mapping[str, SlaTarget] = MappingProxyType(
    {
        "urgent": SlaTarget(timedelta(hours=1), timedelta(hours=8)),
        "high": SlaTarget(timedelta(hours=4), timedelta(hours=24)),
        "normal": SlaTarget(timedelta(hours=24), timedelta(hours=48)),
        "low": SlaTarget(timedelta(hours=48), timedelta(days=5)),
    }
)


def _freeze_targets(targets: Mapping[str, SlaTarget]) -> Mapping[str, SlaTarget]:
    frozen: dict[str, SlaTarget] = {}
    for key, target in targets.items():
        name = _priority_key(key)
        if not name:
            raise ValueError("priority names in SLA targets must not be empty")
        if not isinstance(target, SlaTarget):
            raise ValueError(f"SLA target for {name!r} must be an SlaTarget, got {target!r}")
        frozen[name] = target
    return MappingProxyType(frozen)


def _target_from_hours(priority: str, value: object) -> SlaTarget:
    message = (
        f"SLA target for {priority!r} must be two positive numbers of hours "
        f"(first response, resolution), got {value!r}"
    )
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(message)
    hours: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ValueError(message)
        if not math.isfinite(item) or item <= 0:
            raise ValueError(message)
        hours.append(float(item))
    return SlaTarget.from_hours(hours[0], hours[1])


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority and how service time is counted.

    With ``business_time_only`` the targets count business hours of ``calendar`` (a target
    of N hours is N business hours, see the module docstring); otherwise wall-clock time.
    ``warn_fraction`` is the share of a target after which the sweep warns the desk.
    """

    targets: Mapping[str, SlaTarget] = field(default_factory=lambda: DEFAULT_TARGETS, hash=False)
    business_time_only: bool = False
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    warn_fraction: float = DEFAULT_WARN_FRACTION

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", _freeze_targets(self.targets))
        if not isinstance(self.calendar, BusinessCalendar):
            raise ValueError(f"calendar must be a BusinessCalendar, got {self.calendar!r}")
        if (
            isinstance(self.warn_fraction, bool)
            or not isinstance(self.warn_fraction, int | float)
            or not 0 < self.warn_fraction < 1
        ):
            raise ValueError(
                f"warn_fraction must be a number between 0 and 1 (exclusive), "
                f"got {self.warn_fraction!r}"
            )

    @classmethod
    def from_config(
        cls,
        *,
        targets: Mapping[str, Sequence[float]] | None = None,
        business_hours: str | None = None,
        weekdays: str | None = None,
        holidays: Iterable[str | date] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        business_time_only: bool = False,
        warn_fraction: float = DEFAULT_WARN_FRACTION,
    ) -> SlaPolicy:
        """Build a policy from plain config values.

        ``targets`` maps a priority (urgent, high, normal, low) to ``(first response hours,
        resolution hours)``; priorities left out keep their defaults. ``business_hours`` is
        like ``"09:00-18:00"``, ``weekdays`` like ``"mon-fri"`` or ``"mon,tue,wed"``,
        ``holidays`` a list of ISO dates, ``timezone`` an IANA name. ``None`` keeps the
        default. Bad input raises ``ValueError`` naming the offending value.
        """
        merged = dict(DEFAULT_TARGETS)
        for key, value in (targets or {}).items():
            name = _priority_key(key)
            if name not in PRIORITIES:
                raise ValueError(
                    f"unknown priority {key!r} in SLA targets: expected one of "
                    f"{', '.join(PRIORITIES)}"
                )
            merged[name] = _target_from_hours(name, value)
        calendar = BusinessCalendar.from_config(
            business_hours=business_hours,
            weekdays=weekdays,
            holidays=holidays,
            timezone=timezone,
        )
        return cls(
            targets=merged,
            business_time_only=business_time_only,
            calendar=calendar,
            warn_fraction=warn_fraction,
        )

    @property
    def service_calendar(self) -> BusinessCalendar | None:
        """The calendar service time is counted in, or None for wall-clock time."""
        return self.calendar if self.business_time_only else None

    def target_for(self, priority: str) -> SlaTarget:
        """Targets of ``priority`` (a string or string-valued enum member)."""
        name = _priority_key(priority)
        try:
            return self.targets[name]
        except KeyError:
            raise ValueError(
                f"no SLA target for priority {name!r}: known priorities are "
                f"{', '.join(self.targets)}"
            ) from None


@dataclass(frozen=True)
class DueTimes:
    """When the targets of one ticket fall due (aware UTC)."""

    first_response_due: datetime | None
    resolution_due: datetime


def _check_facts(opened_at: datetime, now: datetime, first_response_at: datetime | None) -> None:
    require_aware(opened_at, "opened_at")
    require_aware(now, "now")
    if first_response_at is not None:
        require_aware(first_response_at, "first_response_at")


def _total_pause(
    policy: SlaPolicy, paused: timedelta, paused_since: datetime | None, now: datetime
) -> timedelta:
    require_non_negative(paused, "paused")
    if paused_since is None:
        return paused
    return paused + service_time_between(paused_since, now, calendar=policy.service_calendar)


def compute_due(
    policy: SlaPolicy,
    *,
    priority: str,
    opened_at: datetime,
    now: datetime,
    paused: timedelta = ZERO,
    first_response_at: datetime | None = None,
    paused_since: datetime | None = None,
) -> DueTimes:
    """Due times of a ticket from its facts, to be stored on it (and computed again when a
    fact changes).

    ``paused`` is the accumulated service time spent waiting for the customer; it moves the
    resolution due time later. ``paused_since`` marks a pause still running at ``now``
    (counted up to ``now``). The first-response due time is None once ``first_response_at``
    is set; it is never paused (a pause starts only after staff asked something).
    """
    _check_facts(opened_at, now, first_response_at)
    target = policy.target_for(priority)
    calendar = policy.service_calendar
    pause = _total_pause(policy, paused, paused_since, now)
    first_due = (
        None
        if first_response_at is not None
        else add_service_time(opened_at, target.first_response, calendar=calendar)
    )
    resolution_due = add_service_time(opened_at, target.resolution + pause, calendar=calendar)
    return DueTimes(first_response_due=first_due, resolution_due=resolution_due)
