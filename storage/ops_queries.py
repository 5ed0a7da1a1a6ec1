"""What the health check and the metrics endpoint read from the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Ticket
from storage.outbox_models import OUTBOX


@dataclass(frozen=True)
class DeskGauges:
    outbox_depth: int  # rows waiting to be sent or being sent
    oldest_due: datetime | None  # the oldest pending row that is due now
    open_by_status: dict[str, int]


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database; raises when it is unreachable."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def desk_gauges(engine: AsyncEngine, *, now: datetime, statuses: Sequence[str]) -> DeskGauges:
    async with engine.connect() as connection:
        depth = await connection.scalar(
            select(func.count()).where(OUTBOX.c.status.in_(("pending", "sending")))
        )
        oldest = await connection.scalar(
            select(func.min(OUTBOX.c.next_attempt_at)).where(
                OUTBOX.c.status == "pending", OUTBOX.c.next_attempt_at <= now
            )
        )
        rows = (
            await connection.execute(
                select(Ticket.status, func.count())  # type: ignore[call-overload]
                .where(Ticket.status.in_(list(statuses)))  # type: ignore[attr-defined]
                .group_by(Ticket.status)
            )
        ).all()
    return DeskGauges(int(depth or 0), oldest, {status: count for status, count in rows})
