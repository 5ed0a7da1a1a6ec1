"""Detection's read and write of a new ticket (`storage.detection_store`): one statement each
on PostgreSQL, the plain statements on SQLite; the same answers on both, and detection by two
instances that each keep their own window in memory."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, insert
from sqlmodel import select

from bot.domain.clock import FrozenClock
from bot.domain.tickets import TicketKind
from bot.services.incidents import IncidentConfig, IncidentContext, IncidentDetection
from bot.services.incidents.signatures import signature
from storage.detection_store import LINKED_SIGNATURES, DetectionStore
from storage.incident_models import Incident, IncidentAlert, IncidentObservation, IncidentTicket
from storage.models import Customer, Ticket
from storage.outbox_models import OutboxMessage
from storage.unit_of_work import Database
from tests.conftest import START
from tests.incidents.conftest import CARD_DECLINED
from tests.texts import project_catalogs

HOUR = timedelta(hours=1)
COURIER = "The courier did not come today with my parcel"


class _Buttons:
    def alert(self, alert_id: int, locale: str) -> list:
        return []


async def _ticket(
    database: Database,
    text: str,
    *,
    minutes: float = 0,
    category: str = "payment",
    kind: TicketKind = TicketKind.COMPLAINT,
    telegram_id: int | None = None,
) -> int:
    """A new ticket of a customer of its own (Telegram id `telegram_id`, else 1000 + its
    number)."""
    async with database.unit_of_work() as uow:
        count = len((await uow.session.exec(select(Ticket.id))).all())
        customer = Customer(
            telegram_id=telegram_id or 1001 + count,
            first_name="C",
            created_at=START,
            updated_at=START,
        )
        uow.session.add(customer)
        await uow.session.flush()
        assert customer.id is not None
        ticket = await uow.tickets.add(
            ticket=Ticket(
                number=f"S-{count + 1:06d}",
                customer_id=customer.id,
                kind=kind,
                category=category,
                description=text,
                created_at=START + timedelta(minutes=minutes),
                updated_at=START,
            )
        )
        assert ticket.id is not None
        return ticket.id


def _observations(connection: Connection, rows: list[tuple[int, str, float, str, int]]) -> None:
    connection.execute(
        insert(IncidentObservation),
        [
            {
                "ticket_id": ticket_id,
                "category": category,
                "created_at": START + timedelta(minutes=minutes),
                "signature": signature(text),
                "cluster_id": cluster,
            }
            for ticket_id, category, minutes, text, cluster in rows
        ],
    )


def _incident(
    connection: Connection, incident_id: int, category: str | None, title: str, status: str
) -> None:
    connection.execute(
        insert(Incident),
        [
            {
                "id": incident_id,
                "number": f"I-{incident_id:06d}",
                "title": title,
                "public_text": f"Known problem {incident_id}",
                "status": status,
                "category": category,
                "signature": signature(title),
                "declared_at": START - HOUR,
                "updated_at": START - HOUR,
            }
        ],
    )


def _links(connection: Connection, incident_id: int, ticket_ids: list[int]) -> None:
    connection.execute(
        insert(IncidentTicket),
        [
            {"ticket_id": tid, "incident_id": incident_id, "how": "auto", "linked_at": START}
            for tid in ticket_ids
        ],
    )


async def test_the_read_gives_the_window_since_what_is_kept_and_the_matching_incidents(
    any_database: Database,
) -> None:
    database = any_database
    ticket_id = await _ticket(database, CARD_DECLINED[0], minutes=0)
    old = [(-300 + i, "payment", -200.0 + i, f"linked {i}", -300 + i) for i in range(60)]

    def seed(connection: Connection) -> None:
        _observations(
            connection,
            [
                (-1, "payment", -61, "too old", -1),
                (-2, "payment", -59, "in the window", -2),
                (-3, "payment", -10, "recent", -2),
                (-4, "delivery", -5, "another category", -4),
                *old,
            ],
        )
        _incident(connection, 1, "payment", "card declined", "investigating")
        _incident(connection, 2, "delivery", "courier late", "investigating")
        _incident(connection, 3, None, "everything broken", "monitoring")
        _incident(connection, 4, "payment", "resolved one", "resolved")
        _links(connection, 1, [row[0] for row in old])  # 60 linked: the latest 50 are read
        _links(connection, 2, [-4])

    await database.run_short(seed)
    async with database.unit_of_work() as uow:
        store = DetectionStore(uow.session)
        whole = await store.read(ticket_id=ticket_id, window=HOUR, read_from={})
        kept = await store.read(
            ticket_id=ticket_id,
            window=HOUR,
            read_from={"payment": START - timedelta(minutes=30), "delivery": START},
        )
        missing = await store.read(ticket_id=ticket_id + 1000, window=HOUR, read_from={})
    assert missing is None
    assert whole is not None and kept is not None
    assert whole.fresh_complaint
    assert whole.ticket.id == ticket_id and whole.ticket.telegram_id == 1001
    assert whole.ticket.created_at == START
    assert sorted(whole.window) == [
        (-3, START - timedelta(minutes=10), signature("recent"), -2),
        (-2, START - timedelta(minutes=59), signature("in the window"), -2),
    ]
    assert [row[0] for row in kept.window] == [-3]  # only since what is kept
    assert [(i.id, i.category, i.public_text) for i in whole.incidents] == [
        (1, "payment", "Known problem 1"),
        (3, None, "Known problem 3"),
    ]
    latest = tuple(signature(f"linked {i}") for i in range(59, 59 - LINKED_SIGNATURES, -1))
    assert whole.incidents[0].linked == latest
    assert whole.incidents[0].signature == signature("card declined")
    assert whole.incidents[1].linked == ()
    assert kept.incidents == whole.incidents


async def test_a_repeated_or_other_ticket_reads_nothing_more(any_database: Database) -> None:
    database = any_database
    question = await _ticket(database, "How do I pay?", kind=TicketKind.QUESTION)
    seen = await _ticket(database, CARD_DECLINED[1], minutes=1)
    await database.run_short(
        lambda c: _observations(c, [(seen, "payment", 1, CARD_DECLINED[1], seen)])
    )
    async with database.unit_of_work() as uow:
        store = DetectionStore(uow.session)
        for ticket_id in (question, seen):
            found = await store.read(ticket_id=ticket_id, window=HOUR, read_from={})
            assert found is not None and not found.fresh_complaint
            assert (list(found.window), list(found.incidents)) == ([], [])
    assert (await _detector(database).observe(seen)) is None


async def test_the_write_stores_the_observation_and_only_grows_the_alert(
    any_database: Database,
) -> None:
    database = any_database
    first = await _ticket(database, CARD_DECLINED[0])
    later = await _ticket(database, CARD_DECLINED[1], minutes=20)
    alone = await _ticket(database, COURIER, minutes=20)
    async with database.unit_of_work() as uow:
        uow.session.add(
            IncidentAlert(
                cluster_id=first,
                category="payment",
                first_ticket_at=START,
                last_ticket_at=START + timedelta(minutes=30),
                alerted_at=START,
                count=9,
            )
        )
    async with database.unit_of_work() as uow:
        store = DetectionStore(uow.session)
        at = START + timedelta(minutes=20)
        grown = await store.store(
            ticket_id=later,
            category="payment",
            at=at,
            signature="s",
            cluster_id=first,
            size=12,
            suggested_incident_id=None,
        )
        own = await store.store(
            ticket_id=alone,
            category="payment",
            at=at,
            signature="t",
            cluster_id=alone,
            size=1,
            suggested_incident_id=7,
        )
    async with database.unit_of_work() as uow:
        alert = (await uow.session.exec(select(IncidentAlert))).one()
        observations = (await uow.session.exec(select(IncidentObservation))).all()
    assert grown == alert.id and own is None
    assert alert.count == 12  # grown
    assert alert.last_ticket_at == START + timedelta(minutes=30)  # not moved back
    assert sorted((o.ticket_id, o.cluster_id, o.suggested_incident_id) for o in observations) == [
        (later, first, None),
        (alone, alone, 7),
    ]


def _detector(database: Database) -> IncidentDetection:
    config = IncidentConfig(staff_chat_id=-100)
    context = IncidentContext(database, FrozenClock(START), project_catalogs(), config)
    return IncidentDetection(context, _Buttons())


async def test_two_instances_see_each_others_tickets_and_links(any_database: Database) -> None:
    database = any_database
    first, second = _detector(database), _detector(database)
    ids = [
        await _ticket(database, CARD_DECLINED[i], minutes=i, telegram_id=100 + i) for i in range(6)
    ]
    sizes = []
    for index, ticket_id in enumerate(ids[:5]):
        detection = await (first if index % 2 == 0 else second).observe(ticket_id)
        assert detection is not None
        sizes.append((detection.cluster_id, detection.cluster_size))
    assert sizes == [(ids[0], 1), (ids[0], 2), (ids[0], 3), (ids[0], 4), (ids[0], 5)]

    await database.run_short(
        lambda c: _incident(c, 1, "payment", "card payment declined", "investigating")
    )
    detection = await second.observe(ids[5])
    assert detection is not None and detection.linked_to == 1
    courier = await _ticket(database, COURIER, minutes=7, category="delivery", telegram_id=200)
    other = await first.observe(courier)  # an incident of another category is not compared
    assert other is not None and other.linked_to is None and other.suggested is None
    async with database.unit_of_work() as uow:
        links = (await uow.session.exec(select(IncidentTicket))).all()
        told = (await uow.session.exec(select(OutboxMessage))).all()
    assert [(link.ticket_id, link.incident_id, link.how) for link in links] == [(ids[5], 1, "auto")]
    assert [m.chat_id for m in told if m.key.startswith("incident-known:")] == [105]
