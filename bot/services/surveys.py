"""Satisfaction surveys: sent after resolution, one reminder, ratings 1-5 with a comment.

A rating of 3 or more closes a resolved ticket; 1 or 2 alerts the ticket's topic and the
customer decides whether the ticket is reopened. A rating can be changed for
``change_window`` after it was first given; later changes are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import Actor, ActorKind, EventKind, TicketStatus
from bot.locales.catalog import Catalogs
from bot.services.outbox import enqueue_card_refresh
from bot.services.sweep_messages import Button, StaffTexts, text_payload
from bot.services.transitions import apply_transition
from storage.models import Ticket
from storage.sweep_repository import ClaimedTicket, EventDraft, OutboxDraft
from storage.unit_of_work import Database, UnitOfWork

SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)
LOW_SCORE = 2
SURVEY_PREFIX = "sv"
RATABLE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
MAX_COMMENT = 2000


def survey_callback(action: str, ticket_id: int, score: int = 0) -> str:
    """Callback data of a survey button, packed as the adapter's ``SurveyCallback`` does."""
    return f"{SURVEY_PREFIX}:{action}:{ticket_id}:{score}"


def is_low(score: int) -> bool:
    return score <= LOW_SCORE


@dataclass(frozen=True)
class SurveyConfig:
    staff_chat_id: int | None
    staff_locale: str
    delay: timedelta = timedelta(minutes=30)
    reminder_after: timedelta = timedelta(days=3)
    change_window: timedelta = timedelta(days=1)
    batch_size: int = 500


class RatingOutcome(StrEnum):
    RECORDED = "recorded"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    TOO_LATE = "too_late"
    NOT_RATABLE = "not_ratable"
    NOT_FOUND = "not_found"


class ReopenOutcome(StrEnum):
    REOPENED = "reopened"
    CLOSED = "closed"
    UNCHANGED = "unchanged"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class RatingResult:
    outcome: RatingOutcome
    number: str = ""
    score: int | None = None
    closed: bool = False
    """The rating closed the ticket (the customer is told so)."""

    @property
    def accepted(self) -> bool:
        return self.outcome in (
            RatingOutcome.RECORDED,
            RatingOutcome.CHANGED,
            RatingOutcome.UNCHANGED,
        )

    @property
    def low(self) -> bool:
        return self.accepted and self.score is not None and is_low(self.score)


@dataclass(frozen=True, slots=True)
class ReopenResult:
    outcome: ReopenOutcome
    number: str = ""


@dataclass
class SurveySweepReport:
    sent: int = 0
    reminded: int = 0


class SurveyService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: SurveyConfig,
    ) -> None:
        self._database = database
        self._clock = clock
        self._sla = sla
        self._catalogs = catalogs
        self._config = config
        self._staff = StaffTexts(catalogs, config.staff_locale, sla.calendar.timezone)

    # ----------------------------------------------------------------- sweeps

    async def run_once(self) -> SurveySweepReport:
        now = self._clock.now()
        return SurveySweepReport(
            sent=await self._send(now, reminder=False),
            reminded=await self._send(now, reminder=True),
        )

    async def _send(self, now: datetime, *, reminder: bool) -> int:
        async with self._database.unit_of_work() as uow:
            repo = uow.sweeps
            if reminder:
                claimed = await repo.claim_reminders(
                    sent_before=now - self._config.reminder_after,
                    now=now,
                    limit=self._config.batch_size,
                )
            else:
                claimed = await repo.claim_surveys(
                    resolved_before=now - self._config.delay,
                    now=now,
                    limit=self._config.batch_size,
                )
            if not claimed:
                return 0
            recipients = await repo.recipients(customer_ids=[t.customer_id for t in claimed])
            kind = "survey_reminder" if reminder else "survey_sent"
            messages: list[OutboxDraft] = []
            for ticket in claimed:
                recipient = recipients.get(ticket.customer_id)
                if recipient is None or not recipient.reachable:
                    continue
                messages.append(
                    self._survey_message(ticket, recipient.telegram_id, recipient.locale, kind)
                )
            await repo.add_events(
                events=[EventDraft(ticket_id=t.id, kind=kind, data={}) for t in claimed], at=now
            )
            await repo.enqueue(messages=messages, now=now)
        return len(claimed)

    def _survey_message(
        self, ticket: ClaimedTicket, chat_id: int, locale: str, kind: str
    ) -> OutboxDraft:
        key = "survey.reminder" if kind == "survey_reminder" else "survey.question"
        buttons = [
            [Button(str(score), survey_callback("rate", ticket.id, score)) for score in SCORES]
        ]
        return OutboxDraft(
            key=f"{kind}:{ticket.id}",
            chat_id=chat_id,
            ticket_id=ticket.id,
            payload=text_payload(self._catalogs.render(key, locale, number=ticket.number), buttons),
        )

    # ----------------------------------------------------------------- customer answers

    async def rate(self, *, customer_id: int, ticket_id: int, score: int) -> RatingResult:
        if score not in SCORES:
            raise ValueError(f"a rating is 1 to 5, got {score}")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket = await _owned(uow, customer_id, ticket_id)
            if ticket is None:
                return RatingResult(RatingOutcome.NOT_FOUND)
            assert ticket.id is not None
            if ticket.rating is None:
                if ticket.status not in RATABLE:
                    return RatingResult(RatingOutcome.NOT_RATABLE, ticket.number)
                outcome = RatingOutcome.RECORDED
                ticket.rated_at = now
                data: dict[str, object] = {"score": score}
            elif ticket.rated_at is not None and now - ticket.rated_at > self._config.change_window:
                return RatingResult(RatingOutcome.TOO_LATE, ticket.number, ticket.rating)
            elif ticket.rating == score:
                return RatingResult(RatingOutcome.UNCHANGED, ticket.number, score)
            else:
                outcome = RatingOutcome.CHANGED
                data = {"score": score, "previous": ticket.rating}
            ticket.rating = score
            ticket.updated_at = now
            await uow.tickets.save(ticket=ticket)
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                actor_kind=ActorKind.CUSTOMER,
                actor_id=customer_id,
                kind=EventKind.RATING
                if outcome is RatingOutcome.RECORDED
                else EventKind.RATING_CHANGED,
                data=data,
            )
            await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            if is_low(score):
                await self._alert_topic(uow, ticket, score, now)
            elif ticket.status is TicketStatus.RESOLVED:
                await apply_transition(
                    uow,
                    ticket=ticket,
                    target=TicketStatus.CLOSED,
                    actor=Actor.customer(customer_id),
                    now=now,
                    sla=self._sla,
                    comment="rated",
                )
                return RatingResult(outcome, ticket.number, score, closed=True)
            return RatingResult(outcome, ticket.number, score)

    async def comment(self, *, customer_id: int, ticket_id: int, text: str) -> bool:
        """Store the comment of a rating (replacing an earlier one) and show it to the topic."""
        now = self._clock.now()
        text = text.strip()[:MAX_COMMENT]
        if not text:
            return False
        async with self._database.unit_of_work() as uow:
            ticket = await _owned(uow, customer_id, ticket_id)
            if ticket is None or ticket.rating is None:
                return False
            assert ticket.id is not None
            ticket.rating_comment = text
            ticket.updated_at = now
            await uow.tickets.save(ticket=ticket)
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                actor_kind=ActorKind.CUSTOMER,
                actor_id=customer_id,
                kind=EventKind.RATING_COMMENT,
                comment=text,
                data={"score": ticket.rating},
            )
            await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            if self._config.staff_chat_id is not None:
                await uow.sweeps.enqueue(
                    messages=[
                        OutboxDraft(
                            key=f"survey-comment:{ticket.id}:{now.isoformat()}",
                            chat_id=self._config.staff_chat_id,
                            thread_id=ticket.topic_id,
                            ticket_id=ticket.id,
                            payload=text_payload(
                                self._staff.render(
                                    "survey.staff.comment",
                                    number=ticket.number,
                                    score=ticket.rating,
                                    comment=text,
                                ),
                                ticket_topic=True,
                            ),
                        )
                    ],
                    now=now,
                )
            return True

    async def decide(self, *, customer_id: int, ticket_id: int, reopen: bool) -> ReopenResult:
        """The customer's answer to "reopen the ticket?" after a low rating."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket = await _owned(uow, customer_id, ticket_id)
            if ticket is None:
                return ReopenResult(ReopenOutcome.NOT_FOUND)
            assert ticket.id is not None
            status = ticket.status
            if reopen and status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                target, outcome = TicketStatus.REOPENED, ReopenOutcome.REOPENED
            elif not reopen and status is TicketStatus.RESOLVED:
                target, outcome = TicketStatus.CLOSED, ReopenOutcome.CLOSED
            else:
                return ReopenResult(ReopenOutcome.UNCHANGED, ticket.number)
            await apply_transition(
                uow,
                ticket=ticket,
                target=target,
                actor=Actor.customer(customer_id),
                now=now,
                sla=self._sla,
                comment="low_rating" if reopen else "rated",
            )
            if reopen and self._config.staff_chat_id is not None:
                await uow.sweeps.enqueue(
                    messages=[
                        OutboxDraft(
                            key=f"survey-reopen:{ticket.id}:{now.isoformat()}",
                            chat_id=self._config.staff_chat_id,
                            thread_id=ticket.topic_id,
                            ticket_id=ticket.id,
                            payload=text_payload(
                                self._staff.render("survey.staff.reopened", number=ticket.number),
                                ticket_topic=True,
                            ),
                        )
                    ],
                    now=now,
                )
            return ReopenResult(outcome, ticket.number)

    async def _alert_topic(
        self, uow: UnitOfWork, ticket: Ticket, score: int, now: datetime
    ) -> None:
        if self._config.staff_chat_id is None:
            return
        await uow.sweeps.enqueue(
            messages=[
                OutboxDraft(
                    key=f"survey-low:{ticket.id}:{now.isoformat()}",
                    chat_id=self._config.staff_chat_id,
                    thread_id=ticket.topic_id,
                    ticket_id=ticket.id,
                    payload=text_payload(
                        self._staff.render("survey.staff.low", number=ticket.number, score=score),
                        ticket_topic=True,
                    ),
                )
            ],
            now=now,
        )


async def _owned(uow: UnitOfWork, customer_id: int, ticket_id: int) -> Ticket | None:
    ticket = await uow.tickets.get(ticket_id=ticket_id, for_update=True)
    if ticket is None or ticket.customer_id != customer_id:
        return None
    return ticket
