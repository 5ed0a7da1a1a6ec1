"""The message links a sent row makes: which copy stands for which original, so that edits
and replies are carried over later."""

from __future__ import annotations

from bot.telegram.delivery.senders import Sent
from storage.delivery_store import NewLink
from storage.outbox_models import OutboxMessage


def new_links(row: OutboxMessage, sent: Sent, staff_chat_id: int | None) -> list[NewLink]:
    if row.ticket_id is None or not sent.message_ids:
        return []
    return [
        NewLink(row.ticket_id, source_chat, source_id, row.chat_id, copy_id)
        for source_chat, source_id, copy_id in _links(row, sent, staff_chat_id)
    ]


def _links(row: OutboxMessage, sent: Sent, staff_chat_id: int | None) -> list[tuple[int, int, int]]:
    payload = row.payload
    link = payload.get("link")
    if link:
        # The first message stands for the original: an edit of the original edits it
        # (not the later parts of a split text, nor a caption sent apart).
        return [(int(link["source_chat_id"]), int(link["source_message_id"]), sent.message_ids[0])]
    if row.kind == "media_group" and payload.get("source_chat_id") is not None:
        pairs = zip(payload.get("items", []), sent.message_ids, strict=False)
        return [
            (int(payload["source_chat_id"]), int(item["source_message_id"]), copy_id)
            for item, copy_id in pairs
            if item.get("source_message_id") is not None
        ]
    if row.chat_id == staff_chat_id:
        return [(row.chat_id, copy_id, copy_id) for copy_id in sent.message_ids]
    return []
