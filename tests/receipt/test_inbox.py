"""Receipt of updates: stored before confirmed, handled once, unreadable ones kept, left-overs
handled after a restart; the webhook answers 200 only once the update is stored."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.telegram.inbox import Inbox
from storage.inbox_models import INBOX
from storage.inbox_store import InboxStore, Received
from tests.receipt.conftest import Receipt, raw, stored_texts
from tests.staff.conftest import IVAN, MARIA, STAFF, deliver, open_ticket, ticket


def _inbox(receipt: Receipt, **limits: Any) -> Inbox:
    """The desk's inbox on its own, alone on its database, with `limits` of its own."""
    app = receipt.desk.app
    return Inbox(
        app.bot,
        app.dispatcher,
        app.database,
        app.clock,
        lease=timedelta(seconds=30),
        single_instance=True,
        **limits,
    )


async def _stored_texts(receipt: Receipt, chat_id: int) -> list[str]:
    return await stored_texts(receipt.desk.database, chat_id)


async def _states(receipt: Receipt) -> dict[int, str]:
    async with receipt.desk.database.engine.connect() as connection:
        rows = await connection.execute(select(INBOX.c.update_id, INBOX.c.state))
        return {int(update_id): str(state) for update_id, state in rows}


async def _topic_texts(receipt: Receipt, ticket_id: int) -> list[str]:
    await deliver(receipt.desk)
    topic = (await ticket(receipt.desk, ticket_id)).topic_id
    return receipt.desk.fake.texts_to(STAFF, thread_id=topic)


async def test_each_batch_is_stored_before_the_next_poll_confirms_it(receipt: Receipt) -> None:
    opened = await open_ticket(receipt.desk, IVAN)
    assert opened.id is not None
    updates = [raw(receipt.desk.updates.text(IVAN, f"message {n}")) for n in range(1, 4)]
    receipt.queue.push(*updates[:2])
    await receipt.poll_until_drained()
    receipt.queue.push(updates[2])
    await receipt.poll_until_drained()

    confirmed = [uid for c in receipt.queue.confirmations for uid in c.confirmed]
    assert confirmed == [u["update_id"] for u in updates]
    for confirmation in receipt.queue.confirmations:
        assert set(confirmation.confirmed) <= confirmation.in_inbox
    assert await _stored_texts(receipt, IVAN.id) == ["message 1", "message 2", "message 3"]
    assert set((await _states(receipt)).values()) == {"done"}
    assert (await _topic_texts(receipt, opened.id))[-3:] == ["message 1", "message 2", "message 3"]


async def test_polling_waits_while_many_taken_updates_are_not_handled_yet(
    receipt: Receipt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog waits at Telegram, not in the bot's memory: no update is asked for while the
    updates taken and not handled yet reach the limit, and every one is handled in the end."""
    opened = await open_ticket(receipt.desk, IVAN)
    assert opened.id is not None
    receipt.inbox = _inbox(receipt, max_taken=3)
    waiting_at_poll: list[int] = []
    answer = receipt.queue.answer

    async def counting(params: dict[str, Any]) -> list[dict[str, Any]]:
        waiting_at_poll.append(receipt.inbox.running)
        return await answer(params)

    monkeypatch.setattr(receipt.queue, "answer", counting)
    texts = [f"message {n}" for n in range(1, 7)]
    receipt.queue.push(*(raw(receipt.desk.updates.text(IVAN, text)) for text in texts))
    await receipt.poll_until_drained()

    assert len(waiting_at_poll) >= 2  # six taken in one batch, then the poll that confirms them
    assert max(waiting_at_poll) < 3
    assert await _stored_texts(receipt, IVAN.id) == texts
    assert set((await _states(receipt)).values()) == {"done"}


async def test_an_unreadable_update_is_kept_and_polling_goes_on(receipt: Receipt) -> None:
    opened = await open_ticket(receipt.desk, IVAN)
    assert opened.id is not None
    before = raw(receipt.desk.updates.text(IVAN, "before"))
    broken = {"update_id": before["update_id"] + 1, "message": {"message_id": "not a number"}}
    after = raw(receipt.desk.updates.text(IVAN, "after"))
    after["update_id"] = before["update_id"] + 2
    receipt.queue.push(before, broken, after)

    await receipt.poll_until_drained()

    assert receipt.queue.pending == []  # everything confirmed: polling did not stop
    assert await _states(receipt) == {
        before["update_id"]: "done",
        broken["update_id"]: "unreadable",
        after["update_id"]: "done",
    }
    async with receipt.desk.database.engine.connect() as connection:
        kept = (
            await connection.execute(
                select(INBOX.c.payload, INBOX.c.error).where(
                    INBOX.c.update_id == broken["update_id"]
                )
            )
        ).one()
    assert json.loads(kept.payload) == broken
    assert "message_id" in kept.error
    assert await _stored_texts(receipt, IVAN.id) == ["before", "after"]


async def test_an_update_delivered_again_is_handled_once(receipt: Receipt) -> None:
    opened = await open_ticket(receipt.desk, IVAN)
    assert opened.id is not None
    update = raw(receipt.desk.updates.text(IVAN, "only once"))
    receipt.queue.push(update)
    await receipt.poll_until_drained()
    receipt.queue.push(update)  # Telegram sends it again (as after a lost confirmation)
    await receipt.poll_until_drained()

    assert await _stored_texts(receipt, IVAN.id) == ["only once"]
    assert (await _topic_texts(receipt, opened.id)).count("only once") == 1


async def test_updates_a_killed_process_had_stored_are_handled_at_the_next_start(
    receipt: Receipt,
) -> None:
    ivan = await open_ticket(receipt.desk, IVAN)
    maria = await open_ticket(receipt.desk, MARIA)
    assert ivan.id is not None and maria.id is not None
    updates = [
        raw(receipt.desk.updates.text(IVAN, "stored, then the process died")),
        raw(receipt.desk.updates.text(MARIA, "me too")),
    ]
    now = receipt.desk.clock.now()
    dead = InboxStore(receipt.desk.database, instance="dead-process")
    claimed = await dead.receive(
        [Received(u["update_id"], json.dumps(u)) for u in updates],
        now=now,
        lease_until=now + timedelta(minutes=10),
    )
    assert len(claimed) == 2  # claimed by the process that then died

    restarted = receipt.rebuild()
    assert await restarted.take_left_over(at_start=True) == 2
    assert await restarted.settle(20)

    assert await _stored_texts(receipt, IVAN.id) == ["stored, then the process died"]
    assert await _stored_texts(receipt, MARIA.id) == ["me too"]
    assert set((await _states(receipt)).values()) == {"done"}
    assert "me too" in await _topic_texts(receipt, maria.id)


async def test_with_several_instances_a_dead_ones_updates_wait_for_its_lease(
    receipt: Receipt,
) -> None:
    await open_ticket(receipt.desk, IVAN)
    update = raw(receipt.desk.updates.text(IVAN, "held by a dead instance"))
    now = receipt.desk.clock.now()
    lease = timedelta(seconds=30)
    dead = InboxStore(receipt.desk.database, instance="dead-instance")
    await dead.receive(
        [Received(update["update_id"], json.dumps(update))], now=now, lease_until=now + lease
    )
    app = receipt.desk.app
    other = Inbox(
        app.bot, app.dispatcher, app.database, app.clock, lease=lease, single_instance=False
    )

    assert await other.take_left_over(at_start=True) == 0  # the lease still runs
    receipt.desk.clock.advance(lease + timedelta(seconds=1))
    assert await other.take_left_over() == 1
    assert await other.settle(20)
    assert await _stored_texts(receipt, IVAN.id) == ["held by a dead instance"]


async def test_the_webhook_answers_200_only_once_the_update_is_stored(receipt: Receipt) -> None:
    opened = await open_ticket(receipt.desk, IVAN)
    assert opened.id is not None
    web_app = web.Application()
    web_app.router.add_post("/hook/path", receipt.inbox.webhook_handler("s3cret"))
    update = raw(receipt.desk.updates.text(IVAN, "through the webhook"))
    broken = {"update_id": update["update_id"] + 1, "callback_query": {"id": 5}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    async with TestClient(TestServer(web_app)) as client:
        refused = await client.post("/hook/path", json=update)
        assert refused.status == 401
        assert await _states(receipt) == {}
        accepted = await client.post("/hook/path", json=update, headers=headers)
        assert accepted.status == 200
        assert update["update_id"] in await _states(receipt)  # stored when 200 came
        unreadable = await client.post("/hook/path", json=broken, headers=headers)
        assert unreadable.status == 200  # kept; Telegram need not send it again
        again = await client.post("/hook/path", json=update, headers=headers)
        assert again.status == 200
        assert await receipt.inbox.settle(20)

    assert await _states(receipt) == {
        update["update_id"]: "done",
        broken["update_id"]: "unreadable",
    }
    assert await _stored_texts(receipt, IVAN.id) == ["through the webhook"]


async def test_a_stop_finishes_what_runs_and_leaves_the_rest_for_the_next_start(
    receipt: Receipt,
) -> None:
    await open_ticket(receipt.desk, IVAN)
    inbox = _inbox(receipt, concurrency=1)
    updates = [raw(receipt.desk.updates.text(IVAN, f"burst {n}")) for n in range(1, 4)]
    await inbox.receive(updates)
    async with receipt.desk.app.database.write_lock():
        await asyncio.sleep(0)  # the first update starts (and waits for the database)
        stopping = asyncio.create_task(inbox.drain(20))  # the bot stops
        await asyncio.sleep(0)
    assert await stopping

    assert await _stored_texts(receipt, IVAN.id) == ["burst 1"]
    ids = [u["update_id"] for u in updates]
    assert await _states(receipt) == {ids[0]: "done", ids[1]: "pending", ids[2]: "pending"}
    restarted = receipt.rebuild()
    assert await restarted.take_left_over(at_start=True) == 2
    assert await restarted.settle(20)
    assert await _stored_texts(receipt, IVAN.id) == ["burst 1", "burst 2", "burst 3"]


async def test_a_batch_that_could_not_be_stored_is_not_confirmed(receipt: Receipt) -> None:
    await open_ticket(receipt.desk, IVAN)
    update = raw(receipt.desk.updates.text(IVAN, "kept despite the outage"))
    store = receipt.inbox.store
    real_receive = store.receive
    failures: list[int] = []

    async def database_down_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise OperationalError("INSERT", {}, Exception("the database is not reachable"))
        return await real_receive(*args, **kwargs)

    store.receive = database_down_once  # type: ignore[method-assign]
    receipt.queue.push(update)
    await receipt.poll_until_drained()

    assert failures == [1]
    # Asked for the same updates again (offset unchanged), confirmed only once stored.
    assert receipt.queue.offsets[:2] == [None, None]
    assert [c.confirmed for c in receipt.queue.confirmations] == [[update["update_id"]]]
    assert all(set(c.confirmed) <= c.in_inbox for c in receipt.queue.confirmations)
    assert await _stored_texts(receipt, IVAN.id) == ["kept despite the outage"]
