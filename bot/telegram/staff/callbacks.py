"""Typed callback data of the staff desk (each packs to well under 64 bytes), validated where
it is parsed like the customer's (`bot/telegram/callbacks.py`)."""

from __future__ import annotations

from typing import Literal, Self

from aiogram.filters.callback_data import CallbackData
from pydantic import model_validator

from bot.domain.tickets import Priority, ResolutionType, TicketStatus
from bot.telegram.callbacks import RowId

MAX_USER_ID = 2**63 - 1

CardAction = Literal[
    "take",
    "assign",
    "assign_to",
    "status",
    "resolve",
    "resolve_type",
    "resolve_cancel",
    "priority",
    "priority_set",
    "close",
    "reopen",
    "history",
    "back",
]
_VALUES: dict[str, frozenset[str]] = {
    "status": frozenset(s.value for s in TicketStatus),
    "priority_set": frozenset(p.value for p in Priority),
    "resolve_type": frozenset(r.value for r in ResolutionType),
}


class CardCallback(CallbackData, prefix="dk"):
    action: CardAction
    ticket_id: RowId
    value: str = ""

    @model_validator(mode="after")
    def _value_fits_action(self) -> Self:
        allowed = _VALUES.get(self.action)
        if allowed is not None and self.value not in allowed:
            raise ValueError(f"{self.value!r} is not a value of {self.action}")
        if self.action == "assign_to" and not (
            self.value.isascii() and self.value.isdigit() and 0 < int(self.value) <= MAX_USER_ID
        ):
            raise ValueError(f"{self.value!r} is not a user id")
        return self


class ConfirmCallback(CallbackData, prefix="dr"):
    """The customer's answer to "Did this solve it?"."""

    ticket_id: RowId
    solved: bool
