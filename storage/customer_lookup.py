"""The customer of an incoming update, read in one statement outside a transaction.

Most updates come from a customer whose profile has not changed, so their look-up is a read:
one round trip on a server database instead of a unit of work's three (BEGIN, SELECT,
COMMIT). The row comes back as a detached `Customer`, as one loaded by a unit of work that
has ended would be (a later unit of work may add it and write it).
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from storage.models import Customer
from storage.unit_of_work import Database

_CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
_BY_TELEGRAM_ID = select(_CUSTOMERS).where(_CUSTOMERS.c.telegram_id == bindparam("telegram_id"))


async def customer_by_telegram_id(database: Database, telegram_id: int) -> Customer | None:
    def work(connection: Connection) -> Customer | None:
        row = connection.execute(_BY_TELEGRAM_ID, {"telegram_id": telegram_id}).first()
        if row is None:
            return None
        customer = Customer(**row._mapping)
        make_transient_to_detached(customer)
        return customer

    return await database.read_short(work)
