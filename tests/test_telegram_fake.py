"""The fake Bot API session and the update builders, exercised through a real Dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageId,
    ReplyKeyboardMarkup,
)

from tests.telegram_fake import FakeTelegram, TelegramUser, UpdateFactory

STAFF = -1001234567890
ANNA = TelegramUser(1001, "Anna", "Petrova", "anna_p", "ru")
BORIS = TelegramUser(2002, "Boris", username="boris_agent")
VERA = TelegramUser(3003, "Vera")


class TickingClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def bot(fake: FakeTelegram) -> Bot:
    return Bot(token="42:TEST", session=fake)


@pytest.fixture
def updates(fake: FakeTelegram) -> UpdateFactory:
    return UpdateFactory(fake)


def dispatcher(*routers: Router) -> Dispatcher:
    dp = Dispatcher()
    for router in routers:
        dp.include_router(router)
    return dp


def echo_router() -> Router:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"You said: {message.text}")

    return router


async def test_echo_round_trip(fake: FakeTelegram, bot: Bot, updates: UpdateFactory) -> None:
    dp = dispatcher(echo_router())

    first = updates.text(ANNA, "hello")
    await dp.feed_update(bot, first)
    second = updates.text(ANNA, "again")
    await dp.feed_update(bot, second)

    calls = fake.calls_of("sendMessage")
    assert [c.params["chat_id"] for c in calls] == [ANNA.id, ANNA.id]
    assert [c.params["text"] for c in calls] == ["You said: hello", "You said: again"]
    assert fake.texts_to(ANNA.id) == ["You said: hello", "You said: again"]
    # One message id sequence per chat, shared by the user's and the bot's messages.
    assert first.message is not None and second.message is not None
    sent = fake.messages_to(ANNA.id)
    ids = [first.message.message_id, sent[0].message_id, second.message.message_id]
    ids.append(sent[1].message_id)
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert second.update_id == first.update_id + 1
    reply = sent[0]
    assert reply.from_user is not None and reply.from_user.id == 42 and reply.from_user.is_bot
    assert reply.chat.type == "private" and reply.chat.first_name == "Anna"
    assert calls[0].result == reply


async def test_command_builder_sets_bot_command_entity(
    fake: FakeTelegram, bot: Bot, updates: UpdateFactory
) -> None:
    router = Router()
    seen: list[str | None] = []

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        seen.append(command.args)
        await message.answer("Welcome")

    update = updates.command(ANNA, "start", "ref_42")
    assert update.message is not None and update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")

    await dispatcher(router).feed_update(bot, update)
    assert seen == ["ref_42"]
    assert fake.last_sent(ANNA.id).text == "Welcome"


def ticket_router() -> Router:
    router = Router()

    @router.message(Command("ticket"))
    async def show(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Take", callback_data="take:7"),
                    InlineKeyboardButton(text="Help", url="https://example.com/help"),
                ]
            ]
        )
        await message.answer("Ticket C-000007", reply_markup=markup)

    @router.callback_query(F.data.startswith("take:"))
    async def take(query: CallbackQuery) -> None:
        await query.answer("Taken")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Ticket C-000007 is yours")

    return router


async def test_callback_round_trip(fake: FakeTelegram, bot: Bot, updates: UpdateFactory) -> None:
    dp = dispatcher(ticket_router())
    await dp.feed_update(bot, updates.command(ANNA, "ticket"))

    card = fake.last_sent(ANNA.id)
    assert fake.inline_buttons(card) == [[("Take", "take:7"), ("Help", "https://example.com/help")]]
    assert fake.button_data(fake.sent_to(ANNA.id)[-1], "Take") == "take:7"

    press = updates.callback(ANNA, "take:7", message=card)
    await dp.feed_update(bot, press)

    answers = fake.calls_of("answerCallbackQuery")
    assert len(answers) == 1 and answers[0].params["text"] == "Taken"
    edited = fake.message(ANNA.id, card.message_id)
    assert edited is not None and edited.text == "Ticket C-000007 is yours"
    assert edited.reply_markup is None  # editing text without a keyboard drops it
    assert edited.edit_date is not None

    # A query can be answered once.
    assert press.callback_query is not None
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(press.callback_query.id)


async def test_forum_topic_then_send_into_it(
    fake: FakeTelegram, bot: Bot, updates: UpdateFactory
) -> None:
    topic = await bot.create_forum_topic(STAFF, "C-000123 · Anna")
    assert isinstance(topic, ForumTopic) and topic.name == "C-000123 · Anna"
    second = await bot.create_forum_topic(STAFF, "C-000124 · Boris", icon_color=16766590)
    assert second.message_thread_id > topic.message_thread_id
    assert second.icon_color == 16766590

    card = await bot.send_message(STAFF, "New ticket", message_thread_id=topic.message_thread_id)
    assert card.message_thread_id == topic.message_thread_id and card.is_topic_message
    assert card.chat.type == "supergroup" and card.chat.is_forum
    assert card.reply_to_message is not None
    assert card.reply_to_message.forum_topic_created is not None
    assert fake.topics(STAFF) == {
        topic.message_thread_id: "C-000123 · Anna",
        second.message_thread_id: "C-000124 · Boris",
    }

    # An agent writes in the topic; the bot's answer stays in that topic.
    await dispatcher(echo_router()).feed_update(
        bot, updates.group_text(BORIS, STAFF, "hi", thread_id=topic.message_thread_id)
    )
    in_topic = fake.sent_to(STAFF, thread_id=topic.message_thread_id)
    assert [c.text for c in in_topic] == ["New ticket", "You said: hi"]
    assert fake.sent_to(STAFF, thread_id=None) == []


async def test_deleted_topic_answers_message_thread_not_found(
    fake: FakeTelegram, bot: Bot, updates: UpdateFactory
) -> None:
    topic = await bot.create_forum_topic(STAFF, "C-000001")
    assert await bot.delete_forum_topic(STAFF, topic.message_thread_id) is True

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(STAFF, "card", message_thread_id=topic.message_thread_id)
    assert caught.value.message == "Bad Request: message thread not found"
    assert fake.calls[-1].error is caught.value
    assert fake.sent_to(STAFF) == [] and len(fake.sent_to(STAFF, include_failed=True)) == 1

    # Unknown thread ids and topics deleted by people in the app behave the same.
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(STAFF, "card", message_thread_id=999)
    other = await bot.create_forum_topic(STAFF, "C-000002")
    fake.delete_topic(STAFF, other.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_photo(
            STAFF, "AgACAgIAAxkBAAIfake", message_thread_id=other.message_thread_id
        )
    with pytest.raises(ValueError, match="does not exist"):
        updates.group_text(BORIS, STAFF, "late", thread_id=other.message_thread_id)


async def test_topic_state_errors(fake: FakeTelegram, bot: Bot) -> None:
    topic = await bot.create_forum_topic(STAFF, "C-000001")
    thread = topic.message_thread_id
    assert await bot.close_forum_topic(STAFF, thread)
    assert fake.is_topic_closed(STAFF, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(STAFF, thread)
    assert await bot.reopen_forum_topic(STAFF, thread)
    assert await bot.edit_forum_topic(STAFF, thread, name="C-000001 · resolved")
    assert fake.topics(STAFF)[thread] == "C-000001 · resolved"

    fake.set_forum(STAFF, False)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.create_forum_topic(STAFF, "C-000002")
    assert caught.value.message == "Bad Request: the chat is not a forum"

    fake.set_forum(-1009, True)
    fake.set_bot_rights(-1009, can_manage_topics=False)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_forum_topic(-1009, "C-000003")


async def test_blocked_user_answers_403(
    fake: FakeTelegram, bot: Bot, updates: UpdateFactory
) -> None:
    fake.block_user(ANNA.id)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(ANNA.id, "Your ticket is resolved")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    fake.unblock_user(ANNA.id)
    await bot.send_message(ANNA.id, "Back again")

    # A my_chat_member "kicked" update from a linked factory blocks the chat as well.
    update = updates.my_chat_member(VERA)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(TelegramForbiddenError):
        await bot.send_photo(VERA.id, "AgACAgIAAxkBAAIfake")


async def test_retry_after_and_network_errors(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANNA.id, "first try")
    assert caught.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in caught.value.message
    sent = await bot.send_message(ANNA.id, "second try")
    assert sent.text == "second try"

    fake.fail_next("send_message", network=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ANNA.id, "offline")

    fake.fail_next("copyMessage", error_code=400, description="Bad Request: custom failure")
    with pytest.raises(TelegramBadRequest, match="custom failure"):
        await bot.copy_message(STAFF, ANNA.id, sent.message_id)

    injected = [c for c in fake.calls if c.injected]
    assert [c.name for c in injected] == ["sendMessage", "sendMessage", "copyMessage"]
    assert all(c.error is not None for c in injected)
    assert fake.texts_to(ANNA.id) == ["second try"]


async def test_fail_next_can_target_one_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", error_code=403, chat_id=BORIS.id)
    await bot.send_message(ANNA.id, "for Anna")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(BORIS.id, "for Boris")


async def test_album_shares_media_group_id(
    fake: FakeTelegram, bot: Bot, updates: UpdateFactory
) -> None:
    album = updates.album(ANNA, caption="Broken on arrival")
    messages = [u.message for u in album]
    assert all(m is not None for m in messages)
    group_ids = {m.media_group_id for m in messages if m is not None}
    assert len(group_ids) == 1 and None not in group_ids
    assert [m.content_type for m in messages if m is not None] == ["photo", "photo", "document"]
    assert [m.caption for m in messages if m is not None] == ["Broken on arrival", None, None]

    router = Router()
    received: list[int] = []

    @router.message(F.media_group_id)
    async def collect(message: Message) -> None:
        received.append(message.message_id)

    dp = dispatcher(router)
    for update in album:
        await dp.feed_update(bot, update)
    assert len(received) == 3 and len(set(received)) == 3

    # The bot's own albums share a group id too.
    from aiogram.types import InputMediaPhoto

    photo_ids = [m.photo[-1].file_id for m in messages if m is not None and m.photo]
    sent = await bot.send_media_group(
        STAFF, [InputMediaPhoto(media=file_id) for file_id in photo_ids]
    )
    assert len({m.media_group_id for m in sent}) == 1
    assert [m.photo[-1].file_id for m in sent if m.photo] == photo_ids


async def test_copy_message_returns_message_id(
    fake: FakeTelegram, bot: Bot, updates: UpdateFactory
) -> None:
    topic = await bot.create_forum_topic(STAFF, "C-000010")
    photo = updates.photo(ANNA, caption="see the scratch")
    assert photo.message is not None and photo.message.photo is not None

    copied = await bot.copy_message(
        STAFF, ANNA.id, photo.message.message_id, message_thread_id=topic.message_thread_id
    )
    assert isinstance(copied, MessageId)
    in_staff = fake.last_sent(STAFF, thread_id=topic.message_thread_id)
    assert in_staff.message_id == copied.message_id
    assert in_staff.caption == "see the scratch"
    assert in_staff.photo is not None
    assert in_staff.photo[-1].file_id == photo.message.photo[-1].file_id

    forwarded = await bot.forward_message(STAFF, ANNA.id, photo.message.message_id)
    assert forwarded.forward_origin is not None and forwarded.forward_origin.type == "user"

    await bot.delete_message(ANNA.id, photo.message.message_id)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(STAFF, ANNA.id, photo.message.message_id)


async def test_keyboard_helpers(fake: FakeTelegram, bot: Bot) -> None:
    reply_keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="New complaint")], [KeyboardButton(text="My tickets")]],
        resize_keyboard=True,
    )
    message = await bot.send_message(ANNA.id, "Menu", reply_markup=reply_keyboard)
    call = fake.sent_to(ANNA.id)[-1]
    assert fake.reply_buttons(call) == [["New complaint"], ["My tickets"]]
    assert message.reply_markup is None  # Telegram never echoes reply keyboards
    assert fake.inline_buttons(call) == []

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            ANNA.id,
            "too much data",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
            ),
        )


async def test_chat_administrators_reflect_set_admins(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(BORIS)
    fake.set_admins(STAFF, [VERA.id, BORIS.id])

    admins = await bot.get_chat_administrators(STAFF)
    by_id = {member.user.id: member for member in admins}
    assert isinstance(by_id[VERA.id], ChatMemberOwner)
    boris = by_id[BORIS.id]
    assert isinstance(boris, ChatMemberAdministrator) and boris.can_manage_topics
    assert boris.user.first_name == "Boris"
    assert isinstance(by_id[42], ChatMemberAdministrator)  # the bot itself

    outsider = await bot.get_chat_member(STAFF, ANNA.id)
    assert isinstance(outsider, ChatMemberMember)
    fake.set_member_status(STAFF, ANNA.id, "left")
    assert (await bot.get_chat_member(STAFF, ANNA.id)).status == "left"

    chat = await bot.get_chat(STAFF)
    assert chat.type == "supergroup" and chat.is_forum is True


async def test_edit_message_errors(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ANNA.id, "Status: new")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(chat_id=ANNA.id, message_id=sent.message_id, text="Status: new")
    edited = await bot.edit_message_text(
        chat_id=ANNA.id, message_id=sent.message_id, text="Status: in progress"
    )
    assert isinstance(edited, Message) and edited.text == "Status: in progress"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(chat_id=ANNA.id, message_id=9999, text="x")
    assert caught.value.message == "Bad Request: message to edit not found"
    assert await bot.edit_message_text(inline_message_id="AgAAAB", text="inline") is True


async def test_html_is_parsed_and_bad_markup_rejected(fake: FakeTelegram) -> None:
    bot = Bot("42:TEST", session=fake, default=DefaultBotProperties(parse_mode="HTML"))
    sent = await bot.send_message(ANNA.id, "<b>C-000123</b> is &lt;resolved&gt;")
    assert sent.text == "C-000123 is <resolved>"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.html_text == "<b>C-000123</b> is &lt;resolved&gt;"
    assert fake.sent_to(ANNA.id)[-1].text == "<b>C-000123</b> is &lt;resolved&gt;"

    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(ANNA.id, "Customer wrote: I <3 you")
    with pytest.raises(NotImplementedError, match="HTML only"):  # the app never sends Markdown
        await bot.send_message(ANNA.id, "Version 1.0", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANNA.id, "x" * 4097, parse_mode=None)


async def test_media_and_files(fake: FakeTelegram, bot: Bot, updates: UpdateFactory) -> None:
    uploaded = await bot.send_document(
        ANNA.id, BufferedInputFile(b"a,b\n1,2\n", filename="export.csv"), caption="Export"
    )
    assert uploaded.document is not None
    assert uploaded.document.file_name == "export.csv"
    assert uploaded.document.mime_type == "text/csv" and uploaded.document.file_size == 8
    assert fake.sent_to(ANNA.id)[-1].files  # the upload itself is recorded

    photo = await bot.send_photo(ANNA.id, BufferedInputFile(b"jpeg", filename="chart.png"))
    assert photo.photo is not None and len(photo.photo) == 3
    assert len({size.file_unique_id for size in photo.photo}) == 3

    document = updates.document(ANNA, "receipt.pdf", "application/pdf")
    assert document.message is not None and document.message.document is not None
    file_id = document.message.document.file_id
    fake.set_file_content(file_id, b"%PDF-1.7")
    file = await bot.get_file(file_id)
    assert file.file_path is not None and file.file_path.endswith(".pdf")
    downloaded = await bot.download(file_id)
    assert downloaded is not None and downloaded.read() == b"%PDF-1.7"

    big = updates.document(ANNA, "video.zip", "application/zip", file_size=25 * 1024 * 1024)
    assert big.message is not None and big.message.document is not None
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big.message.document.file_id)

    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_voice(ANNA.id, file_id)


async def test_builders_make_typed_messages(updates: UpdateFactory) -> None:
    kinds = {
        "voice": updates.voice(ANNA),
        "sticker": updates.sticker(ANNA),
        "location": updates.location(ANNA),
        "contact": updates.contact(ANNA, "+79990001122"),
        "video": updates.video(ANNA, "clip"),
        "photo": updates.group_photo(BORIS, STAFF, "from staff"),
    }
    for kind, update in kinds.items():
        assert update.message is not None
        assert update.message.content_type == kind
    contact = kinds["contact"].message
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == ANNA.id and contact.contact.first_name == "Anna"
    staff_photo = kinds["photo"].message
    assert staff_photo is not None and staff_photo.chat.type == "supergroup"
    assert staff_photo.photo is not None
    assert staff_photo.photo[-1].file_id.startswith("AgAC")


async def test_dates_are_injected() -> None:
    clock = TickingClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    fake = FakeTelegram(clock=clock)
    bot = Bot("42:TEST", session=fake)
    updates = UpdateFactory(fake)

    first = updates.text(ANNA, "hi")
    assert first.message is not None and first.message.date == clock.moment
    clock.moment += timedelta(hours=2)
    sent = await bot.send_message(ANNA.id, "hello")
    assert sent.date == clock.moment

    updates.date = datetime(2030, 1, 1, tzinfo=UTC)
    later = updates.text(ANNA, "from the future")
    assert later.message is not None and later.message.date.year == 2030
    assert updates.advance(timedelta(days=1)).day == 2

    standalone = UpdateFactory()
    update = standalone.text(VERA, "no fake")
    assert update.message is not None and update.message.message_id == 10_001


async def test_edited_text_updates_the_known_message(
    fake: FakeTelegram, updates: UpdateFactory
) -> None:
    original = updates.text(ANNA, "My order 123")
    assert original.message is not None
    edited = updates.edited_text(ANNA, original.message.message_id, "My order 124")
    assert edited.edited_message is not None
    assert edited.edited_message.text == "My order 124"
    assert edited.edited_message.edit_date is not None
    current = fake.message(ANNA.id, original.message.message_id)
    assert current is not None and current.text == "My order 124"


async def test_unknown_methods_are_recorded(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_chat_sticker_set(STAFF, "support") is True
    assert fake.unknown_methods == ["setChatStickerSet"]
    with pytest.raises(NotImplementedError):
        await bot.get_user_profile_photos(ANNA.id)

    me = await bot.get_me()
    assert me.id == 42 and me.is_bot and me.username == "support_desk_test_bot"
    assert await bot.set_my_commands([]) is True
    assert await bot.send_chat_action(ANNA.id, "typing") is True
    assert await bot.get_updates() == []
    fake.clear()
    assert fake.calls == [] and fake.unknown_methods == []
