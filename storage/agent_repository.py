"""The staff desk's agents. Methods take keyword-only arguments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from storage.repositories import _Repository
from storage.staff_models import Agent


class AgentRepository(_Repository):
    async def get(self, *, telegram_id: int) -> Agent | None:
        return await self.session.get(Agent, telegram_id)

    async def upsert(
        self, *, telegram_id: int, display_name: str, username: str | None, now: datetime
    ) -> Agent:
        agent = await self.session.get(Agent, telegram_id)
        if agent is None:
            agent = Agent(
                telegram_id=telegram_id,
                display_name=display_name,
                username=username,
                updated_at=now,
            )
        elif (agent.display_name, agent.username) == (display_name, username):
            return self._held(agent)
        else:
            agent.display_name = display_name
            agent.username = username
            agent.updated_at = now
        self.session.add(agent)
        await self.session.flush()
        return self._held(agent)

    def _held(self, agent: Agent) -> Agent:
        """Keep the acting agent in the session until it ends: its identity map holds only
        what is referenced, and assigning the ticket to that agent later in the unit of work
        then reads no row again."""
        self.session.info.setdefault("acting_agents", []).append(agent)
        return agent

    async def by_username(self, *, username: str) -> Agent | None:
        result = await self.session.exec(
            select(Agent).where(func.lower(Agent.username) == username.lower().lstrip("@"))
        )
        return result.first()

    async def all(self) -> Sequence[Agent]:
        result = await self.session.exec(
            select(Agent).order_by(col(Agent.available).desc(), col(Agent.display_name))
        )
        return result.all()

    async def by_ids(self, *, ids: Sequence[int]) -> Sequence[Agent]:
        if not ids:
            return []
        result = await self.session.exec(select(Agent).where(col(Agent.telegram_id).in_(ids)))
        return result.all()

    async def save(self, *, agent: Agent) -> None:
        self.session.add(agent)
        await self.session.flush()
