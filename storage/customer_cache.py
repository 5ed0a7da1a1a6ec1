"""An in-process cache of customer rows that forgets a row as soon as it is written.

Every update goes to the database as usual; SQLAlchemy's mapper events tell the cache which
customer changed (and bulk statements on the table clear it whole), so a cached row is never
older than this process's last write. Writes made by another process are not seen, so the
cache is meant for a single instance (the embedded SQLite set-up).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from storage.models import Customer

_caches: weakref.WeakSet[CustomerCache] = weakref.WeakSet()
_listening = False


def _forget(_mapper: Mapper[Any], _connection: Any, target: Customer) -> None:
    for cache in list(_caches):
        cache.forget(target.telegram_id)


def _bulk_statement(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete:
        mapper = state.bind_mapper
        if mapper is not None and mapper.class_ is Customer:
            for cache in list(_caches):
                cache.clear()


def _listen_once() -> None:
    global _listening
    if _listening:
        return
    for name in ("after_insert", "after_update", "after_delete"):
        event.listen(Customer, name, _forget)
    event.listen(Session, "do_orm_execute", _bulk_statement)
    _listening = True


class CustomerCache:
    def __init__(self, size: int = 10_000) -> None:
        self._rows: OrderedDict[int, Customer] = OrderedDict()
        self._size = size
        _listen_once()
        _caches.add(self)

    def get(self, telegram_id: int) -> Customer | None:
        row = self._rows.get(telegram_id)
        if row is not None:
            self._rows.move_to_end(telegram_id)
        return row

    def put(self, customer: Customer) -> None:
        self._rows[customer.telegram_id] = customer
        self._rows.move_to_end(customer.telegram_id)
        while len(self._rows) > self._size:
            self._rows.popitem(last=False)

    def forget(self, telegram_id: int) -> None:
        self._rows.pop(telegram_id, None)

    def clear(self) -> None:
        self._rows.clear()
