"""Who is behind an update: the person who sent a message or pressed a button."""

from __future__ import annotations

from aiogram.types import TelegramObject, User


def human_sender(event: TelegramObject) -> User | None:
    """The user who sent `event`; None for events without a sender and for bots."""
    user: User | None = getattr(event, "from_user", None)
    if user is None or user.is_bot:
        return None
    return user
