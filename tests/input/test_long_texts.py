"""Texts the bot builds around user content stay within Telegram's limits, measured in UTF-16
units after escaping: the form's summary, the ticket card, the customer's ticket view."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.telegram.text_limits import TEXT_LIMIT, utf16_len
from storage.models import Ticket
from tests.harness import Desk
from tests.staff.conftest import ANNA, IVAN, STAFF, deliver, open_desk, open_ticket, ticket
from tests.telegram_fake import TelegramUser

CUSTOMER = TelegramUser(1101, "Olga", "<b>Tagged</b>", username="olga", language_code="en")

# The form's own maximum is 4,000 characters; a Telegram message holds at most 4,096 UTF-16
# units, so 2,048 emoji are the most a customer can send in one message.
LONG_DESCRIPTIONS = {
    "angle brackets": "<" * 4000,
    "mixed specials": "<&>" * 1333 + "<",
    "emoji": "😀" * 2048,
}


async def _fill_until_summary(desk: Desk, user: TelegramUser, description: str) -> None:
    await desk.command(user, "complaint")
    await desk.press(user, "Service and staff")
    await desk.say(user, description)
    await desk.press(user, "Yesterday")
    await desk.press(user, "Skip")
    await desk.say(user, "Skip")


@pytest.mark.parametrize("description", LONG_DESCRIPTIONS.values(), ids=LONG_DESCRIPTIONS)
async def test_a_description_at_the_maximum_still_gives_a_summary_to_submit(
    desk: Desk, description: str
) -> None:
    await _fill_until_summary(desk, CUSTOMER, description)
    summary = desk.last_text(CUSTOMER)
    assert summary.startswith("Please check your complaint")
    assert utf16_len(summary) <= TEXT_LIMIT
    assert "Description: " + description[:50] in summary
    assert "…" in summary  # the long answer is shown shortened
    assert "✅ Submit" in desk.buttons(CUSTOMER)

    await desk.press(CUSTOMER, "✅ Submit")
    assert "Your complaint is registered." in desk.last_text(CUSTOMER)
    async with desk.database.unit_of_work() as uow:
        [stored] = (await uow.session.exec(select(Ticket))).all()
    assert stored.description == description  # the stored answer stays whole


async def test_a_short_description_is_shown_whole(desk: Desk) -> None:
    await _fill_until_summary(desk, CUSTOMER, "The <courier> & the rain")
    assert "Description: The <courier> & the rain" in desk.last_text(CUSTOMER)


@pytest.mark.parametrize("description", LONG_DESCRIPTIONS.values(), ids=LONG_DESCRIPTIONS)
async def test_the_card_of_a_maximal_description_is_posted_within_the_limit(
    tmp_path, clock, description: str
) -> None:
    async with open_desk(tmp_path, clock) as desk:
        opened = await open_ticket(desk, IVAN, description=description)
        await deliver(desk)
        current = await ticket(desk, opened.id or 0)
        assert current.card_message_id is not None
        card = desk.fake.message(STAFF, current.card_message_id)
        assert card is not None and card.text is not None
        assert utf16_len(card.text) <= TEXT_LIMIT
        assert description[:50] in card.text
        assert card.text.rstrip().endswith("…")
        assert current.description == description

        # The card is edited on every change: still within the limit.
        topic = current.topic_id
        await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
        await deliver(desk)
        card = desk.fake.message(STAFF, current.card_message_id)
        assert card is not None and card.text is not None
        assert "Anna" in card.text


async def test_the_ticket_view_of_many_long_messages_fits_one_message(desk: Desk) -> None:
    await open_ticket(desk, IVAN)
    for index in range(16):
        await desk.say(IVAN, f"{index} " + "<😀&" * 1000)
    await desk.command(IVAN, "tickets")
    await desk.press(IVAN, "Open C-000001")
    view = desk.last_text(IVAN)
    assert "C-000001" in view.splitlines()[0]
    assert utf16_len(view) <= TEXT_LIMIT
    assert "15 <😀&" in view  # the newest messages are shown, shortened
    assert "…" in view


def test_fit_escaped_keeps_short_texts_and_shares_the_rest() -> None:
    from bot.telegram.text_limits import fit_escaped

    short, long_one, longer = "a<b", "<" * 500, "😀" * 1000
    fitted = fit_escaped([long_one, short, longer], 600)
    assert fitted[1] == "a&lt;b"
    assert sum(utf16_len(part) for part in fitted) <= 600
    assert fitted[0].endswith("…") and fitted[2].endswith("…")
    assert fit_escaped(["<b>"], 100) == ["&lt;b&gt;"]


async def test_a_decision_too_long_to_send_is_refused_with_the_limit(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    await deliver(desk)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    long_decision = "We refund <all> & more. " * 160  # 3,840 characters
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, f"/resolve refund {long_decision}", thread_id=topic)
    )
    assert "слишком длинное" in (desk.fake.sent_to(STAFF, thread_id=topic)[-1].text or "")
    assert (await ticket(desk, opened.id or 0)).status == "new"

    decision = "We refund <all> & more. " * 140  # 3,360 characters: sent whole
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, f"/resolve refund {decision}", thread_id=topic)
    )
    await deliver(desk)
    assert (await ticket(desk, opened.id or 0)).status == "resolved"
    told = desk.last_text(IVAN)
    assert decision.strip() in told and utf16_len(told) <= TEXT_LIMIT
