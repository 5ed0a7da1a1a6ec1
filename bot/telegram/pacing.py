"""Pacing of outgoing messages: about one a second into a private chat, at most
`group_limit` a minute into a group and at most `overall_limit` a second over all chats
together (Telegram's "about 30 messages a second"; sliding windows).

`Pacer` counts in this process, for a bounded number of chats (least recently used are
forgotten: their windows have long passed). `RedisPacer` shares the count between instances
through Redis (`REDIS_URL`): a slot is taken atomically by a Lua script, so two instances
together keep the group's 20 a minute. Both keep a local picture (`paced_chats`,
`allowance`, `overall_slot`) that the delivery worker uses to leave paced chats out of its
query and to stop a round when the overall limit is reached; `acquire` is the authoritative
check before each message (of the chat's pace and the overall one together).
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
OVERALL_LIMIT = 30  # messages a second over all chats


class Pacer:
    def __init__(
        self,
        *,
        group_limit: int = 20,
        group_window: timedelta = timedelta(minutes=1),
        private_interval: timedelta = timedelta(seconds=1),
        overall_limit: int = OVERALL_LIMIT,
        overall_window: timedelta = timedelta(seconds=1),
        max_chats: int = MAX_CHATS,
    ) -> None:
        self.group_limit = group_limit
        self.group_window = group_window
        self.private_interval = private_interval
        self.overall_limit = overall_limit  # 0: no overall limit
        self.overall_window = overall_window
        self._max_chats = max_chats
        self._windows: OrderedDict[int, deque[datetime]] = OrderedDict()
        self._blocked: dict[int, datetime] = {}
        self._overall: deque[datetime] = deque()
        self._overall_until: datetime | None = None  # all chats wait until then

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

    def overall_slot(self, now: datetime) -> datetime | None:
        """None while the overall limit allows one more message now (as far as this process
        knows), else when it will."""
        if self._overall_until is not None:
            if self._overall_until > now:
                return self._overall_until
            self._overall_until = None
        if not self.overall_limit:
            return None
        while self._overall and self._overall[0] <= now - self.overall_window:
            self._overall.popleft()
        if len(self._overall) >= self.overall_limit:
            self._overall_until = self._overall[0] + self.overall_window
            return self._overall_until
        return None

    def overall_allowance(self, now: datetime, most: int) -> int:
        """How many messages may go now over all chats (at most `most`)."""
        if self.overall_slot(now) is not None:
            return 0
        if not self.overall_limit:
            return most
        return min(most, self.overall_limit - len(self._overall))

    def next_slot(self, chat_id: int, now: datetime) -> datetime | None:
        """None when a message may go now (as far as this process knows), else when it may."""
        return self._chat_slot(chat_id, now) or self.overall_slot(now)

    def _chat_slot(self, chat_id: int, now: datetime) -> datetime | None:
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
        if self.overall_limit:
            self._overall.append(now)
            self.overall_slot(now)
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
        slot = self._chat_slot(chat_id, now)
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
        self.overall_slot(now)  # forgets an overall wait that has passed
        return list(self._blocked)

    def earliest_slot(self) -> datetime | None:
        waits = [*self._blocked.values()]
        if self._overall_until is not None:
            waits.append(self._overall_until)
        return min(waits, default=None)

    async def close(self) -> None:
        return None


# Sliding windows in sorted sets (the chat's and the overall one; ARGV[2 + 2i], ARGV[3 + 2i]
# are the span and limit of KEYS[i]): drop what left each window, then take a slot in all of
# them if every one has room (ARGV[3] = "1" records without checking). Returns -1 when taken,
# else {index of the fullest key, when it frees (ms)}.
_TAKE = """
local now, member, force = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'
local wait, which = -1, 0
for i, key in ipairs(KEYS) do
  local span, limit = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  if not force and redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local free = tonumber(oldest[2]) + span
    if free > wait then wait, which = free, i end
  end
end
if wait >= 0 then return {which, wait} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return -1
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

    def _windows_of(self, chat_id: int) -> list[tuple[str, int, timedelta]]:
        """(key, limit, span) of every window a message into the chat counts in."""
        windows = []
        rule = self.rule(chat_id)
        if rule is not None:
            windows.append((f"{self._prefix}:pace:{chat_id}", rule[0], rule[1]))
        if self.overall_limit:
            windows.append((f"{self._prefix}:pace:all", self.overall_limit, self.overall_window))
        return windows

    async def _take(
        self, chat_id: int, now: datetime, *, force: bool
    ) -> tuple[datetime, bool] | None:
        """None when taken, else (when a slot frees, whether the overall window is full)."""
        windows = self._windows_of(chat_id)
        if not windows:
            return None
        args: list[object] = [_ms(now), uuid.uuid4().hex, "1" if force else "0"]
        for _key, limit, span in windows:
            args += [int(span.total_seconds() * 1000), limit]
        result = await self._script(keys=[key for key, _, _ in windows], args=args)
        if not isinstance(result, list):
            return None
        which, free = int(result[0]), int(result[1])
        overall = windows[which - 1][0].endswith(":pace:all")
        return datetime.fromtimestamp(free / 1000, tz=UTC), overall

    async def acquire(self, chat_id: int, now: datetime) -> datetime | None:
        try:
            taken = await self._take(chat_id, now, force=False)
        except Exception as error:  # Redis away: pace on our own rather than stop sending
            log.warning("shared pacing unavailable, pacing in this process: %r", error)
            return await super().acquire(chat_id, now)
        if taken is None:
            super().record(chat_id, now)
            return None
        slot, overall = taken
        if overall:
            self._overall_until = max(slot, self._overall_until or slot)
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
