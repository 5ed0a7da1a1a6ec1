"""Conversation state storage on SQLite and PostgreSQL: batched writes, restarts, clearing."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from bot.domain.clock import FrozenClock
from bot.telegram.fsm_storage import DatabaseStorage
from storage.fsm_store import fsm_store_for
from storage.models import FsmRecord
from storage.unit_of_work import Database

KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)
OTHER = StorageKey(bot_id=42, chat_id=8, user_id=8)


async def test_state_and_data_survive_a_new_storage(
    any_database: Database, clock: FrozenClock
) -> None:
    first = DatabaseStorage(fsm_store_for(any_database), clock)
    await first.set_state(KEY, "ComplaintFlow:filling")
    await first.set_data(KEY, {"step": "description", "answers": {"category": "другое"}})
    await first.close()
    second = DatabaseStorage(fsm_store_for(any_database), clock)
    assert await second.get_state(KEY) == "ComplaintFlow:filling"
    assert await second.get_data(KEY) == {
        "step": "description",
        "answers": {"category": "другое"},
    }
    assert await second.get_state(OTHER) is None
    await second.close()


async def test_a_batch_is_written_once_at_its_end(
    any_database: Database, clock: FrozenClock
) -> None:
    storage = DatabaseStorage(fsm_store_for(any_database), clock)
    async with storage.batch():
        await storage.set_state(KEY, "ComplaintFlow:summary")
        await storage.set_data(KEY, {"answers": {"description": "x" * 20}})
        fresh = DatabaseStorage(fsm_store_for(any_database), clock)
        assert await fresh.get_state(KEY) is None  # nothing written yet
        await fresh.close()
    reader = DatabaseStorage(fsm_store_for(any_database), clock)
    assert await reader.get_state(KEY) == "ComplaintFlow:summary"
    await reader.close()
    await storage.close()


async def test_clearing_removes_the_row(any_database: Database, clock: FrozenClock) -> None:
    storage = DatabaseStorage(fsm_store_for(any_database), clock)
    await storage.set_state(KEY, "ComplaintFlow:filling")
    async with any_database.unit_of_work() as uow:
        assert await uow.session.get(FsmRecord, "fsm:7:7:default") is not None
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    async with any_database.unit_of_work() as uow:
        assert await uow.session.get(FsmRecord, "fsm:7:7:default") is None
    await storage.close()


async def test_data_handed_out_is_a_copy(any_database: Database, clock: FrozenClock) -> None:
    storage = DatabaseStorage(fsm_store_for(any_database), clock)
    await storage.set_data(KEY, {"answers": {"files": []}})
    data = await storage.get_data(KEY)
    data["answers"]["files"].append("changed")
    assert await storage.get_data(KEY) == {"answers": {"files": []}}
    await storage.close()
