"""Seed: a realistic week at the desk, played through the bot itself.

Customers (Russian and English) file complaints by pressing the form's buttons, ask the
knowledge base questions, answer agents and rate resolutions; agents take tickets, reply,
ask for details, resolve. Every step is an update the real bot handles, so the database, the
topics, the cards, the statistics and the sweeps' warnings, escalations, surveys and auto-close
all come from the bot's own code. The sandbox clock moves a week forward while it plays.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.app import App
from bot.domain.form import Step, StepKind
from bot.jobs.scheduler import SweepRunner, build_runner
from sandbox import cast
from sandbox.emulator import TelegramUser
from sandbox.seed_chat import WAIT_SECONDS, ChatDriver
from sandbox.seed_texts import (
    AGENT_QUESTIONS,
    AGENT_REPLIES,
    COMPLAINTS,
    CUSTOMER_ANSWERS,
    DECISIONS,
    EN_NAMES,
    QUESTIONS,
    RU_NAMES,
)
from sandbox.world import SandboxWorld

log = logging.getLogger(__name__)


@dataclass
class Story:
    """One customer's week: what happens when (hours from the start of the seed)."""

    customer: TelegramUser
    category: str
    text: str
    agent: TelegramUser
    number: str | None = None
    thread_id: int | None = None
    steps: list[tuple[float, str, Callable[[], Awaitable[None]]]] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return self.customer.language_code or "ru"


class SeedError(RuntimeError):
    pass


class Seeder:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.chat = ChatDriver(world)
        self.app: App | None = None
        self._lock = asyncio.Lock()
        self._ids = itertools.count(200_001)
        self._sweeps: SweepRunner | None = None

    def attach(self, app: App) -> None:
        self.app = app
        self._sweeps = build_runner(
            app.settings, app.database, app.clock, app.tickets.sla, app.catalogs
        )
        self.world.clock_listeners.append(self.catch_up)

    async def catch_up(self) -> None:
        """After a jump of the clock: run the sweeps now and send what they queued at once
        (the bot would otherwise find it on its next scheduled tick and delivery poll)."""
        if self._sweeps is not None:
            await self._sweeps.safe_tick()
        if self.app is not None and self.app.staff is not None:
            self.app.staff.delivery.notify()

    async def run(self) -> dict[str, Any]:
        if self.app is None:
            raise SeedError("the bot is still starting; try again in a moment")
        if self._lock.locked():
            raise SeedError("a seed is already running")
        async with self._lock:
            return await self._play()

    # ------------------------------------------------------------------------ the week

    async def _play(self) -> dict[str, Any]:
        stories = self._stories()
        questions = self._questions()
        timeline: list[tuple[float, int, str, Callable[[], Awaitable[None]]]] = []
        order = itertools.count()
        for story in stories:
            timeline.extend(
                (at, next(order), f"{what} ({story.customer.full_name})", step)
                for at, what, step in story.steps
            )
        timeline.extend((at, next(order), "question", step) for at, step in questions)
        timeline.sort(key=lambda item: (item[0], item[1]))
        start = self.world.clock.now()
        failed = 0
        for index, (at, _, what, step) in enumerate(timeline, start=1):
            await self._move_clock_to(start + timedelta(hours=at))
            try:
                await step()
                await self._quiet()
            except (SeedError, TimeoutError) as error:
                failed += 1
                log.warning(
                    "seed step %s skipped: %s",
                    what,
                    error or "the bot did not answer in time",
                )
            self._progress(f"Seeding a week: {index} of {len(timeline)} steps")
        await self._move_clock_to(start + timedelta(days=7))
        opened = sum(1 for s in stories if s.number)
        summary = (
            f"Seeded a week: {len(stories)} customers filed {opened} complaints and asked "
            f"{len(questions)} questions; the clock is now a week ahead."
        )
        if failed:
            summary += f" {failed} step(s) were skipped (see the log)."
        self.world.events.publish({"type": "seeded", "text": summary})
        return {"summary": summary, "tickets": opened, "skipped": failed}

    async def _quiet(self) -> None:
        """Every update given to the bot is fetched and handled (before the clock moves on)."""
        assert self.app is not None
        await self.world.until(lambda: len(self.world.server.updates) == 0, WAIT_SECONDS)
        await self.app.in_flight.drain(WAIT_SECONDS)

    def _progress(self, text: str) -> None:
        self.world.events.publish({"type": "status", "text": text})

    async def _move_clock_to(self, moment: datetime) -> None:
        delta = moment - self.world.clock.now()
        if delta <= timedelta(seconds=1):
            return
        await self.world.advance(delta)

    def _people(self, count: int) -> list[TelegramUser]:
        names = [(n, "ru") for n in RU_NAMES] + [(n, "en") for n in EN_NAMES]
        people = []
        for index in range(count):
            (first, last), locale = names[(index * 5) % len(names)]
            user = TelegramUser(next(self._ids), first, last, None, locale)
            self.world.add_customer(
                cast.Customer(user, f"+7900{user.id:07d}" if locale == "ru" else "")
            )
            people.append(user)
        return people

    def _stories(self) -> list[Story]:
        plots = (
            ["rated"] * 7
            + ["low_rating"] * 2
            + ["unrated"] * 3
            + ["in_progress"] * 4
            + ["waiting"] * 3
            + ["new"] * 4
        )
        agents = [m.user for m in cast.STAFF if m.role == "agent"]
        categories = list(COMPLAINTS)
        stories = []
        for index, (user, plot) in enumerate(zip(self._people(len(plots)), plots, strict=True)):
            category = categories[index % len(categories)]
            texts = COMPLAINTS[category][user.language_code or "ru"]
            agent = agents[0] if user.language_code == "ru" else agents[1]
            story = Story(user, category, texts[index % len(texts)], agent)
            # Spread the week: older stories go further, recent ones stay open.
            day = (index * 7 / len(plots) + (index % 3) * 0.31) % 6.5
            self._plan(story, plot, day * 24 + 9 + index % 8)
            stories.append(story)
        return stories

    def _plan(self, story: Story, plot: str, at: float) -> None:
        steps = story.steps
        steps.append((at, "file", lambda: self._file(story)))
        if plot == "new":
            return
        steps.append((at + 1.5, "staff", lambda: self._staff(story, "/take")))
        reply = AGENT_REPLIES[story.locale][len(story.text) % 2]
        steps.append((at + 1.6, "staff", lambda: self._staff(story, reply)))
        if plot == "in_progress":
            answer = CUSTOMER_ANSWERS[story.locale]
            steps.append((at + 3, "customer_says", lambda: self._customer_says(story, answer)))
            return
        if plot == "waiting":
            question = AGENT_QUESTIONS[story.locale]
            steps.append((at + 2, "staff", lambda: self._staff(story, question)))
            steps.append(
                (at + 2.1, "staff", lambda: self._staff(story, "/status waiting_customer"))
            )
            return
        decision, texts = DECISIONS[len(story.text) % len(DECISIONS)]
        resolve = f"/resolve {decision} {texts[story.locale]}"
        steps.append((at + 20, "staff", lambda: self._staff(story, resolve)))
        if plot == "rated":
            score = 5 if len(story.text) % 3 else 4
            steps.append((at + 22, "rate", lambda: self._rate(story, score)))
        elif plot == "low_rating":
            steps.append((at + 22, "rate", lambda: self._rate(story, 2, reopen=True)))
            steps.append((at + 24, "staff", lambda: self._staff(story, "/take")))

    def _questions(self) -> list[tuple[float, Callable[[], Awaitable[None]]]]:
        planned: list[tuple[float, Callable[[], Awaitable[None]]]] = []
        people = self._people(8)
        for index, user in enumerate(people):
            texts = QUESTIONS[user.language_code or "ru"]
            text = texts[index % len(texts)]
            at = index * 19.0 + 11

            async def ask(user: TelegramUser = user, text: str = text) -> None:
                await self.chat.say_and_wait(user, text)

            planned.append((at, ask))
        return planned

    # ------------------------------------------------------------------------ customers

    def _labels(self, key: str, locale: str, **params: Any) -> str:
        assert self.app is not None
        return self.app.catalogs.plain(key, locale, **params)

    async def _file(self, story: Story) -> None:
        """The complaint form, answered the way a person would, step by step."""
        assert self.app is not None
        user, locale = story.customer, story.locale
        await self.chat.say_and_wait(user, "/start")
        await self.chat.press(user, self._labels("menu.complaint", locale))
        schema = self.app.form_schema
        answers: dict[str, Any] = {}
        for step in schema.steps:
            await self._answer(story, step, answers)
            if step.kind is StepKind.CATEGORY:
                chosen = schema.category(story.category)
                for extra in chosen.fields if chosen else ():
                    await self._answer(story, extra, answers)
        await self.chat.press(user, self._labels("form.button.submit", locale))
        story.number = await self.chat.until_number(user)
        story.thread_id = await self.chat.until_topic(story.number)

    async def _answer(self, story: Story, step: Step, answers: dict[str, Any]) -> None:
        user, locale = story.customer, story.locale
        assert self.app is not None
        if step.kind is StepKind.CATEGORY:
            category = self.app.form_schema.category(story.category)
            if category is None:
                raise SeedError(f"the form has no category {story.category!r}")
            await self.chat.press(user, category.title(locale))
        elif step.kind is StepKind.TEXT:
            # A field with a pattern is the order number; the free text is the complaint.
            text = f"{40_000_000 + user.id % 1_000_000}" if step.pattern else story.text
            await self.chat.say_and_wait(user, text)
        elif step.kind is StepKind.CHOICE:
            await self.chat.press(user, step.options[0].title(locale))
        elif step.kind is StepKind.DATE:
            await self.chat.press(user, self._labels("form.button.yesterday", locale))
        elif step.kind is StepKind.FILES:
            await self.chat.press(user, self._labels("form.button.skip", locale))
        elif step.kind is StepKind.CONTACT:  # asked with a reply keyboard
            if user.language_code == "ru":
                await self.chat.settled(self.world.share_contact(user.id), user.id)
            else:
                skip = self._labels("form.button.skip", locale)
                await self.chat.settled(
                    self.world.send_text(user.id, skip, from_keyboard=True), user.id
                )
        answers[step.id] = True

    async def _customer_says(self, story: Story, text: str) -> None:
        """A customer's answer in an open ticket shows in its topic (no reply in the chat)."""
        await self.chat.settled(self.world.send_text(story.customer.id, text), cast.STAFF_CHAT_ID)

    async def _rate(self, story: Story, score: int, *, reopen: bool = False) -> None:
        user = story.customer
        await self.chat.press(user, str(score))
        if reopen:
            await self.chat.press(user, self._labels("survey.button.reopen", story.locale))

    # ---------------------------------------------------------------------------- staff

    async def _staff(self, story: Story, text: str) -> None:
        """A command shows in the topic (card, notice); a reply reaches the customer."""
        if story.thread_id is None:
            raise SeedError(f"{story.customer.full_name}'s complaint has no topic")
        shows_in = cast.STAFF_CHAT_ID if text.startswith("/") else story.customer.id
        await self.chat.settled(
            self.world.send_text(
                story.agent.id, text, chat_id=cast.STAFF_CHAT_ID, thread_id=story.thread_id
            ),
            shows_in,
        )
