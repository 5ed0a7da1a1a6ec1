"""Keyboards shared by the customer dialogues; every label comes from the catalogue."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.telegram.callbacks import LanguageCallback, MenuCallback, TicketsCallback
from bot.telegram.i18n import t

LANGUAGE_NAMES_KEY = {"ru": "language.name.ru", "en": "language.name.en"}


def main_menu() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("menu.complaint"), callback_data=MenuCallback(action="complaint"))
    builder.button(text=t("menu.tickets"), callback_data=MenuCallback(action="tickets"))
    builder.button(text=t("menu.question"), callback_data=MenuCallback(action="question"))
    builder.button(text=t("menu.language"), callback_data=MenuCallback(action="language"))
    builder.adjust(1, 2, 1)
    return builder.as_markup()


def choice_menu() -> InlineKeyboardMarkup:
    """What a customer can do with a message the bot cannot place anywhere."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t("menu.complaint"), callback_data=MenuCallback(action="complaint"))
    builder.button(text=t("menu.tickets"), callback_data=MenuCallback(action="tickets"))
    builder.button(text=t("menu.question"), callback_data=MenuCallback(action="question"))
    builder.button(text=t("desk.menu.person"), callback_data=MenuCallback(action="person"))
    builder.adjust(1)
    return builder.as_markup()


def language_menu(locales: tuple[str, ...]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale in locales:
        builder.button(
            text=t(LANGUAGE_NAMES_KEY.get(locale, "language.name.en")),
            callback_data=LanguageCallback(locale=locale),
        )
    builder.adjust(2)
    return builder.as_markup()


def after_registration(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("ticket.button.my_tickets"),
                    callback_data=TicketsCallback(action="page").pack(),
                ),
                InlineKeyboardButton(
                    text=t("ticket.button.add_details"),
                    callback_data=TicketsCallback(action="add", ticket_id=ticket_id).pack(),
                ),
            ]
        ]
    )
