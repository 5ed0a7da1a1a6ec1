"""Fan-out of an incident update (`python -m bench.incident_bench --parts fanout`).

`/update` to an incident with many linked customers: the time to queue one `incident_update`
outbox row for each of them (one transaction); their sending is `bench/incident_delivery.py`.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert

from bot.domain.clock import FrozenClock
from bot.locales.catalog import Catalogs
from bot.services.desk import AgentRef
from bot.services.incidents import IncidentConfig, IncidentContext, IncidentFanout
from bot.services.outbox import Buttons
from storage.db import create_engine
from storage.incident_models import Incident, IncidentTicket
from storage.migrate import upgrade_database
from storage.models import Customer, Ticket
from storage.unit_of_work import Database

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class NoButtons:
    """The alert's buttons are not part of what is measured."""

    def alert(self, alert_id: int, locale: str) -> Buttons:
        return []


async def fanout_time(customers: int) -> tuple[float, int]:
    """`/update` to an incident with `customers` linked customers: the time to write one
    `incident_update` outbox row each (one transaction)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'fanout.db'}"
        database = Database(create_engine(url))
        await upgrade_database(database.engine)

        def seed(connection: Connection) -> None:
            connection.execute(
                insert(Customer),
                [
                    {
                        "id": i,
                        "telegram_id": 10_000 + i,
                        "first_name": f"C{i}",
                        "locale": "ru" if i % 2 else "en",
                        "is_banned": False,
                        "is_unreachable": False,
                        "created_at": START,
                        "updated_at": START,
                    }
                    for i in range(1, customers + 1)
                ],
            )
            connection.execute(
                insert(Ticket),
                [
                    {
                        "id": i,
                        "number": f"C-{i:06d}",
                        "customer_id": i,
                        "kind": "complaint",
                        "channel": "telegram",
                        "category": "payment",
                        "description": "card declined",
                        "fields": {},
                        "status": "new",
                        "priority": "normal",
                        "paused_seconds": 0,
                        "created_at": START,
                        "updated_at": START,
                    }
                    for i in range(1, customers + 1)
                ],
            )
            connection.execute(
                insert(Incident),
                [
                    {
                        "id": 1,
                        "number": "I-000001",
                        "title": "Card payments",
                        "public_text": "",
                        "status": "investigating",
                        "signature": "",
                        "declared_at": START,
                        "updated_at": START,
                    }
                ],
            )
            connection.execute(
                insert(IncidentTicket),
                [
                    {"ticket_id": i, "incident_id": 1, "how": "auto", "linked_at": START}
                    for i in range(1, customers + 1)
                ],
            )

        await database.run_short(seed)
        incident_id = 1
        assert incident_id is not None
        context = IncidentContext(
            database, FrozenClock(START), Catalogs(), IncidentConfig(staff_chat_id=-100)
        )
        fanout = IncidentFanout(context, None)  # type: ignore[arg-type]  # no resolution here
        started = time.perf_counter()
        sent = await fanout.post_update(incident_id, "The bank is fixing it", AgentRef(1, "A"))
        elapsed = time.perf_counter() - started
        await database.dispose()
        return elapsed, sent
