"""The desk's vocabulary: who acts, what they wrote, its settings and errors, and name helpers."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.locales.catalog import Markup
from bot.services.outbox import Buttons

ALBUM_WAIT = timedelta(seconds=1)


class DeskError(Exception):
    """A staff action that cannot be done; `key` is the catalogue text explaining why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class AgentRef:
    user_id: int
    name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class MediaRef:
    type: str
    file_id: str


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """What an agent wrote in a ticket's topic, already turned into safe HTML by the adapter."""

    chat_id: int
    message_id: int
    content_type: str
    html: str | None = None
    plain: str | None = None
    media: MediaRef | None = None
    media_group_id: str | None = None
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class DeskConfig:
    staff_chat_id: int | None
    staff_locale: str = "ru"
    show_agent_names: bool = True
    company_name: str = ""
    reopen_window: timedelta = timedelta(days=30)


class CustomerButtons(Protocol):
    """Buttons the adapter packs for messages the desk sends to customers."""

    def resolution_feedback(self, ticket_id: int, locale: str) -> Buttons: ...


class Named(Protocol):
    """A customer as far as their name goes (a stored row or its view)."""

    @property
    def telegram_id(self) -> int: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str | None: ...


def mention(user_id: int, name: str) -> Markup:
    """`name` as a link to the user: a message in a group notifies them."""
    return Markup(f'<a href="tg://user?id={int(user_id)}">{html.escape(name, quote=False)}</a>')


def customer_name(customer: Named) -> str:
    if customer.last_name:
        return f"{customer.first_name} {customer.last_name[:1]}."
    return customer.first_name or str(customer.telegram_id)
