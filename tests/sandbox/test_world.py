"""What a person does on the sandbox page becomes the update Telegram would send the bot."""

from __future__ import annotations

from aiogram.types import Update

from sandbox import cast
from sandbox.clock import SandboxClock
from sandbox.world import SandboxWorld

ANNA = cast.CUSTOMERS[0]
OLGA = cast.STAFF[0].user


async def _updates(world: SandboxWorld) -> list[Update]:
    raw = await world.server.updates.take()
    return [Update.model_validate(item) for item in raw]


async def test_a_reply_an_edit_and_a_contact_reach_the_bot_as_telegram_sends_them() -> None:
    world = SandboxWorld(SandboxClock())
    await world.send_text(ANNA.user.id, "The parcel was wet")
    first = (await _updates(world))[-1].message
    assert first is not None
    await world.send_text(ANNA.user.id, "And the box was torn", reply_to=first.message_id)
    await world.edit_text(
        ANNA.user.id, first.message_id, "The parcel was soaked", chat_id=ANNA.user.id
    )
    await world.share_contact(ANNA.user.id)
    reply, edit, contact = (await _updates(world))[-3:]
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.text == "The parcel was wet"
    assert edit.edited_message is not None
    assert edit.edited_message.text == "The parcel was soaked"
    assert edit.edited_message.message_id == first.message_id
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.phone_number == ANNA.phone
    assert contact.message.contact.user_id == ANNA.user.id


async def test_files_from_disk_become_a_photo_and_a_document_album_with_their_bytes() -> None:
    world = SandboxWorld(SandboxClock())
    picture, receipt = b"\x89PNG\r\n\x1a\n picture", b"%PDF-1.4 receipt"
    await world.send_files(
        ANNA.user.id, [("shop.png", picture), ("receipt.pdf", receipt)], caption="Look"
    )
    photo, document = (await _updates(world))[-2:]
    assert photo.message is not None and photo.message.photo
    assert document.message is not None and document.message.document
    assert photo.message.caption == "Look" and document.message.caption is None
    assert photo.message.media_group_id == document.message.media_group_id is not None
    assert document.message.document.file_name == "receipt.pdf"
    assert await world.file_content(photo.message.photo[-1].file_id) == picture
    assert await world.file_content(document.message.document.file_id) == receipt


async def test_staff_write_in_a_topic_and_press_buttons_on_the_bots_messages() -> None:
    world = SandboxWorld(SandboxClock())
    thread = world.telegram.create_topic(cast.STAFF_CHAT_ID, "🆕 C-000001 · Delivery")
    await world.send_text(OLGA.id, "/take", chat_id=cast.STAFF_CHAT_ID, thread_id=thread)
    (take,) = (await _updates(world))[-1:]
    assert take.message is not None
    assert take.message.message_thread_id == thread and take.message.is_topic_message
    assert take.message.from_user is not None and take.message.from_user.id == OLGA.id
    entities = [e.type for e in take.message.entities or []]
    assert entities == ["bot_command"]

    sent = await world.server.bot.send_message(
        ANNA.user.id,
        "Rate us",
        reply_markup={"inline_keyboard": [[{"text": "5", "callback_data": "rate:5"}]]},  # type: ignore[arg-type]
    )
    await world.press(ANNA.user.id, ANNA.user.id, sent.message_id, "rate:5")
    (press,) = (await _updates(world))[-1:]
    assert press.callback_query is not None and press.callback_query.data == "rate:5"
    assert press.callback_query.from_user.id == ANNA.user.id


async def test_the_reply_keyboard_the_bot_sent_is_kept_until_used() -> None:
    world = SandboxWorld(SandboxClock())

    keyboard = {
        "keyboard": [[{"text": "📱 Share", "request_contact": True}], [{"text": "Skip"}]],
        "one_time_keyboard": True,
    }
    await world.server.bot.send_message(ANNA.user.id, "Your phone?", reply_markup=keyboard)  # type: ignore[arg-type]
    # The emulator's HTTP door tells listeners; here the session was called directly.
    world._heard(world.telegram.calls[-1])
    assert world.reply_keyboards[ANNA.user.id]["keyboard"][1][0]["text"] == "Skip"
    await world.send_text(ANNA.user.id, "Skip", from_keyboard=True)
    assert ANNA.user.id not in world.reply_keyboards  # a one-time keyboard is gone once used
