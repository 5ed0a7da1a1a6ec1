"""Order within a chat: messages relayed from one source chat go in the order they were sent
there (by source message id), whichever instance stored them first."""

from __future__ import annotations

from collections.abc import Sequence

from storage.outbox_models import OutboxMessage


def _source(row: OutboxMessage) -> tuple[int, int] | None:
    """(source chat, source message id) of a relayed message, for ordering within a chat."""
    payload = row.payload
    link = payload.get("link")
    if link:
        return int(link["source_chat_id"]), int(link["source_message_id"])
    if row.kind == "media_group" and payload.get("source_chat_id") is not None:
        ids = [
            int(i["source_message_id"])
            for i in payload.get("items", [])
            if i.get("source_message_id")
        ]
        if ids:
            return int(payload["source_chat_id"]), min(ids)
    return None


def in_source_order(rows: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """`rows` with the messages relayed from one source chat into one chat put in the order
    they were sent there (by source message id), each keeping the places they took."""
    places: dict[tuple[int, int], list[int]] = {}
    for index, row in enumerate(rows):
        source = _source(row)
        if source is not None:
            places.setdefault((row.chat_id, source[0]), []).append(index)
    ordered = list(rows)
    for indexes in places.values():
        if len(indexes) < 2:
            continue
        by_source = sorted((rows[i] for i in indexes), key=lambda row: _source(row) or (0, 0))
        for index, row in zip(indexes, by_source, strict=True):
            ordered[index] = row
    return ordered
