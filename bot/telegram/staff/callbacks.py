"""Typed callback data of the staff desk (each packs to well under 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class CardCallback(CallbackData, prefix="dk"):
    # take, assign, assign_to, status, resolve, resolve_type, resolve_cancel, priority,
    # priority_set, close, reopen, history, back
    action: str
    ticket_id: int
    value: str = ""


class ConfirmCallback(CallbackData, prefix="dr"):
    """The customer's answer to "Did this solve it?"."""

    ticket_id: int
    solved: bool
