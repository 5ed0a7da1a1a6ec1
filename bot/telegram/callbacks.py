"""Typed callback data for every inline button (each packs to well under 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class MenuCallback(CallbackData, prefix="m"):
    action: str  # complaint, tickets, question, language, menu, person


class LanguageCallback(CallbackData, prefix="lang"):
    locale: str


class FormCallback(CallbackData, prefix="f"):
    action: str  # pick, today, yesterday, other, done, skip, back, cancel, edit, submit
    step: str = ""
    value: str = ""


class TicketsCallback(CallbackData, prefix="t"):
    action: str  # page, open, add, write
    page: int = 0
    ticket_id: int = 0


class KbCallback(CallbackData, prefix="kb"):
    action: str  # yes, no, show
    query: int
    entry: str = ""


class FaqCallback(CallbackData, prefix="faq"):
    action: str  # tags, tag, entry
    tag: str = ""
    entry: str = ""
    page: int = 0
