"""The real bot process under traffic: customers with open tickets writing, agents replying in
the tickets' topics, and the accounting of every message at the local Bot API."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.clock import SystemClock
from bot.domain.sla import SlaPolicy
from bot.services.customers import CustomerService, TelegramProfile
from bot.services.intake import ComplaintForm
from bot.services.tickets import TicketService
from sandbox.emulator.local import LocalBotApi
from storage.db import create_engine
from storage.inbox_store import InboxStore
from storage.migrate import upgrade_database
from storage.unit_of_work import Database
from tests.conftest import POSTGRES_URL
from tests.postgres import temporary_database

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "42:LOCAL"
STAFF = -1009876543210
CUSTOMERS = 20
MESSAGES_EACH = 6  # 120 customer messages
REPLIES_EACH = 4  # 80 agent replies
AGENTS = (9001, 9002)
FIRST_CUSTOMER = 7001
TRAFFIC_INTERVAL = 0.03  # seconds between two updates: about 30 updates a second
STOP_AFTER_UPDATES = 90
# Rows a killed process had claimed in the outbox wait for their delivery lease before they
# are sent again; accounting waits that long (a few seconds once leases are reclaimed on start).
ACCOUNT_WITHIN = 150.0
EXIT_WITHIN = 5.0


def customer_name(index: int) -> str:
    return f"Cust{index:02d}"


def _customer_marker(index: int, n: int) -> str:
    return f"c{index:02d}-{n}"


def _reply_marker(index: int, n: int) -> str:
    return f"a{index:02d}-{n}"


async def seed(url: str) -> None:
    """20 customers, each with an open complaint (no topic yet: the bot makes them)."""
    database = Database(create_engine(url))
    try:
        await upgrade_database(database.engine)
        clock = SystemClock()
        customers = CustomerService(database, clock, default_locale="en")
        tickets = TicketService(database, clock, SlaPolicy())
        for index in range(CUSTOMERS):
            customer = await customers.register(
                TelegramProfile(FIRST_CUSTOMER + index, customer_name(index), None, None, "en")
            )
            assert customer.id is not None
            await tickets.open_complaint(
                customer_id=customer.id,
                form=ComplaintForm(
                    category="delivery", description="The parcel is late", incident_date=None
                ),
            )
    finally:
        await database.dispose()


@dataclass
class Traffic:
    api: LocalBotApi
    customer_messages: dict[tuple[int, int], str] = field(default_factory=dict)  # id -> marker
    replies: dict[str, int] = field(default_factory=dict)  # marker -> customer chat
    pushed: int = 0
    halfway: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Customers write round by round; an agent answers each customer once the ticket's
        topic exists (replies wait for it)."""
        writes = [(i, n) for n in range(MESSAGES_EACH) for i in range(CUSTOMERS)]
        answers = [(i, n) for n in range(REPLIES_EACH) for i in range(CUSTOMERS)]
        while writes or answers:
            if writes:
                index, n = writes.pop(0)
                chat = FIRST_CUSTOMER + index
                marker = _customer_marker(index, n)
                message_id = await self.api.customer_writes(chat, marker)
                self.customer_messages[(chat, message_id)] = marker
                self._count()
            for position, (index, n) in enumerate(answers):
                topic = self._topic_seen_by_agents(FIRST_CUSTOMER + index)
                if topic is None:
                    continue
                marker = _reply_marker(index, n)
                await self.api.agent_writes(AGENTS[index % 2], topic, marker)
                self.replies[marker] = FIRST_CUSTOMER + index
                self._count()
                del answers[position]
                break
            await asyncio.sleep(TRAFFIC_INTERVAL)  # customers' pace, not a test's wait

    def _count(self) -> None:
        self.pushed += 1
        if self.pushed >= STOP_AFTER_UPDATES:
            self.halfway.set()

    def _topic_seen_by_agents(self, chat: int) -> int | None:
        """Agents answer in the topic where they saw the customer's latest message."""
        return next(
            (
                c.thread_id
                for c in reversed(self.api.copies)
                if c.from_chat_id == chat and c.chat_id == STAFF
            ),
            None,
        )

    def account(self) -> Report:
        api = self.api
        names = {FIRST_CUSTOMER + i: customer_name(i) for i in range(CUSTOMERS)}
        in_topic = Counter(
            (c.from_chat_id, c.message_id)
            for c in api.copies
            if c.chat_id == STAFF
            and c.thread_id is not None
            and names[c.from_chat_id] in api.topics.get(c.thread_id, "")
        )
        answered: Counter[str] = Counter()
        for text in api.texts:
            for marker, chat in self.replies.items():
                if text.chat_id == chat and text.text.endswith("\n" + marker):
                    answered[marker] += 1
        return Report(
            customer_lost=sorted(
                marker for key, marker in self.customer_messages.items() if not in_topic[key]
            ),
            replies_lost=sorted(marker for marker in self.replies if not answered[marker]),
            customer_duplicates=sum(count - 1 for count in in_topic.values() if count > 1),
            reply_duplicates=sum(count - 1 for count in answered.values() if count > 1),
            topics=len(api.topics),
        )


@dataclass(frozen=True)
class Report:
    customer_lost: list[str]
    replies_lost: list[str]
    customer_duplicates: int
    reply_duplicates: int
    topics: int

    @property
    def complete(self) -> bool:
        return not self.customer_lost and not self.replies_lost


class BotProcess:
    def __init__(self, env: dict[str, str], log_file: Path) -> None:
        self._env = env
        self._log_file = log_file
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, ready: str = "started") -> None:
        with self._log_file.open("a") as log:
            log.write("\n--- start ---\n")
        log = self._log_file.open("a")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=self._env, stderr=log, stdout=log
            )
        finally:
            log.close()
        await self._wait_for(ready, 90)

    async def _wait_for(self, marker: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        start = self._log_file.read_text().rfind("--- start ---")
        while marker not in self._log_file.read_text()[start:]:
            assert self.process is not None
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"the bot did not start: {self._log_file.read_text()}")
            await asyncio.sleep(0.1)

    async def stop(self, signal_number: int) -> tuple[int, float]:
        """Send the signal; the exit code and how long the process took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal_number)
        code = await asyncio.wait_for(self.process.wait(), 60)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    @property
    def log(self) -> str:
        return self._log_file.read_text()


@asynccontextmanager
async def database_url(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
        return
    assert POSTGRES_URL
    async with temporary_database(POSTGRES_URL, prefix="bot_kill") as url:
        yield url


async def wait_accounted(traffic: Traffic, seconds: float) -> Report:
    deadline = time.monotonic() + seconds
    report = traffic.account()
    while not report.complete and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        report = traffic.account()
    return report


def bot_env(database: str, api_port: int, **extra: str) -> dict[str, str]:
    """The environment of a bot process serving the desk of the traffic."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.pop("REDIS_URL", None)
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=f"http://127.0.0.1:{api_port}",
        DATABASE_URL=database,
        STAFF_CHAT_ID=str(STAFF),
        STAFF_USER_IDS=",".join(str(a) for a in AGENTS),
        STAFF_GROUP_MESSAGES_PER_MINUTE="0",
        PRIVATE_CHAT_MIN_INTERVAL_SECONDS="0",
        BOT_MESSAGES_PER_SECOND="0",
        DEFAULT_LOCALE="en",
        INBOX_LEASE_SECONDS="3",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def local_api() -> LocalBotApi:
    api = LocalBotApi(token=TOKEN, staff_chat_id=STAFF)
    for index in range(CUSTOMERS):
        api.add_user(FIRST_CUSTOMER + index, customer_name(index))
    for agent in AGENTS:
        api.add_user(agent, f"Agent{agent}")
    return api


async def inbox_states(url: str) -> dict[str, int]:
    """How many updates the inbox holds in each state."""
    database = Database(create_engine(url))
    try:
        return await InboxStore(database, instance="test").counts()
    finally:
        await database.dispose()
