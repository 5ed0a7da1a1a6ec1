"""The knowledge base at the staff desk: /kb_gaps, /kb_reload, related articles on the card."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import PROJECT_ROOT
from bot.domain.clock import FrozenClock
from bot.telegram.callbacks import MAX_ROW_ID
from bot.telegram.staff.kb_card import KbArticleCallback
from knowledge_base import Match
from storage.models import TicketMessage
from tests.harness import Desk
from tests.staff.conftest import (
    ANNA,
    BORIS,
    IVAN,
    MARIA,
    OUTSIDER,
    STAFF,
    deliver,
    open_desk,
    open_ticket,
    ticket,
    topic_texts,
)
from tests.telegram_fake import TelegramUser

SHIPPED = PROJECT_ROOT / "knowledge_base" / "data"
PETR = TelegramUser(1003, "Petr", None, None, "en")
LENA = TelegramUser(1004, "Лена", None, None, "ru")
HELPER = TelegramUser(2003, "Helper", "Staff", "helper", "en")  # in STAFF_USER_IDS, not admin


def _topic(desk: Desk) -> int:
    """Any topic of the staff group (not a ticket's)."""
    return desk.fake.create_topic(STAFF, "Knowledge base")


def _replies(desk: Desk, thread_id: int | None) -> list[str]:
    return desk.fake.texts_to(STAFF, thread_id=thread_id)


def _entries(folder: Path) -> int:
    return sum(
        path.read_text(encoding="utf-8").count("\n- id:") + 1
        for path in folder.glob("*/*.yaml")
        if not path.name.startswith("_")
    )


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.fixture
async def kb_desk(tmp_path: Path, clock: FrozenClock, kb_dir: Path) -> AsyncIterator[Desk]:
    async with open_desk(
        tmp_path, clock, knowledge_base_dir=kb_dir, staff_user_ids=[HELPER.id]
    ) as desk:
        for user in (PETR, LENA, HELPER):
            desk.fake.add_user(user)
        yield desk


# ----------------------------------------------------------------------------- /kb_gaps


async def test_kb_gaps_groups_unanswered_and_unhelpful_questions(desk: Desk) -> None:
    for user in (PETR, LENA):
        desk.fake.add_user(user)
    await desk.say(IVAN, "do you rent scooters")  # older than 30 days: not counted
    desk.clock.advance(timedelta(days=31))
    await desk.say(IVAN, "Do you rent scooters?")
    await desk.say(MARIA, "do you rent scooters")
    await desk.say(PETR, "do you rent <scooters>?")
    await desk.say(LENA, "чините ли вы велосипеды")
    await desk.say(PETR, "can I pay by card")
    await desk.press(PETR, "👎 No")

    topic = _topic(desk)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/kb_gaps", thread_id=topic))

    assert _replies(desk, topic)[-1] == (
        "Вопросы без хорошего ответа (за 30 дней)\n\n"
        "1. 3× Do you rent scooters?\n"
        "    · do you rent scooters\n"
        "    · do you rent <scooters>?\n\n"
        "2. 1× can I pay by card\n\n"
        "3. 1× чините ли вы велосипеды"
    )
    sent = desk.fake.calls_of("sendMessage")[-1]
    assert "do you rent &lt;scooters&gt;?" in sent.params["text"]
    assert sent.params["message_thread_id"] == topic


async def test_kb_gaps_when_nothing_is_missing(desk: Desk) -> None:
    await desk.feed(desk.updates.group_text(BORIS, STAFF, "/kb_gaps"))
    assert _replies(desk, None)[-1] == "За последние 30 дней вопросов без ответа нет."


async def test_kb_gaps_is_refused_to_non_staff_and_outside_the_group(desk: Desk) -> None:
    await desk.say(IVAN, "do you rent scooters")
    topic = _topic(desk)
    await desk.feed(desk.updates.group_text(OUTSIDER, STAFF, "/kb_gaps", thread_id=topic))
    assert _replies(desk, topic) == ["Это доступно только сотрудникам поддержки."]

    await desk.command(IVAN, "kb_gaps")
    assert desk.last_text(IVAN) == "This command works only in the staff group."


# --------------------------------------------------------------------------- /kb_reload


async def test_kb_reload_reports_the_number_of_entries(kb_desk: Desk, kb_dir: Path) -> None:
    extra = kb_dir / "en" / "scooters.yaml"
    extra.write_text(
        "- id: scooter-rental\n  questions: [Do you rent scooters?]\n"
        "  answer: No, we only sell them.\n",
        encoding="utf-8",
    )
    topic = _topic(kb_desk)
    await kb_desk.feed(kb_desk.updates.group_text(ANNA, STAFF, "/kb_reload", thread_id=topic))
    assert _replies(kb_desk, topic)[-1] == (
        f"✅ База знаний перезагружена: {_entries(kb_dir)} статей."
    )
    await kb_desk.say(IVAN, "do you rent scooters")
    assert kb_desk.last_text(IVAN).startswith("No, we only sell them.")


async def test_kb_reload_is_for_group_administrators_only(kb_desk: Desk) -> None:
    topic = _topic(kb_desk)
    await kb_desk.feed(kb_desk.updates.group_text(HELPER, STAFF, "/kb_reload", thread_id=topic))
    assert (
        _replies(kb_desk, topic)[-1]
        == "Перезагружать базу знаний могут только администраторы группы."
    )
    await kb_desk.feed(kb_desk.updates.group_text(OUTSIDER, STAFF, "/kb_reload", thread_id=topic))
    assert _replies(kb_desk, topic)[-1] == "Это доступно только сотрудникам поддержки."


async def test_kb_reload_with_broken_files_keeps_the_loaded_base(
    kb_desk: Desk, kb_dir: Path
) -> None:
    before = _entries(kb_dir)
    delivery = kb_dir / "en" / "delivery.yaml"
    delivery.write_text(
        delivery.read_text(encoding="utf-8")
        + "\n- id: delivery-time\n  questions: [Again?]\n  answer: A duplicate.\n"
        + "\n- id: bad-html\n  questions: [Broken?]\n  answer: <b>never closed\n",
        encoding="utf-8",
    )
    (kb_dir / "ru" / "payment.yaml").write_text("- id: x\n  questions: [a\n", encoding="utf-8")
    topic = _topic(kb_desk)

    await kb_desk.feed(kb_desk.updates.group_text(BORIS, STAFF, "/kb_reload", thread_id=topic))

    report = _replies(kb_desk, topic)[-1]
    assert report.startswith(
        f"❌ В файлах ошибки; бот продолжает работать с прежней базой ({before} статей):\n"
    )
    assert "en/delivery.yaml: entry 'delivery-time'" in report
    assert "en/delivery.yaml: entry 'bad-html'" in report
    assert "ru/payment.yaml: invalid YAML" in report
    assert str(kb_dir) not in report

    await kb_desk.say(IVAN, "how long does delivery take")
    assert kb_desk.last_text(IVAN).startswith("Orders are usually delivered in 2-5 working days")
    await kb_desk.say(MARIA, "как оплатить картой")
    assert kb_desk.last_text(MARIA).endswith("Это помогло?")


async def test_a_long_error_report_is_cut_to_fit_one_message(kb_desk: Desk, kb_dir: Path) -> None:
    broken = "".join(
        f"- id: empty-{n:04d}-{'x' * 30}\n  questions: [Q{n}?]\n  answer: ' '\n" for n in range(400)
    )
    (kb_dir / "en" / "broken.yaml").write_text(broken, encoding="utf-8")
    topic = _topic(kb_desk)
    await kb_desk.feed(kb_desk.updates.group_text(ANNA, STAFF, "/kb_reload", thread_id=topic))
    sent = kb_desk.fake.calls_of("sendMessage")[-1]
    assert len(sent.params["text"]) <= 4096
    report = _replies(kb_desk, topic)[-1]
    assert "en/broken.yaml: entry 'empty-0000" in report
    assert report.splitlines()[-1].startswith("…и ещё ")


# ------------------------------------------------------------------ related articles


def _card(desk: Desk, card_message_id: int | None) -> tuple[str, list[tuple[str, str | None]]]:
    card = desk.fake.message(STAFF, card_message_id or 0)
    assert card is not None and card.text is not None
    return card.text, [button for row in desk.fake.inline_buttons(card) for button in row]


async def _press_article(desk: Desk, ticket_id: int, label: str) -> None:
    current = await ticket(desk, ticket_id)
    card = desk.fake.message(STAFF, current.card_message_id or 0)
    assert card is not None
    data = desk.fake.button_data(card, label)
    await desk.feed(desk.updates.callback(ANNA, data, message=card))


async def test_the_card_shows_related_articles_and_sends_one(desk: Desk) -> None:
    opened = await open_ticket(
        desk, IVAN, description="My parcel arrived damaged, the box was crushed"
    )
    tid = opened.id or 0
    current = await ticket(desk, tid)
    assert current.kb_articles is not None and 1 <= len(current.kb_articles) <= 3
    assert current.kb_articles[0] == "delivery-damaged"
    text, buttons = _card(desk, current.card_message_id)
    assert "Похожие статьи:\n1. The parcel arrived damaged" in text
    article_buttons = [label for label, _ in buttons if label.startswith("📤")]
    assert article_buttons[0] == "📤 The parcel arrived damaged"
    assert len(article_buttons) == len(current.kb_articles)

    await _press_article(desk, tid, "📤 The parcel arrived damaged")
    answer = desk.fake.calls_of("answerCallbackQuery")[-1]
    assert answer.params["text"] == "📤 Статья отправляется клиенту."
    await deliver(desk)

    article = desk.last_text(IVAN)
    assert article.startswith("📄 The parcel arrived damaged\n\n")
    assert "Did this help?" not in article
    assert topic_texts(desk, current.topic_id)[-1] == (
        "C-000001 · 📤 Anna Agent отправил(а) клиенту статью «The parcel arrived damaged»."
    )


async def test_a_sent_article_is_the_first_response_and_stays_in_the_history(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN, description="My parcel arrived damaged")
    tid = opened.id or 0
    assert (await ticket(desk, tid)).first_response_at is None
    desk.clock.advance(timedelta(minutes=7))

    await _press_article(desk, tid, "📤 The parcel arrived damaged")
    await deliver(desk)

    answered = await ticket(desk, tid)
    assert answered.first_response_at == desk.clock.now()
    assert answered.first_response_due is None  # that clock has stopped
    async with desk.database.unit_of_work() as uow:
        sent = (
            await uow.session.exec(select(TicketMessage).where(TicketMessage.direction == "out"))
        ).all()
    assert [(m.ticket_id, m.author_id) for m in sent] == [(tid, ANNA.id)]
    assert (sent[0].text or "").startswith("📄 The parcel arrived damaged\n\n")
    await desk.command(IVAN, "tickets")
    await desk.press(IVAN, next(b for b in desk.buttons(IVAN) if "C-000001" in b))
    history = desk.last_text(IVAN)
    assert "📄 The parcel arrived damaged" in history
    assert "Expect the first answer by" not in history


async def test_a_double_press_sends_the_article_once(desk: Desk) -> None:
    opened = await open_ticket(desk, MARIA, description="Посылка пришла повреждённой")
    tid = opened.id or 0
    current = await ticket(desk, tid)
    _, buttons = _card(desk, current.card_message_id)
    label = next(label for label, _ in buttons if label.startswith("📤"))

    await _press_article(desk, tid, label)
    await _press_article(desk, tid, label)
    assert desk.fake.calls_of("answerCallbackQuery")[-1].params["text"] == (
        "Эта статья только что отправлена клиенту."
    )
    await deliver(desk)
    articles = [text for text in desk.texts(MARIA) if text.startswith("📄")]
    assert len(articles) == 1
    notes = [text for text in topic_texts(desk, current.topic_id) if "📤" in text]
    assert len(notes) == 1

    desk.clock.advance(timedelta(minutes=5))  # asked again later: it goes again
    await _press_article(desk, tid, label)
    await deliver(desk)
    assert len([text for text in desk.texts(MARIA) if text.startswith("📄")]) == 2


async def test_the_search_runs_once_per_ticket(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = await open_ticket(desk, IVAN, description="My parcel arrived damaged")
    tid = opened.id or 0
    stored = (await ticket(desk, tid)).kb_articles
    assert stored

    knowledge = desk.app.knowledge
    assert knowledge is not None

    def no_search(query: str, locale: str | None = None, limit: int = 3) -> list[Match]:
        raise AssertionError("searched again")

    monkeypatch.setattr(knowledge.base, "search", no_search)
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/take", thread_id=topic))
    await deliver(desk)
    current = await ticket(desk, tid)
    assert current.status == "in_progress"
    assert current.kb_articles == stored
    text, _ = _card(desk, current.card_message_id)
    assert "Похожие статьи:" in text


async def test_no_related_articles_for_an_unrelated_description(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN, description="hello")
    current = await ticket(desk, opened.id or 0)
    assert current.kb_articles == []
    text, buttons = _card(desk, current.card_message_id)
    assert "Похожие статьи" not in text
    assert not [label for label, _ in buttons if label.startswith("📤")]


def test_article_callback_data_fits_telegram() -> None:
    data = KbArticleCallback(ticket_id=MAX_ROW_ID, entry="x" * 40).pack()
    assert len(data.encode()) < 64
