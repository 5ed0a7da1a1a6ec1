"""One database transaction with the repositories bound to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.agent_repository import AgentRepository
from storage.autocommit import AutocommitConnections
from storage.ban_repository import BanRepository
from storage.db import (
    SessionFactory,
    create_reading_session_factory,
    create_session_factory,
    is_sqlite,
)
from storage.desk_repository import (
    FormSubmissionRepository,
    RepliedMessageRepository,
)
from storage.embedded_sqlite import EmbeddedSqlite
from storage.kb_repository import KbQueryRepository
from storage.link_repository import MessageLinkRepository
from storage.outbox_queue_repository import OutboxQueueRepository
from storage.privacy_scrub import PersonalDataScrubber
from storage.privacy_store import PrivacyStore
from storage.queued_refreshes import forget_refreshes
from storage.repositories import (
    AttachmentRepository,
    CustomerRepository,
    EventRepository,
    MessageRepository,
    OutboxRepository,
    TicketRepository,
)
from storage.staff_ticket_repository import StaffTicketRepository
from storage.sweep_repository import SweepRepository

T = TypeVar("T")


class Database:
    """Owns the engine and hands out units of work.

    SQLite allows one writer at a time and fails (instead of waiting) when two deferred
    transactions both try to upgrade to a write lock, so with SQLite the units of work of
    this process take turns; PostgreSQL runs them concurrently. On a SQLite file statements
    run on the event loop (`storage/embedded_sqlite.py`).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite_lock: asyncio.Lock | None = (
            asyncio.Lock() if is_sqlite(str(engine.url)) else None
        )
        self._embedded = EmbeddedSqlite.open(engine.url.render_as_string(hide_password=False))
        # Server databases: connections kept ready for `run_each` (storage/autocommit.py).
        self._autocommit = (
            AutocommitConnections(engine)
            if self._embedded is None and self._sqlite_lock is None
            else None
        )
        self.sessions: SessionFactory = (
            self._embedded.session_factory()
            if self._embedded is not None
            else create_session_factory(engine)
        )
        self._reading_sessions: SessionFactory = (
            self._embedded.session_factory(reading=True)
            if self._embedded is not None
            else create_reading_session_factory(
                engine, outside_transactions=not is_sqlite(str(engine.url))
            )
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sync_engines(self) -> list[Engine]:
        """Every engine statements run on, for engine events (counting, logging): the async
        engine's synchronous core and, on a SQLite file, the embedded engine."""
        embedded = [self._embedded.engine] if self._embedded is not None else []
        return [self.engine.sync_engine, *embedded]

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    def reading(self) -> UnitOfWork:
        """A unit of work that only reads. On a server database its statements run outside
        a transaction: no BEGIN and COMMIT round trips, and each statement sees what was
        committed when it started, as in the READ COMMITTED transaction it would otherwise
        run in (no row locks: a read-modify-write needs `unit_of_work`). It refuses to
        write. On SQLite it is a unit of work like any other."""
        return UnitOfWork(self, reading=True)

    async def run_short(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction on a Core connection, holding the write lock.

        On a SQLite file it runs synchronously on the event loop (`EmbeddedSqlite.run`):
        keep `work` to a handful of indexed statements. Other databases (and in-memory
        SQLite) run it through the async engine.
        """
        async with self.write_lock():
            if self._embedded is not None:
                return self._embedded.run(work)
            async with self.engine.begin() as connection:
                return await connection.run_sync(work)

    async def read_short(self, work: Callable[[Connection], T]) -> T:
        """Like `run_short` for a read: on a SQLite file without the write lock (WAL readers
        never wait for the writer); on a server database outside a transaction, so a
        one-statement read is one round trip instead of three (BEGIN, the read, COMMIT).
        Each statement sees what was committed when it started, as in the READ COMMITTED
        transaction it would otherwise run in."""
        if self._embedded is not None:
            return self._embedded.run(work)
        return await self.run_each(work)

    async def run_each(self, work: Callable[[Connection], T]) -> T:
        """Like `run_short` for work whose statements each stand on their own (a single
        write, or writes that need not be undone together): on a server database outside a
        transaction, so each statement commits by itself, durably, in one round trip instead
        of three (BEGIN, the statement, COMMIT)."""
        if self._autocommit is None:
            return await self.run_short(work)
        return await self._autocommit.run(work)

    @asynccontextmanager
    async def write_lock(self) -> AsyncIterator[None]:
        """Held by every SQLite writer of this process (a no-op for server databases)."""
        if self._sqlite_lock is None:
            yield
            return
        async with self._sqlite_lock:
            yield

    async def dispose(self) -> None:
        if self._autocommit is not None:
            await self._autocommit.close()
        if self._embedded is not None:
            self._embedded.dispose()
        await self.engine.dispose()


class UnitOfWork:
    session: AsyncSession
    customers: CustomerRepository
    tickets: TicketRepository
    messages: MessageRepository
    attachments: AttachmentRepository
    events: EventRepository
    outbox: OutboxRepository
    delivery: OutboxQueueRepository
    links: MessageLinkRepository
    agents: AgentRepository
    bans: BanRepository
    staff_tickets: StaffTicketRepository
    sweeps: SweepRepository
    form_submissions: FormSubmissionRepository
    replied_messages: RepliedMessageRepository
    kb_queries: KbQueryRepository

    def __init__(self, database: Database, *, reading: bool = False) -> None:
        self._database = database
        self._reading = reading

    async def __aenter__(self) -> UnitOfWork:
        lock = self._database._sqlite_lock
        if lock is not None:
            await lock.acquire()
        try:
            database = self._database
            sessions = database._reading_sessions if self._reading else database.sessions
            self.session = sessions()
            self.customers = CustomerRepository(self.session)
            self.tickets = TicketRepository(self.session)
            self.messages = MessageRepository(self.session)
            self.attachments = AttachmentRepository(self.session)
            self.events = EventRepository(self.session)
            self.outbox = OutboxRepository(self.session)
            self.delivery = OutboxQueueRepository(self.session)
            self.links = MessageLinkRepository(self.session)
            self.agents = AgentRepository(self.session)
            self.bans = BanRepository(self.session)
            self.staff_tickets = StaffTicketRepository(self.session)
            self.sweeps = SweepRepository(self.session)
            self.form_submissions = FormSubmissionRepository(self.session)
            self.replied_messages = RepliedMessageRepository(self.session)
            self.kb_queries = KbQueryRepository(self.session)
            self.privacy = PrivacyStore(self.session)
            self.scrubber = PersonalDataScrubber(self.session)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._reading:
                pass  # nothing to commit; closing ends it (a rollback would expire the rows read)
            elif exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()
            lock = self._database._sqlite_lock
            if lock is not None:
                lock.release()

    async def commit(self) -> None:
        await self.session.commit()
        forget_refreshes(self.session)

    async def rollback(self) -> None:
        """Drop what this unit of work did so far (it stays open)."""
        await self.session.rollback()
        forget_refreshes(self.session)
