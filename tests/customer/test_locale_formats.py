"""Dates and counted things as each customer's language writes them, seen through the dialogue.

The clock stands at 23.11.2026 09:30 UTC, 12:30 in Moscow (the business time zone).
"""

from __future__ import annotations

from tests.harness import Desk
from tests.staff.conftest import deliver
from tests.telegram_fake import TelegramUser

ANNA = TelegramUser(3001, "Anna", language_code="en")
IVAN = TelegramUser(3002, "Иван", language_code="ru")


async def _file_complaint_with_photos(desk: Desk, user: TelegramUser, photos: int) -> None:
    english = user.language_code == "en"
    await desk.command(user, "complaint")
    await desk.press(user, "Other" if english else "Другое")
    await desk.say(user, "The parcel box was crushed" if english else "Коробка пришла смятой")
    await desk.press(user, "Yesterday" if english else "Вчера")
    for _ in range(photos):
        await desk.feed(desk.updates.photo(user))
    await desk.press(user, f"✅ {'Done' if english else 'Готово'} ({photos})")
    await desk.say(user, "Skip" if english else "Пропустить")


async def test_an_english_customer_sees_english_dates_and_counts(desk: Desk) -> None:
    await _file_complaint_with_photos(desk, ANNA, 2)
    summary = desk.last_text(ANNA)
    assert "When it happened: Nov 22, 2026" in summary
    assert "Files: 2 files" in summary
    await desk.press(ANNA, "✅ Submit")
    receipt = desk.last_text(ANNA)
    assert "Registered: Nov 23, 2026, 12:30" in receipt
    assert "Expect the first answer by: Nov 24, 2026, 12:30" in receipt
    await deliver(desk)

    await desk.command(ANNA, "tickets")
    assert desk.last_text(ANNA).splitlines()[2] == (
        "C-000001 · Other · registered · updated Nov 23, 2026, 12:30"
        " · expect by Nov 24, 2026, 12:30"
    )
    await desk.press(ANNA, "Open C-000001")
    view = desk.last_text(ANNA)
    assert "Registered: Nov 23, 2026, 12:30" in view
    assert "Attachments: 2 files" in view


async def test_a_russian_customer_sees_russian_dates_and_counts(desk: Desk) -> None:
    await _file_complaint_with_photos(desk, IVAN, 2)
    summary = desk.last_text(IVAN)
    assert "Когда это произошло: 22.11.2026" in summary
    assert "Файлы: 2 файла" in summary
    await desk.press(IVAN, "✅ Отправить")
    receipt = desk.last_text(IVAN)
    assert "Зарегистрирована: 23.11.2026 12:30" in receipt
    assert "Первый ответ — не позднее: 24.11.2026 12:30" in receipt
    await deliver(desk)

    await desk.command(IVAN, "tickets")
    listing = desk.last_text(IVAN).splitlines()[2]
    assert listing.startswith("C-000001 · Другое · ")
    assert listing.endswith("обновлено 23.11.2026 12:30 · ожидайте до 24.11.2026 12:30")
    await desk.press(IVAN, "Открыть C-000001")
    assert "Вложения: 2 файла" in desk.last_text(IVAN)


async def test_one_file_and_five_files(desk: Desk) -> None:
    await _file_complaint_with_photos(desk, IVAN, 1)
    assert "Файлы: 1 файл" in desk.last_text(IVAN)
    await _file_complaint_with_photos(desk, ANNA, 1)
    assert "Files: 1 file\n" in desk.last_text(ANNA)
    await desk.command(IVAN, "cancel")
    await _file_complaint_with_photos(desk, IVAN, 5)
    assert "Файлы: 5 файлов" in desk.last_text(IVAN)


async def test_length_problems_count_characters_in_the_customers_language(desk: Desk) -> None:
    await desk.command(IVAN, "complaint")
    await desk.press(IVAN, "Другое")
    await desk.say(IVAN, "Плохо")
    assert desk.last_text(IVAN).startswith(
        "Слишком коротко (5 символов). Напишите хотя бы 10 символов, чтобы"
    )
    await desk.say(IVAN, "Ой")
    assert desk.last_text(IVAN).startswith("Слишком коротко (2 символа).")
    await desk.say(IVAN, "я" * 4001)
    assert desk.last_text(IVAN).startswith("Слишком длинно: 4001 символ, а предел — 4000 символов.")
    await desk.command(ANNA, "complaint")
    await desk.press(ANNA, "Other")
    await desk.say(ANNA, "A")
    assert desk.last_text(ANNA).startswith(
        "That is a bit short (1 character). Please write at least 10 characters"
    )
