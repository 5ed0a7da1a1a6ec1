"""Pacing of outgoing messages: about one a second into a private chat, at most
`group_limit` a minute into a group (sliding windows).

`Pacer` counts in this process, for a bounded number of chats (least recently used are
forgotten: their windows have long passed). `RedisPacer` shares the count between instances
through Redis (`REDIS_URL`): a slot is taken atomically by a Lua script, so two instances
together keep the group's 20 a minute. Both keep a local picture (`paced_chats`,
`allowance`) that the delivery worker uses to leave paced chats out of its query; `acquire`
is the authoritative check before each message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

MAX_CHATS = 10_000


class Pacer:
    def __init__(
        self,
        *,
        group_limit: int = 20,
        group_window: timedelta = timedelta(minutes=1),
        private_interval: timedelta = timedelta(seconds=1),
        max_chats: int = MAX_CHATS,
    ) -> None:
        self.group_limit = group_limit
        self.group_window = group_window
        self.private_interval = private_interval
        self._max_chats = max_chats
        self._windows: OrderedDict[int, deque[datetime]] = OrderedDict()
        self._blocked: dict[int, datetime] = {}

    def rule(self, chat_id: int) -> tuple[int, timedelta] | None:
        """(messages, per window) for a chat; None when it is not paced."""
        if chat_id > 0:
            return (1, self.private_interval) if self.private_interval > timedelta(0) else None
        return (self.group_limit, self.group_window) if self.group_limit else None

    def _window(self, chat_id: int, now: datetime, span: timedelta) -> deque[datetime] | None:
        window = self._windows.get(chat_id)
        if window is None:
            return None
        self._windows.move_to_end(chat_id)
        while window and window[0] <= now - span:
            window.popleft()
        return window

    def next_slot(self, chat_id: int, now: datetime) -> datetime | None:
        """None when a message may go now (as far as this process knows), else when it may."""
        blocked = self._blocked.get(chat_id)
        if blocked is not None:
            if blocked > now:
                return blocked
            del self._blocked[chat_id]
        rule = self.rule(chat_id)
        if rule is None:
            return None
        limit, span = rule
        window = self._window(chat_id, now, span)
        if window is not None and len(window) >= limit:
            return window[0] + span
        return None

    def allowance(self, chat_id: int, now: datetime, most: int) -> int:
        """How many messages may go into the chat now (at most `most`)."""
        if self.next_slot(chat_id, now) is not None:
            return 0
        rule = self.rule(chat_id)
        if rule is None:
            return most
        window = self._window(chat_id, now, rule[1])
        return min(most, rule[0] - (len(window) if window else 0))

    def record(self, chat_id: int, now: datetime) -> None:
        """A message (or an edit, a new topic) went into the chat."""
        rule = self.rule(chat_id)
        if rule is None:
            return
        window = self._windows.get(chat_id)
        if window is None:
            window = self._windows[chat_id] = deque()
            while len(self._windows) > self._max_chats:
                self._windows.popitem(last=False)
        self._windows.move_to_end(chat_id)
        window.append(now)
        slot = self.next_slot(chat_id, now)
        if slot is not None:
            self._blocked[chat_id] = slot

    async def acquire(self, chat_id: int, now: datetime) -> datetime | None:
        """Take a slot for one message: None when taken, else the earliest moment one frees."""
        slot = self.next_slot(chat_id, now)
        if slot is None:
            self.record(chat_id, now)
        return slot

    def paced_chats(self, now: datetime) -> list[int]:
        """Chats that may not get a message now, as far as this process knows."""
        for chat_id, until in list(self._blocked.items()):
            if until <= now:
                del self._blocked[chat_id]
        return list(self._blocked)

    def earliest_slot(self) -> datetime | None:
        return min(self._blocked.values(), default=None)

    async def close(self) -> None:
        return None


# Sliding window in a sorted set: drop what left the window, then take a slot if one is free
# (ARGV[5] = "1" records without checking). Returns -1 when taken, else when one frees (ms).
_TAKE = """
local key, now, span, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
if ARGV[5] == '1' or redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, span)
  return -1
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + span
"""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisPacer(Pacer):
    """The same windows kept in Redis, shared by every instance with the same `prefix`."""

    def __init__(self, redis: Any, *, prefix: str, **rules: Any) -> None:
        super().__init__(**rules)
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_TAKE)
        self._pending: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_url(cls, url: str, *, prefix: str, **rules: Any) -> RedisPacer:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), prefix=prefix, **rules)

    async def _take(self, chat_id: int, now: datetime, *, force: bool) -> datetime | None:
        rule = self.rule(chat_id)
        if rule is None:
            return None
        limit, span = rule
        result = await self._script(
            keys=[f"{self._prefix}:pace:{chat_id}"],
            args=[
                _ms(now),
                int(span.total_seconds() * 1000),
                limit,
                uuid.uuid4().hex,
                "1" if force else "0",
            ],
        )
        if int(result) < 0:
            return None
        return datetime.fromtimestamp(int(result) / 1000, tz=UTC)

    async def acquire(self, chat_id: int, now: datetime) -> datetime | None:
        try:
            slot = await self._take(chat_id, now, force=False)
        except Exception as error:  # Redis away: pace on our own rather than stop sending
            log.warning("shared pacing unavailable, pacing in this process: %r", error)
            return await super().acquire(chat_id, now)
        if slot is None:
            super().record(chat_id, now)
        else:
            self._blocked[chat_id] = max(slot, self._blocked.get(chat_id, slot))
        return slot

    def record(self, chat_id: int, now: datetime) -> None:
        super().record(chat_id, now)
        task = asyncio.ensure_future(self._record_shared(chat_id, now))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record_shared(self, chat_id: int, now: datetime) -> None:
        try:
            await self._take(chat_id, now, force=True)
        except Exception as error:
            log.warning("shared pacing unavailable, call not counted: %r", error)

    async def flush(self) -> None:
        """Wait until every recorded call has reached Redis."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def close(self) -> None:
        await self.flush()
        await self._redis.aclose()
