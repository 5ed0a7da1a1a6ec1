"""Typed callback data for every inline button (each packs to well under 64 bytes).

Button data comes back from the client and can be forged: every field is validated where it
is parsed (known actions only, ids and pages in range), so a forged press matches no handler
and is answered as out of date (`bot/telegram/stale_buttons.py`) instead of reaching the
database with a number it cannot hold.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

#: The largest row id every supported database holds (PostgreSQL's integer).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
#: A page of a list.
PageNumber = Annotated[int, Field(ge=0, le=100_000)]
#: A short name from our own data (a step, a category, an entry, a tag, a locale).
Name = Annotated[str, Field(max_length=48)]


class MenuCallback(CallbackData, prefix="m"):
    action: Literal["complaint", "tickets", "question", "language", "menu", "person"]


class LanguageCallback(CallbackData, prefix="lang"):
    locale: Name


class FormCallback(CallbackData, prefix="f"):
    action: Literal[
        "pick", "today", "yesterday", "other", "done", "skip", "back", "cancel", "edit", "submit"
    ]
    step: Name = ""
    value: Name = ""


class TicketsCallback(CallbackData, prefix="t"):
    action: Literal["page", "open", "add", "done"]
    page: PageNumber = 0
    ticket_id: RowId = 0


class KbCallback(CallbackData, prefix="kb"):
    action: Literal["yes", "no", "show", "complaint"]
    query: RowId
    entry: Name = ""


class FaqCallback(CallbackData, prefix="faq"):
    action: Literal["tags", "tag", "entry"]
    tag: Name = ""
    entry: Name = ""
    page: PageNumber = 0
