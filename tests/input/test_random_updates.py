"""Bad input never breaks a message or the bot: random updates through the real dispatcher.

Customers with names full of markup send texts with HTML and Markdown specials, texts longer
than Telegram's limit, empty captions, kinds of messages the bot has no handler for, forged
button data and commands with garbage arguments; agents do the same in the ticket's topic.
After every update the outbox is delivered. The fake Bot API answers as Telegram does and
refuses what Telegram refuses (bad HTML, over-long texts and captions, bad buttons, callback
data over 64 bytes), so:

- no exception escapes a handler (the error handler is never reached),
- no Bot API call is refused as malformed,
- every button press is answered,
- every message a customer sends outside a dialogue is stored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.domain.clock import FrozenClock
from tests.conftest import START
from tests.harness import Desk
from tests.staff.conftest import ANNA, STAFF, deliver, open_desk, open_ticket, ticket
from tests.telegram_fake import TelegramUser

#: Refusals that mean the bot sent something Telegram cannot accept (not a state of the chat).
MALFORMED = re.compile(
    r"can't parse|too long|is empty|BUTTON_DATA_INVALID|inline keyboard button|TOPIC_TITLE|"
    r"MESSAGE_TOO_LONG|unsupported parse_mode|wrong file identifier|type of file mismatch",
    re.IGNORECASE,
)


def _within(text: str, limit: int) -> str:
    """The longest prefix of `text` of at most `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _within_telegram(text: str) -> str:
    """At most what one Telegram message holds (4,096 UTF-16 units)."""
    return _within(text, 4096)


SPECIALS = [
    "<",
    ">",
    "&",
    '"',
    "'",
    "*",
    "_",
    "[",
    "]",
    "(",
    ")",
    "~",
    "`",
    "#",
    "|",
    "\\",
    "/",
    "<b>",
    "</i>",
    "&amp;",
    "<a href='tg://x'>",
    "**",
    "__",
    "😀",
    "👨‍👩‍👧",
    "\u200b",
    "\n",
    " ",
]
ALPHABET = st.one_of(
    st.sampled_from(SPECIALS),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
)
SHORT_TEXT = st.lists(ALPHABET, max_size=40).map("".join)
# Telegram delivers at most 4,096 UTF-16 units in a message: up to that, in characters that
# grow when escaped or count double.
LONG_TEXT = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["<", "&", "😀", "a ", "<b>x</b> ", "Word. "]),
    st.integers(min_value=1000, max_value=4096),
).map(_within_telegram)
TEXT = st.one_of(SHORT_TEXT, SHORT_TEXT, LONG_TEXT)
# Room for the signature: splitting a reply longer than that is the delivery worker's job,
# tested with it.
AGENT_TEXT = st.one_of(SHORT_TEXT, SHORT_TEXT, LONG_TEXT.map(lambda text: _within(text, 3800)))
NAME = st.lists(ALPHABET, min_size=1, max_size=30).map("".join).filter(lambda n: n.strip())
CUSTOMER_COMMANDS = [
    "start",
    "help",
    "menu",
    "tickets",
    "complaint",
    "cancel",
    "faq",
    "language",
    "take",
    "status",
    "resolve",
    "nonsense",
]
AGENT_COMMANDS = [
    "take",
    "assign",
    "status",
    "priority",
    "resolve",
    "close",
    "reopen",
    "note",
    "t",
    "templates",
    "ban",
    "unban",
    "away",
    "back",
    "kb_gaps",
    "whatever",
]
OTHER_KINDS: list[dict[str, Any]] = [
    {"dice": {"emoji": "🎲", "value": 3}},
    {"location": {"latitude": 55.75, "longitude": 37.62}},
    {"contact": {"phone_number": "+7 (999) <123>", "first_name": "<b>x</b>"}},
    {
        "poll": {
            "id": "1",
            "question": "<q>",
            "options": [],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    },
    {"some_future_kind": {"x": 1}},
    {"text": ""},
]
FORGED = st.one_of(
    st.text(min_size=1, max_size=64).filter(lambda d: len(d.encode()) <= 64),
    st.builds(
        lambda prefix, parts: ":".join([prefix, *parts])[:64],
        st.sampled_from(["t", "m", "f", "kb", "faq", "sv", "dr", "dk", "ka", "lang"]),
        st.lists(
            st.one_of(
                st.integers(min_value=-(10**30), max_value=10**30).map(str),
                st.sampled_from(["", "open", "rate", "take", "status", "99", "x", "resolved"]),
            ),
            max_size=4,
        ),
    ),
)

CUSTOMER_ACTIONS = st.one_of(
    st.tuples(st.just("say"), TEXT),
    st.tuples(st.just("command"), st.sampled_from(CUSTOMER_COMMANDS), SHORT_TEXT),
    st.tuples(st.just("photo"), st.one_of(st.just(""), st.none(), TEXT)),
    st.tuples(st.just("kind"), st.sampled_from(range(len(OTHER_KINDS)))),
    st.tuples(st.just("press"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("forge"), FORGED),
    st.tuples(st.just("edit"), TEXT),
)
AGENT_ACTIONS = st.one_of(
    st.tuples(st.just("agent_say"), AGENT_TEXT),
    st.tuples(st.just("agent_command"), st.sampled_from(AGENT_COMMANDS), SHORT_TEXT),
    st.tuples(st.just("agent_press"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("agent_forge"), FORGED),
)
SCENARIO = st.tuples(
    NAME,
    st.one_of(st.none(), NAME),
    st.sampled_from(["en", "ru", None, "de"]),
    st.one_of(SHORT_TEXT, LONG_TEXT).filter(lambda d: d.strip()),
    st.lists(st.one_of(CUSTOMER_ACTIONS, CUSTOMER_ACTIONS, AGENT_ACTIONS), max_size=12),
)


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class _Run:
    desk: Desk
    customer: TelegramUser
    topic: int | None
    card: int | None
    sent: list[int]
    presses: list[str]


async def _customer_state(desk: Desk, user: TelegramUser) -> str | None:
    from aiogram.fsm.storage.base import StorageKey

    key = StorageKey(bot_id=desk.app.bot.id, chat_id=user.id, user_id=user.id)
    return await desk.app.dispatcher.storage.get_state(key)


async def _buttons(desk: Desk, chat: int, message_id: int | None = None) -> list[tuple[Any, str]]:
    messages = desk.fake.messages_to(chat)
    if message_id is not None:
        messages = [m for m in messages if m.message_id == message_id]
    found: list[tuple[Any, str]] = []
    for message in messages[-3:]:
        current = desk.fake.message(chat, message.message_id) or message
        for row in desk.fake.inline_buttons(current):
            found += [(current, data) for _, data in row if data is not None]
    return found


async def _step(run: _Run, action: tuple[Any, ...]) -> None:
    desk, user = run.desk, run.customer
    kind = action[0]
    update = None
    must_store = False
    if kind == "say":
        update = desk.updates.text(user, action[1])
        must_store = not action[1].startswith("/")
    elif kind == "command":
        update = desk.updates.command(user, action[1], action[2] or None)
    elif kind == "photo":
        update = desk.updates.photo(user, action[1])
        must_store = True
    elif kind == "kind":
        content = OTHER_KINDS[action[1]]
        update = desk.updates.message(user, content)
        must_store = "text" not in content
    elif kind == "edit" and run.sent:
        update = desk.updates.edited_text(user, run.sent[-1], action[1] or ".")
    elif kind in ("press", "forge"):
        buttons = await _buttons(desk, user.id)
        if buttons:
            message, data = (
                buttons[action[1] % len(buttons)]
                if kind == "press"
                else (
                    buttons[0][0],
                    action[1],
                )
            )
            update = desk.updates.callback(user, data, message=message)
    elif kind == "agent_say" and run.topic is not None:
        update = desk.updates.group_text(ANNA, STAFF, action[1] or ".", thread_id=run.topic)
    elif kind == "agent_command" and run.topic is not None:
        text = f"/{action[1]}" + (f" {action[2]}" if action[2] else "")
        update = desk.updates.group_text(ANNA, STAFF, text, thread_id=run.topic)
    elif kind in ("agent_press", "agent_forge") and run.card is not None:
        buttons = await _buttons(desk, STAFF, run.card) + await _buttons(desk, STAFF)
        if buttons:
            message, data = (
                buttons[action[1] % len(buttons)]
                if kind == "agent_press"
                else (
                    buttons[0][0],
                    action[1],
                )
            )
            update = desk.updates.callback(ANNA, data, message=message)
    if update is None:
        return
    in_dialogue = await _customer_state(desk, user) is not None
    await desk.feed(update)
    await deliver(desk)
    if update.callback_query is not None:
        run.presses.append(update.callback_query.id)
    message = update.message
    if message is not None and message.chat.id == user.id:
        run.sent.append(message.message_id)
        if must_store and not in_dialogue:
            async with desk.database.unit_of_work() as uow:
                stored = await uow.staff_tickets.message_by_telegram_id(
                    chat_id=user.id, telegram_message_id=message.message_id
                )
            assert stored is not None, f"customer message {action!r} was not stored"


async def _scenario(folder: Path, scenario: tuple[Any, ...]) -> None:
    first, last, language, description, actions = scenario
    customer = TelegramUser(5001, first, last, None, language)
    failures = _Failures()
    logging.getLogger("bot.telegram.errors").addHandler(failures)
    try:
        async with open_desk(folder, FrozenClock(START)) as desk:
            desk.fake.add_user(customer)
            opened = await open_ticket(desk, customer, description=description)
            await deliver(desk)
            current = await ticket(desk, opened.id or 0)
            run = _Run(desk, customer, current.topic_id, current.card_message_id, [], [])
            for action in actions:
                await _step(run, action)
            assert failures.messages == []
            refused = [
                f"{call.name}: {call.error} <- {str(call.text)[:200]!r}"
                for call in desk.fake.calls
                if call.error is not None
                and not call.injected
                and MALFORMED.search(str(call.error))
            ]
            assert refused == []
            answered = {
                str(call.params.get("callback_query_id"))
                for call in desk.fake.calls_of("answerCallbackQuery")
                if call.ok
            }
            assert [press for press in run.presses if press not in answered] == []
    finally:
        logging.getLogger("bot.telegram.errors").removeHandler(failures)


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # shrinking a whole desk takes minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(SCENARIO)
def test_random_updates_never_break_a_message_or_the_bot(scenario: tuple[Any, ...]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_scenario(Path(folder), scenario))
