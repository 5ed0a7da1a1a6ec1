"""Due times counted in business hours, from settings to the customer's ticket view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_sla_policy
from bot.domain.clock import FrozenClock
from bot.services.intake import ComplaintForm
from tests.harness import Desk, make_settings, running_desk
from tests.sla.desk_helpers import customer_id
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(3201, "Anna", language_code="en")
BUSINESS = {
    "sla_business_time_only": True,
    "business_hours": "09:00-18:00",
    "business_days": "mon-fri",
    "holidays": "2026-11-30",
    "sla_targets": "urgent=1/8,high=4/24,normal=24/48,low=48/120",
}


def test_settings_build_the_policy() -> None:
    policy = build_sla_policy(
        make_settings("sqlite+aiosqlite://", sla_targets="urgent=2/6", sla_warn_fraction=0.8)
    )
    assert policy.target_for("urgent").first_response.total_seconds() == 2 * 3600
    assert policy.target_for("normal").resolution.total_seconds() == 48 * 3600  # default kept
    assert policy.warn_fraction == 0.8
    assert policy.service_calendar is None
    business = build_sla_policy(make_settings("sqlite+aiosqlite://", **BUSINESS))
    assert business.service_calendar is not None
    assert [str(day) for day in business.calendar.holidays] == ["2026-11-30"]


def test_bad_targets_are_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="normal=24/48"):
        make_settings("sqlite+aiosqlite://", sla_targets="normal=24")


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    clock.set(datetime(2026, 11, 27, 14, 30, tzinfo=UTC))  # Friday 17:30 in Moscow
    async with running_desk(tmp_path, clock, **BUSINESS) as running:
        yield running


async def test_ticket_view_shows_business_hours_due_times(desk: Desk) -> None:
    await desk.command(ANNA, "start")
    await desk.app.tickets.open_complaint(
        customer_id=await customer_id(desk, ANNA),
        form=ComplaintForm(category="delivery", description="Parcel is late", incident_date=None),
    )
    await desk.command(ANNA, "tickets")
    await desk.press(ANNA, "Open C-000001")
    view = desk.last_text(ANNA)
    # 24 business hours: 30 min on Friday, Monday is a holiday, then Tuesday to Thursday.
    assert "Expect the first answer by: Dec 3, 2026, 14:30" in view
    # 48 business hours: into the next week, Tuesday 11:30.
    assert "Expected resolution by: Dec 8, 2026, 11:30" in view
