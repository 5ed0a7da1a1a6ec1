"""One agent pressing Take, as its own process: `python -m tests.staff.take_contender URL
TICKET_ID AGENT_ID AGENT_NAME`. Prints what the agent was told, as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

from bot.app import build_app
from bot.domain.clock import FrozenClock
from bot.services.desk import AgentRef, DeskError
from storage.db import create_engine
from storage.unit_of_work import Database
from tests.harness import make_settings
from tests.telegram_fake import FakeTelegram


async def take(url: str, ticket_id: int, agent: AgentRef) -> dict[str, object]:
    clock = FrozenClock(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    database = Database(create_engine(url))
    app = build_app(
        make_settings(url), clock=clock, session=FakeTelegram(clock=clock), database=database
    )
    assert app.staff is not None
    print("ready", flush=True)
    sys.stdin.readline()  # the test says go once it holds the ticket's row
    try:
        await app.staff.desk.take(ticket_id, agent, cause=f"process:{agent.user_id}")
    except DeskError as error:
        return {"refused": error.key, **{k: str(v) for k, v in error.params.items()}}
    finally:
        await app.close()
    return {"taken": True}


def main() -> None:
    url, ticket_id, agent_id, name = sys.argv[1:5]
    told = asyncio.run(take(url, int(ticket_id), AgentRef(int(agent_id), name)))
    print(json.dumps(told), flush=True)


if __name__ == "__main__":
    main()
