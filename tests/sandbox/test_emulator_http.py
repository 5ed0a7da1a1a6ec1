"""The Bot API emulator over HTTP, spoken to by aiogram's own HTTP session.

Every answer goes through aiogram's response parsing, so a result that does not fit aiogram's
types (or an error in the wrong shape) fails here exactly as it would fail the real bot.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    MessageId,
    ReplyKeyboardMarkup,
    ReplyParameters,
    User,
)
from aiohttp import ClientSession, web

from bot.domain.clock import FrozenClock
from sandbox.emulator import FakeTelegram, TelegramUser, UpdateFactory
from sandbox.emulator.server import BotApiServer
from tests.sandbox.http_session import LocalHttpSession

TOKEN = "42:EMULATOR"
GROUP = -1001234567890
ANNA = TelegramUser(5001, "Anna", language_code="en")
OWNER = TelegramUser(7001, "Olga", username="olga")


@dataclass
class Emulator:
    telegram: FakeTelegram
    server: BotApiServer
    factory: UpdateFactory
    base: str
    bot: Bot


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    clock = FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    telegram = FakeTelegram(clock=clock, bot_username="desk_bot")
    telegram.add_chat(GROUP, chat_type="supergroup", title="Support staff", is_forum=True)
    telegram.set_admins(GROUP, [OWNER.id])
    telegram.add_user(OWNER)
    server = BotApiServer(telegram, token=TOKEN)
    factory = UpdateFactory(telegram, clock=clock)
    app = web.Application()
    server.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    session = LocalHttpSession(base)
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        yield Emulator(telegram, server, factory, base, bot)
    finally:
        await server.close()
        await session.close()
        await runner.cleanup()


async def test_get_me_is_the_bot_of_the_token(emulator: Emulator) -> None:
    me = await emulator.bot.get_me()
    assert isinstance(me, User)
    assert (me.id, me.is_bot, me.username) == (42, True, "desk_bot")


async def test_a_wrong_token_is_unauthorized_and_an_unknown_method_not_found(
    emulator: Emulator,
) -> None:
    stranger = Bot("43:OTHER", session=emulator.bot.session)
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    url = f"{emulator.base}/bot{TOKEN}/sendTelepathy"
    async with ClientSession() as client, client.post(url) as response:
        assert response.status == 404
        assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_message_with_html_and_an_inline_keyboard(emulator: Emulator) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Take", callback_data="take:1")]]
    )
    sent = await emulator.bot.send_message(
        ANNA.id, "<b>Ticket</b> &lt;C-000001&gt; <i>new</i>", reply_markup=markup
    )
    assert isinstance(sent, Message)
    assert sent.text == "Ticket <C-000001> new"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 6),
        ("italic", 18, 3),
    ]
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == markup.model_dump(exclude_none=True)
    assert sent.date == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert sent.chat.id == ANNA.id and sent.chat.type == "private"


async def test_a_reply_keyboard_is_accepted_but_not_echoed(emulator: Emulator) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share my phone", request_contact=True)]],
        resize_keyboard=True,
    )
    sent = await emulator.bot.send_message(ANNA.id, "Your phone?", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram never returns reply keyboards
    call = emulator.telegram.calls_of("sendMessage")[-1]
    assert emulator.telegram.reply_buttons(call) == [["Share my phone"]]


async def test_bad_html_and_too_long_texts_are_refused_with_telegrams_words(
    emulator: Emulator,
) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await emulator.bot.send_message(ANNA.id, "<b>unclosed")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await emulator.bot.send_message(ANNA.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await emulator.bot.send_message(ANNA.id, "<b></b>")


async def test_an_identical_edit_is_not_modified(emulator: Emulator) -> None:
    sent = await emulator.bot.send_message(ANNA.id, "Status: <b>new</b>")
    edited = await emulator.bot.edit_message_text(
        "Status: <b>in progress</b>", chat_id=ANNA.id, message_id=sent.message_id
    )
    assert isinstance(edited, Message)
    assert edited.text == "Status: in progress" and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await emulator.bot.edit_message_text(
            "Status: <b>in progress</b>", chat_id=ANNA.id, message_id=sent.message_id
        )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Close", callback_data="close:1")]]
    )
    with_buttons = await emulator.bot.edit_message_reply_markup(
        chat_id=ANNA.id, message_id=sent.message_id, reply_markup=markup
    )
    assert isinstance(with_buttons, Message) and with_buttons.reply_markup is not None
    assert with_buttons.reply_markup.inline_keyboard[0][0].callback_data == "close:1"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await emulator.bot.edit_message_text("x", chat_id=ANNA.id, message_id=999)


async def test_forum_topics_and_a_deleted_topic(emulator: Emulator) -> None:
    topic = await emulator.bot.create_forum_topic(GROUP, "🆕 C-000001 · Delivery · Anna")
    assert isinstance(topic, ForumTopic)
    thread = topic.message_thread_id
    card = await emulator.bot.send_message(GROUP, "Card", message_thread_id=thread)
    assert card.message_thread_id == thread and card.is_topic_message
    assert await emulator.bot.edit_forum_topic(GROUP, thread, name="🔧 C-000001 · Delivery")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await emulator.bot.edit_forum_topic(GROUP, thread, name="🔧 C-000001 · Delivery")
    assert await emulator.bot.delete_forum_topic(GROUP, thread)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await emulator.bot.send_message(GROUP, "Anyone?", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_TITLE_TOO_LONG"):
        await emulator.bot.create_forum_topic(GROUP, "x" * 129)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await emulator.bot.create_forum_topic(ANNA.id, "private")


async def test_copies_replies_and_a_blocked_user(emulator: Emulator) -> None:
    incoming = emulator.factory.text(ANNA, "The parcel was wet").message
    assert incoming is not None
    topic = await emulator.bot.create_forum_topic(GROUP, "C-000002")
    copied = await emulator.bot.copy_message(
        GROUP, ANNA.id, incoming.message_id, message_thread_id=topic.message_thread_id
    )
    assert isinstance(copied, MessageId)
    stored = emulator.telegram.message(GROUP, copied.message_id)
    assert stored is not None and stored.text == "The parcel was wet"
    reply = await emulator.bot.send_message(
        ANNA.id,
        "We are on it",
        reply_parameters=ReplyParameters(message_id=incoming.message_id),
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "The parcel was wet"
    emulator.telegram.block_user(ANNA.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await emulator.bot.send_message(ANNA.id, "Hello?")


async def test_uploads_albums_get_file_and_download(emulator: Emulator) -> None:
    picture = b"\x89PNG\r\n\x1a\n picture bytes"
    photo = await emulator.bot.send_photo(
        ANNA.id, BufferedInputFile(picture, "chart.png"), caption="<b>Week</b>"
    )
    assert photo.photo and photo.caption == "Week"
    file = await emulator.bot.get_file(photo.photo[-1].file_id)
    assert file.file_path
    downloaded = await emulator.bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == picture

    album = await emulator.bot.send_media_group(
        ANNA.id,
        [
            InputMediaPhoto(media=photo.photo[-1].file_id, caption="first"),
            InputMediaDocument(media=BufferedInputFile(b"%PDF-1.4", "receipt.pdf")),
        ],
    )
    assert [bool(m.photo) for m in album] == [True, False]
    assert album[1].document is not None and album[1].document.file_name == "receipt.pdf"
    assert album[0].media_group_id == album[1].media_group_id is not None
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await emulator.bot.send_document(
            ANNA.id, BufferedInputFile(b"x", "a.txt"), caption="y" * 1025
        )


async def test_members_admins_chat_commands_and_callback_answers(emulator: Emulator) -> None:
    admins = await emulator.bot.get_chat_administrators(GROUP)
    assert isinstance(admins[0], ChatMemberOwner) and admins[0].user.id == OWNER.id
    assert any(isinstance(m, ChatMemberAdministrator) and m.user.id == 42 for m in admins)
    member = await emulator.bot.get_chat_member(GROUP, ANNA.id)
    assert member.status == "member"
    chat = await emulator.bot.get_chat(GROUP)
    assert chat.is_forum and chat.title == "Support staff"

    commands = [BotCommand(command="start", description="Start")]
    assert await emulator.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    menu = await emulator.bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [(c.command, c.description) for c in menu] == [("start", "Start")]

    sent = await emulator.bot.send_message(ANNA.id, "Rate us")
    press = emulator.factory.callback(ANNA, "rate:5", message=sent)
    assert press.callback_query is not None
    assert await emulator.bot.answer_callback_query(press.callback_query.id, text="Thanks!")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await emulator.bot.answer_callback_query(press.callback_query.id)


async def test_get_updates_long_polls_and_confirms_by_offset(emulator: Emulator) -> None:
    waiting = asyncio.create_task(emulator.bot.get_updates(timeout=20))
    await asyncio.sleep(0)  # let the poll reach the server before anything is queued
    update = emulator.factory.text(ANNA, "/start")
    await emulator.server.updates.put(update)
    received = await asyncio.wait_for(waiting, 10)
    assert [u.update_id for u in received] == [update.update_id]
    assert received[0].message is not None and received[0].message.text == "/start"
    again = await emulator.bot.get_updates(offset=update.update_id, timeout=0)
    assert [u.update_id for u in again] == [update.update_id]  # not confirmed yet
    confirmed = await emulator.bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert confirmed == []


async def test_form_values_are_read_as_telegram_reads_them(emulator: Emulator) -> None:
    """A text that looks like JSON stays text; objects arrive as JSON strings."""
    async with ClientSession() as client:
        form = {
            "chat_id": str(ANNA.id),
            "text": "[1, 2]",
            "reply_markup": json.dumps(
                {"inline_keyboard": [[{"text": "A", "url": "https://a.b"}]]}
            ),
        }
        async with client.post(f"{emulator.base}/bot{TOKEN}/sendMessage", data=form) as response:
            body = await response.json()
        async with client.post(f"{emulator.base}/bot{TOKEN}/sendMessage", data={}) as missing:
            refused = await missing.json()
    assert body["ok"] and body["result"]["text"] == "[1, 2]"
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://a.b"
    assert refused["error_code"] == 400 and "chat_id" in refused["description"]


async def test_a_press_on_a_message_with_link_preview_options_reaches_the_bot(
    emulator: Emulator,
) -> None:
    """aiogram fills options a message leaves out with `Default` markers; the update the
    emulator hands out carries none of them (Telegram leaves unset fields out)."""
    bot = Bot(
        TOKEN,
        session=emulator.bot.session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
    )
    sent = await bot.send_message(ANNA.id, "Did this help?", reply_markup=markup)
    await emulator.server.updates.put(emulator.factory.callback(ANNA, "yes", message=sent))
    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query is not None and update.callback_query.data == "yes"
    message = update.callback_query.message
    assert isinstance(message, Message) and message.text == "Did this help?"
    assert message.link_preview_options is not None
    assert message.link_preview_options.is_disabled


async def test_captions_videos_audio_pins_deletes_and_closed_topics(emulator: Emulator) -> None:
    video = await emulator.bot.send_video(
        ANNA.id, BufferedInputFile(b"\x00\x00\x00\x18ftypmp42", "unboxing.mp4"), caption="Box"
    )
    assert video.video is not None and video.video.mime_type == "video/mp4"
    audio = await emulator.bot.send_audio(ANNA.id, BufferedInputFile(b"ID3", "call.mp3"))
    assert audio.audio is not None and audio.audio.file_name == "call.mp3"
    recaptioned = await emulator.bot.edit_message_caption(
        chat_id=ANNA.id, message_id=video.message_id, caption="<i>Unboxing</i>"
    )
    assert isinstance(recaptioned, Message) and recaptioned.caption == "Unboxing"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await emulator.bot.edit_message_caption(
            chat_id=ANNA.id, message_id=video.message_id, caption="<i>Unboxing</i>"
        )
    assert await emulator.bot.pin_chat_message(ANNA.id, audio.message_id)
    assert await emulator.bot.delete_message(ANNA.id, audio.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await emulator.bot.delete_message(ANNA.id, audio.message_id)

    topic = await emulator.bot.create_forum_topic(GROUP, "C-000003")
    assert await emulator.bot.close_forum_topic(GROUP, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await emulator.bot.close_forum_topic(GROUP, topic.message_thread_id)
    assert await emulator.bot.reopen_forum_topic(GROUP, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await emulator.bot.close_forum_topic(GROUP, 999_999)


async def test_webhook_and_polling_exclude_each_other(emulator: Emulator) -> None:
    assert await emulator.bot.set_webhook("https://desk.example.com/webhook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await emulator.bot.get_updates(timeout=0)
    assert await emulator.bot.delete_webhook()
    assert await emulator.bot.get_updates(timeout=0) == []
