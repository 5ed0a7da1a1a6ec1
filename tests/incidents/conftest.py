"""A running desk with a supervisor, and helpers to file many complaints from many customers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import FrozenClock
from storage.models import Ticket
from tests.harness import Desk
from tests.staff.conftest import STAFF, deliver, open_desk, open_ticket
from tests.telegram_fake import TelegramUser

SUPERVISOR = TelegramUser(4001, "Sofia", "Supervisor", "sofia_sup", "en")
CARD_DECLINED = [
    "My card payment was declined at checkout",
    "Card declined when I try to pay for the order",
    "Payment by card keeps getting declined, tried three times",
    "cant pay, the bank card is declined every time",
    "The payment fails - card declined error on the payment page",
    "Checkout says my card was declined although it has money",
    "card payment declined again!!",
    "Your checkout declines my card payment",
]


def customer(index: int, language: str = "en") -> TelegramUser:
    return TelegramUser(5000 + index, f"Customer{index}", None, None, language)


@pytest.fixture
async def desk(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Desk]:
    async with open_desk(tmp_path, clock, supervisor_ids=str(SUPERVISOR.id)) as running:
        running.fake.add_user(SUPERVISOR)
        yield running


async def complain(
    desk: Desk,
    index: int,
    text: str,
    *,
    category: str = "payment",
    language: str = "en",
    **form: Any,
) -> Ticket:
    user = customer(index, language)
    desk.fake.add_user(user)
    form.setdefault("fields", {"order_number": "12345678"} if category != "website" else {})
    return await open_ticket(desk, user, category=category, description=text, **form)


async def burst(
    desk: Desk, texts: list[str], *, every: timedelta, first_index: int = 0, **options: Any
) -> list[Ticket]:
    tickets = []
    for offset, text in enumerate(texts):
        tickets.append(await complain(desk, first_index + offset, text, **options))
        desk.clock.advance(every)
    return tickets


def alerts(desk: Desk, chat_id: int = STAFF) -> list[str]:
    sent = desk.fake.texts_to(chat_id, thread_id=None)
    return [text for text in sent if "Похоже на инцидент" in text or "Possible incident" in text]


__all__ = ["STAFF", "deliver"]
