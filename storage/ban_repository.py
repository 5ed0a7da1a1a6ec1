"""Customers banned from the desk. Methods take keyword-only arguments."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from storage.repositories import _Repository
from storage.staff_models import CustomerBan


class BanRepository(_Repository):
    async def active(self, *, customer_id: int) -> CustomerBan | None:
        result = await self.session.exec(
            select(CustomerBan)
            .where(CustomerBan.customer_id == customer_id, col(CustomerBan.lifted_at).is_(None))
            .order_by(col(CustomerBan.id).desc())
        )
        return result.first()

    async def add(self, *, customer_id: int, banned_by: int | None, now: datetime) -> CustomerBan:
        ban = CustomerBan(customer_id=customer_id, banned_by=banned_by, banned_at=now)
        self.session.add(ban)
        await self.session.flush()
        return ban

    async def save(self, *, ban: CustomerBan) -> None:
        self.session.add(ban)
        await self.session.flush()
