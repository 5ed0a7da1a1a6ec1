"""Writing outgoing messages to the outbox, in the unit of work of the change that causes them.

The delivery worker (`bot/telegram/delivery/`) sends them later, with retries and pacing.
Every message has an idempotency `key` (one message per cause: enqueueing the same key twice
adds nothing), a target `chat_id`, an optional `thread_id` and a `kind` with its payload:

``text``
    ``{"html": str, "buttons"?: [[{"text": str, "callback_data": str} | {"text", "url"}]],
    "reply_to"?: int, "silent"?: bool}`` — a message in Telegram's HTML; every piece of user
    text inside ``html`` must already be escaped (render it with the catalogues).
``incident_update`` / ``incident_resolved``
    the payload of ``text``: an incident's update or resolution sent to one of its customers
    (kinds of their own so the worker can deliver mass updates behind ordinary traffic).
``copy``
    ``{"from_chat_id": int, "message_id": int, "caption"?: str (HTML), "reply_to"?: int,
    "silent"?: bool}`` — copyMessage: the content without "forwarded from".
``media_group``
    ``{"items": [{"type": "photo" | "video" | "document" | "audio", "file_id": str,
    "caption"?: str (HTML), "source_message_id"?: int}], "source_chat_id"?: int,
    "reply_to"?: int}`` — sendMediaGroup, so an album stays one album.
``notice``
    like ``text``: what the desk says about a ticket (delivery problems, ...); it goes in the
    desk lane, after the conversation between customers and agents.
``incident_update`` / ``incident_resolved`` / ``digest``
    like ``text``, in the broadcast lane (last).
``edit_text`` / ``edit_caption``
    ``{"message_id": int, "html": str, "buttons"?: [...]}`` — edit a message already sent.
``refresh_card``
    ``{}`` with ``ticket_id`` set and ``chat_id`` ``STAFF_GROUP`` (0: the staff group the worker
    serves) — re-render the ticket's card in place and rename its topic when the name changed.
    Enqueued by every change the card shows (`apply_transition` does it for every status
    change); the worker reads the ticket when it delivers, so several refreshes of one ticket
    due together are done once.

Each kind has a delivery lane (`storage/outbox_models.py` `LANES`) and a sender (the worker's
`SENDERS`); a new kind is added to both. A text longer than Telegram allows is split by the
worker, a caption too long for its media is sent as a text after it.

Common optional fields:

``link``: ``{"source_chat_id": int, "source_message_id": int}`` — after delivery the copy is
    linked to its original (edits and replies are carried over through these links).
``ticket_topic``: ``true`` — for the staff group: the worker sends into the ticket's current
    topic (created or re-created as needed) instead of ``thread_id``; needs ``ticket_id``.
``notify_forbidden``: ``false`` — do not tell the ticket's topic when the customer blocked the bot.

Times are given by the caller (`now`, `not_before`); nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict
from uuid import uuid4

from bot.domain.clock import Clock
from storage.queued_refreshes import queued_refreshes
from storage.unit_of_work import Database, UnitOfWork

Notify = Callable[[], None]
STAFF_GROUP = 0  # chat id of outbox rows meant for "the staff group", whichever it is
REFRESH_CARD = "refresh_card"
NOTICE = "notice"
# Kinds sent as texts in the broadcast lane (mass updates; `storage/outbox_models.py` LANES).
INCIDENT_UPDATE = "incident_update"
INCIDENT_RESOLVED = "incident_resolved"
GROUPABLE_MEDIA: frozenset[str] = frozenset({"photo", "video", "document", "audio"})


class Button(TypedDict, total=False):
    text: str
    callback_data: str
    url: str


Buttons = list[list[Button]]


class Link(TypedDict):
    source_chat_id: int
    source_message_id: int


def _common(
    payload: dict[str, Any],
    *,
    reply_to: int | None,
    silent: bool,
    link: Link | None,
    ticket_topic: bool,
) -> dict[str, Any]:
    if reply_to is not None:
        payload["reply_to"] = reply_to
    if silent:
        payload["silent"] = True
    if link is not None:
        payload["link"] = dict(link)
    if ticket_topic:
        payload["ticket_topic"] = True
    return payload


async def enqueue_text(
    uow: UnitOfWork,
    *,
    key: str,
    chat_id: int,
    html: str,
    now: datetime,
    ticket_id: int | None = None,
    thread_id: int | None = None,
    ticket_topic: bool = False,
    buttons: Buttons | None = None,
    reply_to: int | None = None,
    silent: bool = False,
    link: Link | None = None,
    not_before: datetime | None = None,
    kind: str = "text",
) -> bool:
    payload: dict[str, Any] = {"html": html}
    if buttons:
        payload["buttons"] = buttons
    _common(payload, reply_to=reply_to, silent=silent, link=link, ticket_topic=ticket_topic)
    return await uow.outbox.enqueue(
        key=key,
        chat_id=chat_id,
        kind=kind,
        payload=payload,
        now=now,
        ticket_id=ticket_id,
        thread_id=thread_id,
        not_before=not_before,
    )


async def enqueue_notice(
    uow: UnitOfWork,
    *,
    key: str,
    chat_id: int,
    html: str,
    now: datetime,
    ticket_id: int | None = None,
    ticket_topic: bool = False,
    reply_to: int | None = None,
) -> bool:
    """A desk notice (sent like a text, after the conversation's messages)."""
    payload: dict[str, Any] = {"html": html}
    _common(payload, reply_to=reply_to, silent=False, link=None, ticket_topic=ticket_topic)
    return await uow.outbox.enqueue(
        key=key, chat_id=chat_id, kind=NOTICE, payload=payload, now=now, ticket_id=ticket_id
    )


async def enqueue_copy(
    uow: UnitOfWork,
    *,
    key: str,
    chat_id: int,
    from_chat_id: int,
    message_id: int,
    now: datetime,
    caption: str | None = None,
    ticket_id: int | None = None,
    thread_id: int | None = None,
    ticket_topic: bool = False,
    reply_to: int | None = None,
    silent: bool = False,
    link: Link | None = None,
) -> bool:
    payload: dict[str, Any] = {"from_chat_id": from_chat_id, "message_id": message_id}
    if caption is not None:
        payload["caption"] = caption
    _common(payload, reply_to=reply_to, silent=silent, link=link, ticket_topic=ticket_topic)
    return await uow.outbox.enqueue(
        key=key,
        chat_id=chat_id,
        kind="copy",
        payload=payload,
        now=now,
        ticket_id=ticket_id,
        thread_id=thread_id,
    )


def media_item(
    media_type: str, file_id: str, *, caption: str | None = None, source_message_id: int | None
) -> dict[str, Any]:
    item: dict[str, Any] = {"type": media_type, "file_id": file_id}
    if caption:
        item["caption"] = caption
    if source_message_id is not None:
        item["source_message_id"] = source_message_id
    return item


async def enqueue_media_group(
    uow: UnitOfWork,
    *,
    key: str,
    chat_id: int,
    items: list[dict[str, Any]],
    now: datetime,
    source_chat_id: int | None = None,
    ticket_id: int | None = None,
    thread_id: int | None = None,
    ticket_topic: bool = False,
    reply_to: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    payload: dict[str, Any] = {"items": items}
    if source_chat_id is not None:
        payload["source_chat_id"] = source_chat_id
    _common(payload, reply_to=reply_to, silent=False, link=None, ticket_topic=ticket_topic)
    return await uow.outbox.enqueue(
        key=key,
        chat_id=chat_id,
        kind="media_group",
        payload=payload,
        now=now,
        ticket_id=ticket_id,
        thread_id=thread_id,
        not_before=not_before,
    )


async def add_to_album(
    uow: UnitOfWork,
    *,
    key: str,
    chat_id: int,
    item: dict[str, Any],
    now: datetime,
    wait_until: datetime,
    source_chat_id: int,
    ticket_id: int | None = None,
    ticket_topic: bool = False,
    reply_to: int | None = None,
) -> None:
    """Collect the parts of an album (they arrive as separate updates) into one message.

    The first part opens a `media_group` message due at `wait_until`; later parts join it
    while it is still pending. A part arriving after the album went out starts a new one.
    """
    for attempt in range(50):
        part_key = key if attempt == 0 else f"{key}:{attempt}"
        pending = await uow.delivery.pending_by_key(key=part_key)
        if pending is not None:
            payload = dict(pending.payload)
            payload["items"] = [*payload.get("items", []), item]
            await uow.delivery.replace_payload(message=pending, payload=payload)
            return
        if await uow.delivery.by_key(key=part_key) is None:
            await enqueue_media_group(
                uow,
                key=part_key,
                chat_id=chat_id,
                items=[item],
                now=now,
                source_chat_id=source_chat_id,
                ticket_id=ticket_id,
                ticket_topic=ticket_topic,
                reply_to=reply_to,
                not_before=wait_until,
            )
            return


async def enqueue_edit(
    uow: UnitOfWork,
    *,
    key: str,
    chat_id: int,
    message_id: int,
    html: str,
    caption: bool,
    now: datetime,
    ticket_id: int | None = None,
) -> bool:
    return await uow.outbox.enqueue(
        key=key,
        chat_id=chat_id,
        kind="edit_caption" if caption else "edit_text",
        payload={"message_id": message_id, "html": html},
        now=now,
        ticket_id=ticket_id,
    )


async def enqueue_card_refresh(uow: UnitOfWork, *, ticket_id: int, now: datetime) -> bool:
    """Have the delivery worker re-render the ticket's card and topic name (after the commit).

    A refresh reads the ticket when it is delivered, so every request gets its own key (two
    changes in the same instant must not be merged into one that ran before the second); one
    per ticket and transaction (`storage.queued_refreshes`). False when one is queued already.
    """
    queued = queued_refreshes(uow.session)
    if ticket_id in queued:
        return False
    queued.add(ticket_id)
    return await uow.outbox.enqueue(
        key=f"card:{ticket_id}:{now.isoformat()}:{uuid4().hex[:12]}",
        chat_id=STAFF_GROUP,
        kind=REFRESH_CARD,
        payload={},
        now=now,
        ticket_id=ticket_id,
    )


class Outbox:
    """For handlers that answer about something already stored (the "added to your ticket"
    acknowledgement): the answer goes through the outbox in its own short unit of work, so a
    delivery problem (a 500, a 429) is retried by the worker instead of failing the update.
    The key makes it idempotent: a re-delivered update adds no second answer."""

    def __init__(self, database: Database, clock: Clock, notify: Notify | None = None) -> None:
        self._database = database
        self._clock = clock
        self._notify: Notify = notify or (lambda: None)

    async def send_text(
        self, *, key: str, chat_id: int, html: str, buttons: Buttons | None = None
    ) -> bool:
        async with self._database.unit_of_work() as uow:
            added = await enqueue_text(
                uow, key=key, chat_id=chat_id, html=html, now=self._clock.now(), buttons=buttons
            )
        if added:
            self._notify()
        return added

    def notify(self) -> None:
        """Wake the delivery worker for what a handler queued in a unit of work of its own
        (as `TicketService.place_customer_message` queues its acknowledgement)."""
        self._notify()


async def enqueue_texts(
    uow: UnitOfWork, *, messages: list[tuple[str, int, str, int | None]], kind: str, now: datetime
) -> None:
    """Many `text`-payload messages at once (a broadcast): (key, chat id, html, ticket id)
    each, written in one statement; keys already queued add nothing, as in `enqueue_text`."""
    await uow.outbox.enqueue_many(
        rows=[
            {
                "key": key,
                "chat_id": chat_id,
                "kind": kind,
                "payload": {"html": html},
                "ticket_id": ticket_id,
            }
            for key, chat_id, html, ticket_id in messages
        ],
        now=now,
    )
