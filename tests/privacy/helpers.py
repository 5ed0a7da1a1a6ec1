"""Seeding a customer with one of everything the desk stores, and searching the database."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, String, Text, TypeDecorator, cast, select

from bot.services.intake import ComplaintForm, FileRef
from storage.metadata import metadata
from storage.models import Ticket
from tests.harness import Desk
from tests.staff.conftest import ANNA, STAFF, deliver, start, ticket
from tests.telegram_fake import TelegramUser


@dataclass
class Seeded:
    user: TelegramUser
    customer_id: int
    closed_ticket: int
    open_ticket: int
    topics: list[int]
    values: list[str] = field(default_factory=list)
    """Every personal value stored: names, phone, texts, captions, answers, file names."""
    closed_ticket_values: list[str] = field(default_factory=list)
    """The values stored only with the closed ticket."""


async def seed(desk: Desk, user: TelegramUser, tag: str) -> Seeded:
    """Give `user` a question, a closed and rated complaint and an open one with messages,
    files (form and chat), a phone number, agent replies and a note; `tag` makes each value
    unique to this customer."""
    desk.fake.add_user(user)
    customer_id = await start(desk, user)
    values = [user.first_name, user.last_name or "", user.username or ""]

    question = f"{tag} how long does delivery take"
    await desk.say(user, question)
    values.append(question)

    phone = "+7900" + "".join(str(ord(c) % 10) for c in tag).ljust(7, "5")
    first = await desk.app.tickets.open_complaint(
        customer_id=customer_id,
        form=ComplaintForm(
            category="delivery",
            description=f"{tag} first complaint about a wet parcel",
            incident_date=None,
            fields={"order_number": f"{tag}-order-1"},
            files=(
                FileRef("photo", f"{tag}-form-photo-id", f"{tag}-form-photo-uid"),
                FileRef(
                    "document",
                    f"{tag}-form-doc-id",
                    f"{tag}-form-doc-uid",
                    file_name=f"{tag}-receipt.pdf",
                ),
            ),
            contact_phone=phone,
        ),
    )
    values += [
        phone,
        f"{tag} first complaint about a wet parcel",
        f"{tag}-order-1",
        f"{tag}-form-photo-id",
        f"{tag}-form-doc-id",
        f"{tag}-receipt.pdf",
    ]
    assert first.id is not None
    await deliver(desk)
    topic_one = (await ticket(desk, first.id)).topic_id
    assert topic_one is not None
    await desk.say(user, f"{tag} the courier was rude")
    await desk.feed(desk.updates.photo(user, caption=f"{tag} photo caption"))
    await desk.feed(desk.updates.document(user, file_name=f"{tag}-invoice.pdf"))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, f"{tag} agent reply", thread_id=topic_one))
    await desk.feed(desk.updates.group_text(ANNA, STAFF, f"/note {tag} note", thread_id=topic_one))
    await desk.feed(
        desk.updates.group_text(
            ANNA, STAFF, f"/resolve refund {tag} money returned", thread_id=topic_one
        )
    )
    await deliver(desk)
    values += [
        f"{tag} the courier was rude",
        f"{tag} photo caption",
        f"{tag}-invoice.pdf",
        f"{tag} agent reply",
        f"{tag} note",
        f"{tag} money returned",
    ]
    surveys = desk.app.dispatcher.workflow_data["surveys"]
    await surveys.rate(customer_id=customer_id, ticket_id=first.id, score=4)
    await surveys.comment(customer_id=customer_id, ticket_id=first.id, text=f"{tag} rating note")
    values.append(f"{tag} rating note")
    only_first = values[values.index(f"{tag} first complaint about a wet parcel") :]
    assert (await ticket(desk, first.id)).status == "closed"

    second = await desk.app.tickets.open_complaint(
        customer_id=customer_id,
        form=ComplaintForm(
            category="product_quality", description=f"{tag} second complaint", incident_date=None
        ),
    )
    assert second.id is not None
    values.append(f"{tag} second complaint")
    await deliver(desk)
    await desk.say(user, f"{tag} any news")
    values.append(f"{tag} any news")
    await deliver(desk)
    topic_two = (await ticket(desk, second.id)).topic_id
    assert topic_two is not None
    return Seeded(
        user, customer_id, first.id, second.id, [topic_one, topic_two], values, only_first
    )


async def file_ids_of(desk: Desk, customer_id: int) -> list[str]:
    """File ids of every attachment of the customer (form files and chat files)."""

    async with desk.database.unit_of_work() as uow:
        customer = await uow.customers.get(customer_id=customer_id)
        assert customer is not None
        records = await uow.privacy.records(customer)
    return [a.file_id for a in records.attachments]


def _holds_text(column_type: Any) -> bool:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return isinstance(column_type, String | JSON)  # Text and Unicode are Strings too


async def where_stored(desk: Desk, values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text or JSON column of every table holding a value.
    Each table's text columns are read (as text) in one query and searched here the way the
    database's LIKE would: a query per column and value took a second per search."""
    found = []
    async with desk.database.engine.connect() as connection:
        fold = _ascii_lower if connection.dialect.name == "sqlite" else _same
        needles = [(value, [fold(n) for n in {value, json.dumps(value)[1:-1]}]) for value in values]
        for table in metadata.sorted_tables:
            columns = [column for column in table.columns if _holds_text(column.type)]
            if not columns:
                continue
            rows = (await connection.execute(select(*(cast(c, Text) for c in columns)))).all()
            for index, column in enumerate(columns):
                texts = [fold(row[index]) for row in rows if row[index] is not None]
                found += [
                    (table.name, column.name, value)
                    for value, forms in needles
                    if any(form in text for text in texts for form in forms)
                ]
    return found


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _ascii_lower(text: str) -> str:
    """SQLite's LIKE ignores the case of ASCII letters only."""
    return text.translate(_ASCII_LOWER)


def _same(text: str) -> str:
    return text


async def statistics(desk: Desk, ticket_id: int) -> dict[str, Any]:
    """What reports are built from: the ticket's figures and its event history."""
    async with desk.database.unit_of_work() as uow:
        found = await uow.session.get(Ticket, ticket_id)
        assert found is not None
        events = await uow.events.for_ticket(ticket_id=ticket_id)
        return {
            "number": found.number,
            "category": found.category,
            "priority": found.priority,
            "created_at": found.created_at,
            "first_response_at": found.first_response_at,
            "resolved_at": found.resolved_at,
            "closed_at": found.closed_at,
            "decision": found.resolution_type,
            "rating": found.rating,
            "rated_at": found.rated_at,
            "events": [(e.id, e.kind, e.at, e.from_status, e.to_status) for e in events],
        }
