"""/stats, its buttons, charts, export and root causes, through the real dispatcher."""

from __future__ import annotations

import csv
import io
import struct
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiogram.types import BufferedInputFile, FSInputFile

from bot.domain.clock import FrozenClock
from tests.analytics.history import build_history
from tests.harness import Desk
from tests.staff.conftest import (
    ANNA,
    BORIS,
    IVAN,
    OUTSIDER,
    STAFF,
    deliver,
    open_desk,
    open_ticket,
    ticket,
)

WEEK = "2026-11-16..2026-11-22"
SUMMARY = [
    "📊 Статистика 16.11.2026 – 22.11.2026",
    "",
    "Обращений: 6 (+200% к 2) · решено 3 · открыто на конец 4",
    "Первый ответ: медиана 0,9 ч · p90 2,0 ч · среднее 1,1 ч (4)",
    "Решение: медиана 14,0 ч · p90 48,0 ч · среднее 24,7 ч (3)",
    "В срок: первый ответ 60% (3/5) · решение 40% (2/5)",
    "Открыто: 4 · без исполнителя 2 · старше 7 дней 0",
    "Переоткрыто: 1 из 3 решённых (33%) · после «не помогло» 1",
    "CSAT 50% · средняя 3,5 · ответили на 2 из 3 опросов (67%)",
    "Жалоб признано обоснованными: 67% из 3 решённых",
    "База знаний: 4 вопроса, помогла 1 (25%) · пробелы: /kb_gaps",
    "",
    "Главные причины",
    "• Курьер опоздал (Доставка): 2 (+1)",
    "• Двойное списание (Оплата и возврат денег): 1 (+1)",
]


async def _stats(desk: Desk, user: Any = ANNA, args: str = WEEK) -> Any:
    await desk.feed(desk.updates.group_text(user, STAFF, f"/stats {args}".strip()))
    return desk.fake.last_sent(STAFF)


def _rows(message: Any) -> list[list[tuple[str, str | None]]]:
    from tests.telegram_fake import FakeTelegram

    return FakeTelegram.inline_buttons(message)


async def _press(desk: Desk, user: Any, message: Any, label: str) -> None:
    current = desk.fake.message(STAFF, message.message_id) or message
    data = desk.fake.button_data(current, label)
    await desk.feed(desk.updates.callback(user, data, message=current))


async def test_stats_answers_with_the_summary_and_buttons(desk: Desk) -> None:
    await build_history(desk.database)
    sent = await _stats(desk)
    assert sent.text is not None
    assert sent.text.split("\n") == SUMMARY
    assert [[text for text, _ in row] for row in _rows(sent)] == [
        ["Сегодня", "7 дней", "30 дней"],
        ["Этот месяц", "Прошлый месяц"],
        ["По категориям", "По командам", "По агентам", "По приоритету"],
        ["📈 Графики", "📥 Выгрузка"],
    ]


async def test_a_breakdown_press_edits_the_same_message(desk: Desk) -> None:
    await build_history(desk.database)
    sent = await _stats(desk)
    messages_before = len(desk.fake.messages_to(STAFF))

    await _press(desk, BORIS, sent, "По командам")

    assert len(desk.fake.messages_to(STAFF)) == messages_before
    edited = desk.fake.message(STAFF, sent.message_id)
    assert edited is not None and edited.text is not None
    lines = edited.text.split("\n")
    assert lines[: len(SUMMARY)] == SUMMARY
    assert lines[len(SUMMARY) + 1 :] == [
        "По командам (новые · решено · медиана ответа / решения · в срок · CSAT)",
        "• delivery: 3 · 2 · 0,5 ч / 31,0 ч · 50% / 67% · 100%",
        "• payments: 2 · 1 · 1,5 ч / 12,0 ч · 50% / 0% · 0%",
        "• support: 1 · 0 · 0,8 ч / — · 100% / — · —",
    ]
    assert [text for text, _ in _rows(edited)[2]] == [
        "По категориям",
        "• По командам",
        "По агентам",
        "По приоритету",
    ]
    # A period press keeps the breakdown and still edits the same message.
    await _press(desk, BORIS, edited, "Сегодня")
    today = desk.fake.message(STAFF, sent.message_id)
    assert today is not None and today.text is not None
    assert today.text.startswith("📊 Статистика 23.11.2026 – 23.11.2026")
    assert "По командам (новые" in today.text
    assert len(desk.fake.messages_to(STAFF)) == messages_before


async def test_charts_are_an_album_of_large_png_images(desk: Desk) -> None:
    await build_history(desk.database)
    sent = await _stats(desk)
    await _press(desk, ANNA, sent, "📈 Графики")

    albums = desk.fake.calls_of("sendMediaGroup")
    assert len(albums) == 1
    files = list(albums[0].files.values())
    assert len(files) == 5
    for upload in files:
        assert isinstance(upload, BufferedInputFile)
        png = upload.data
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert (width, height) == (1200, 750)
    delivered = albums[0].delivered
    assert delivered[0].caption == "Графики 16.11.2026 – 22.11.2026"


def _capture_uploads(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """File uploads as Telegram receives them (read while the request is made)."""
    uploads: dict[str, bytes] = {}
    original = desk.fake.make_request

    async def make_request(bot: Any, method: Any, *args: Any, **kwargs: Any) -> Any:
        result = await original(bot, method, *args, **kwargs)
        for upload in desk.fake.calls[-1].files.values():
            if isinstance(upload, FSInputFile):
                with open(upload.path, "rb") as handle:  # noqa: ASYNC230 - a test's small file
                    uploads[upload.filename or ""] = handle.read()
        return result

    monkeypatch.setattr(desk.fake, "make_request", make_request)
    return uploads


async def test_export_sends_csv_and_xlsx_of_the_period(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await build_history(desk.database)
    uploads = _capture_uploads(desk, monkeypatch)
    sent = await _stats(desk)
    await _press(desk, ANNA, sent, "📥 Выгрузка")

    names = sorted(uploads)
    assert names == [
        "desk-2026-11-16_2026-11-22-events.csv",
        "desk-2026-11-16_2026-11-22-tickets.csv",
        "desk-2026-11-16_2026-11-22.xlsx",
    ]
    raw = uploads["desk-2026-11-16_2026-11-22-tickets.csv"]
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["number"] for row in rows] == [
        "C-000001",
        "C-000002",
        "C-000003",
        "C-000004",
        "C-000006",
        "C-000009",
    ]
    first = rows[0]
    assert first["created_at"] == "2026-11-16T10:00:00"  # Moscow time
    assert (first["first_response_hours"], first["first_response_met"]) == ("0.5", "True")
    assert (first["resolution_hours"], first["resolution_met"]) == ("14.0", "True")
    assert (first["decision"], first["cause"], first["rating"]) == ("refund", "late_courier", "5")
    assert rows[1]["reopens"] == "1"
    assert rows[1]["resolution_met"] == "False"
    events = list(csv.DictReader(io.StringIO(uploads[names[0]].decode("utf-8-sig"))))
    assert [e["to_status"] for e in events if e["ticket"] == "C-000002"] == [
        "new",
        "in_progress",
        "resolved",
        "reopened",
        "resolved",
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(uploads[names[2]]), read_only=True)
    sheet = workbook["tickets"]
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [row["number"] for row in rows]
    note = desk.fake.last_sent(STAFF).text
    assert note == (
        "📥 Выгрузка 16.11.2026 – 22.11.2026: 6 обращений, 18 событий (CSV в UTF-8 и XLSX)."
    )
    assert len(ids) == 9


async def test_export_command_takes_a_period(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    await build_history(desk.database)
    uploads = _capture_uploads(desk, monkeypatch)
    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/export 2026-11-22"))
    tickets = uploads["desk-2026-11-22_2026-11-22-tickets.csv"].decode("utf-8-sig")
    assert [row["number"] for row in csv.DictReader(io.StringIO(tickets))] == ["C-000006"]

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/export yesterday-ish"))
    assert desk.fake.last_sent(STAFF).text is not None
    assert "Не понял период" in (desk.fake.last_sent(STAFF).text or "")


async def test_non_staff_are_refused(desk: Desk) -> None:
    await build_history(desk.database)
    sent = await _stats(desk)
    refused = await _stats(desk, OUTSIDER)
    assert refused.text is not None and "Статистика" not in refused.text
    assert refused.message_id != sent.message_id

    await _press(desk, OUTSIDER, sent, "По командам")
    answer = desk.fake.calls_of("answerCallbackQuery")[-1]
    assert answer.params.get("show_alert") is True
    edited = desk.fake.message(STAFF, sent.message_id)
    assert edited is not None and "По командам (" not in (edited.text or "")


async def test_supervisors_use_stats_in_private(tmp_path: Path, clock: FrozenClock) -> None:
    async with open_desk(tmp_path, clock, supervisor_ids=[BORIS.id]) as desk:
        await build_history(desk.database)
        await desk.command(BORIS, "stats", WEEK)
        text = desk.last_text(BORIS)
        assert text.split("\n") == SUMMARY
        await desk.press(BORIS, "По агентам")
        edited = desk.fake.message(BORIS.id, desk.fake.last_sent(BORIS.id).message_id)
        assert edited is not None and "По агентам (" in (edited.text or "")
        assert "• Anna" not in (edited.text or "")  # agents the desk never saw show by id

        await desk.command(OUTSIDER, "stats", WEEK)
        assert all("Статистика" not in text for text in desk.texts(OUTSIDER))


async def test_a_cause_from_the_resolve_command(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    topic = (await ticket(desk, opened.id or 0)).topic_id
    await desk.feed(
        desk.updates.group_text(
            ANNA, STAFF, "/resolve refund Money returned #late_courier", thread_id=topic
        )
    )
    await deliver(desk)
    stored = await ticket(desk, opened.id or 0)
    assert (stored.resolution_text, stored.root_cause) == ("Money returned", "late_courier")
    assert "🔎 Причина C-000001: Курьер опоздал" in desk.fake.texts_to(STAFF, thread_id=topic)
    assert "#late_courier" not in desk.last_text(IVAN)


async def test_a_cause_with_one_tap_after_resolving(desk: Desk) -> None:
    opened = await open_ticket(desk, IVAN)
    tid = opened.id or 0
    topic = (await ticket(desk, tid)).topic_id
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/resolve refund Money returned", thread_id=topic)
    )
    ask = desk.fake.last_sent(STAFF, thread_id=topic)
    assert ask.text is not None and ask.text.startswith("Какова причина жалобы?")
    labels = [text for row in _rows(ask) for text, _ in row]
    assert labels == [
        "Курьер опоздал",
        "Повреждено при доставке",
        "Неверный адрес",
        "Посылка потеряна",
        "Другое",
    ]
    await _press(desk, ANNA, ask, "Посылка потеряна")
    assert (await ticket(desk, tid)).root_cause == "lost_parcel"
    edited = desk.fake.message(STAFF, ask.message_id)
    assert edited is not None and edited.text == "🔎 Причина C-000001: Посылка потеряна"

    await desk.feed(desk.updates.group_text(ANNA, STAFF, "/reopen", thread_id=topic))
    await desk.feed(
        desk.updates.group_text(ANNA, STAFF, "/resolve refund Again #weather", thread_id=topic)
    )
    assert desk.fake.texts_to(STAFF, thread_id=topic)[-1].startswith("Какова причина")
    unknown = desk.fake.texts_to(STAFF, thread_id=topic)[-2]
    assert unknown.startswith("Для этой категории нет причины #weather")
