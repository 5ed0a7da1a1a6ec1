"""Staff use cases: take, assign, status, priority, resolve, close, reopen, ban, notes, relays.

Every change and the messages it causes (to the customer, into the ticket's topic) are written
in one unit of work; the delivery worker sends the messages. `cause` identifies the staff
action (an update) and makes the messages' idempotency keys, so a re-delivered update sends
nothing twice. Texts for the staff group are rendered in the desk's locale, texts for the
customer in the customer's locale.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.domain.tickets import (
    Actor,
    IllegalTransition,
    Priority,
    ResolutionType,
    TicketStatus,
)
from bot.locales.catalog import Catalogs, Markup
from bot.services.outbox import (
    GROUPABLE_MEDIA,
    Buttons,
    Link,
    Notify,
    add_to_album,
    enqueue_card_refresh,
    enqueue_copy,
    enqueue_edit,
    enqueue_text,
    media_item,
)
from bot.services.routing import Routing
from bot.services.transitions import apply_transition, refresh_due_times
from storage.models import Attachment, Customer, Ticket, TicketMessage
from storage.staff_models import Agent
from storage.unit_of_work import Database, UnitOfWork

ALBUM_WAIT = timedelta(seconds=1)
CUSTOMER_STATUS_NOTICES = frozenset(
    {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_CUSTOMER, TicketStatus.CLOSED}
)


class DeskError(Exception):
    """A staff action that cannot be done; `key` is the catalogue text explaining why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class AgentRef:
    user_id: int
    name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class MediaRef:
    type: str
    file_id: str


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """What an agent wrote in a ticket's topic, already turned into safe HTML by the adapter."""

    chat_id: int
    message_id: int
    content_type: str
    html: str | None = None
    plain: str | None = None
    media: MediaRef | None = None
    media_group_id: str | None = None
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class DeskConfig:
    staff_chat_id: int | None
    staff_locale: str = "ru"
    show_agent_names: bool = True
    company_name: str = ""
    burst: timedelta = timedelta(minutes=10)
    reopen_window: timedelta = timedelta(days=30)


class CustomerButtons(Protocol):
    """Buttons the adapter packs for messages the desk sends to customers."""

    def resolution_feedback(self, ticket_id: int, locale: str) -> Buttons: ...


@dataclass(slots=True)
class CardData:
    ticket: Ticket
    customer: Customer
    earlier_tickets: int
    assignee: Agent | None
    fallback_mode: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def mention(user_id: int, name: str) -> Markup:
    return Markup(f'<a href="tg://user?id={user_id}">{html.escape(name, quote=False)}</a>')


def customer_name(customer: Customer) -> str:
    if customer.last_name:
        return f"{customer.first_name} {customer.last_name[:1]}."
    return customer.first_name or str(customer.telegram_id)


class DeskService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        sla: SlaPolicy,
        catalogs: Catalogs,
        config: DeskConfig,
        buttons: CustomerButtons,
        *,
        routing: Routing | None = None,
        notify: Notify | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._sla = sla
        self._catalogs = catalogs
        self.config = config
        self._buttons = buttons
        self.routing = routing or Routing()
        self._notify = notify or (lambda: None)
        self._replies: OrderedDict[tuple[int, int], int] = OrderedDict()

    def set_notify(self, notify: Notify) -> None:
        self._notify = notify

    # ------------------------------------------------------------------ rendering helpers

    def staff_text(self, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, self.config.staff_locale, **params)

    def _customer_text(self, customer: Customer, key: str, /, **params: Any) -> str:
        return self._catalogs.render(key, customer.locale, **params)

    def _signature(self, customer: Customer, agent: AgentRef) -> str:
        if self.config.show_agent_names:
            return agent.name
        return self.config.company_name or self._catalogs.plain("desk.company", customer.locale)

    async def _to_customer(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        *,
        key: str,
        html_text: str,
        now: datetime,
        buttons: Buttons | None = None,
    ) -> None:
        await enqueue_text(
            uow,
            key=key,
            chat_id=customer.telegram_id,
            html=html_text,
            now=now,
            ticket_id=ticket.id,
            buttons=buttons,
        )

    async def _to_topic(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        *,
        key: str,
        html_text: str,
        now: datetime,
        reply_to: int | None = None,
        silent: bool = False,
    ) -> None:
        if self.config.staff_chat_id is None:
            return
        await enqueue_text(
            uow,
            key=key,
            chat_id=self.config.staff_chat_id,
            html=self.staff_text("desk.event.frame", number=ticket.number, text=Markup(html_text)),
            now=now,
            ticket_id=ticket.id,
            ticket_topic=True,
            reply_to=reply_to,
            silent=silent,
        )

    # --------------------------------------------------------------------------- loading

    async def _load(self, uow: UnitOfWork, ticket_id: int) -> tuple[Ticket, Customer]:
        ticket = await uow.tickets.get(ticket_id=ticket_id)
        if ticket is None:
            raise DeskError("desk.error.no_ticket")
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        assert customer is not None
        return ticket, customer

    async def remember_agent(self, agent: AgentRef) -> Agent:
        async with self._database.unit_of_work() as uow:
            return await self._agent(uow, agent)

    async def _agent(self, uow: UnitOfWork, agent: AgentRef) -> Agent:
        return await uow.agents.upsert(
            telegram_id=agent.user_id,
            display_name=agent.name,
            username=agent.username,
            now=self._clock.now(),
        )

    async def card_data(self, ticket_id: int) -> CardData:
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id)
            assert ticket.id is not None and customer.id is not None
            earlier = await uow.staff_tickets.count_earlier(
                customer_id=customer.id, before_id=ticket.id
            )
            assignee = (
                await uow.agents.get(telegram_id=ticket.assignee_id) if ticket.assignee_id else None
            )
            return CardData(ticket, customer, earlier, assignee)

    async def ticket_by_topic(self, topic_id: int) -> Ticket | None:
        async with self._database.unit_of_work() as uow:
            return await uow.staff_tickets.by_topic(topic_id=topic_id)

    async def ticket_by_message(self, chat_id: int, message_id: int) -> Ticket | None:
        async with self._database.unit_of_work() as uow:
            ticket_id = await uow.links.ticket_for(chat_id=chat_id, message_id=message_id)
            return await uow.tickets.get(ticket_id=ticket_id) if ticket_id else None

    async def customer_history(self, ticket_id: int) -> tuple[Ticket, Sequence[Ticket]]:
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id)
            assert customer.id is not None
            return ticket, await uow.tickets.for_customer(customer_id=customer.id, limit=20)

    async def agents(self) -> Sequence[Agent]:
        async with self._database.unit_of_work() as uow:
            return await uow.agents.all()

    # ---------------------------------------------------------------------- staff actions

    async def take(self, ticket_id: int, agent: AgentRef, *, cause: str) -> Ticket:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            status = TicketStatus(ticket.status)
            if ticket.assignee_id == agent.user_id and status is TicketStatus.IN_PROGRESS:
                raise DeskError("desk.error.already_yours", number=ticket.number)
            if status is not TicketStatus.IN_PROGRESS:
                await apply_transition(
                    uow,
                    ticket=ticket,
                    target=TicketStatus.IN_PROGRESS,
                    actor=Actor.agent(agent.user_id),
                    now=now,
                    sla=self._sla,
                )
            await self._assign(uow, ticket, agent.user_id, actor=agent, now=now)
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._customer_text(
                    customer,
                    "desk.customer.taken",
                    number=ticket.number,
                    agent=self._signature(customer, agent),
                ),
                now=now,
            )
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.staff_text(
                    "desk.event.taken", agent=mention(agent.user_id, agent.name)
                ),
                now=now,
                silent=True,
            )
        self._notify()
        return ticket

    async def _assign(
        self, uow: UnitOfWork, ticket: Ticket, assignee_id: int, *, actor: AgentRef, now: datetime
    ) -> None:
        assert ticket.id is not None
        ticket.assignee_id = assignee_id
        if ticket.first_response_at is None and assignee_id == actor.user_id:
            ticket.first_response_at = now
        ticket.updated_at = now
        refresh_due_times(ticket, sla=self._sla, now=now)
        await uow.tickets.save(ticket=ticket)
        await uow.events.add(
            ticket_id=ticket.id,
            at=now,
            kind="assign",
            actor_kind=Actor.agent(actor.user_id).kind.value,
            actor_id=actor.user_id,
            data={"assignee_id": assignee_id},
        )
        assignee = await uow.agents.get(telegram_id=assignee_id)
        if assignee is not None:
            assignee.last_assigned_at = now
            await uow.agents.save(agent=assignee)
        await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)

    async def assign(
        self, ticket_id: int, agent: AgentRef, *, assignee: str | int, cause: str
    ) -> Agent:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, _customer = await self._load(uow, ticket_id)
            if isinstance(assignee, int):
                target = await uow.agents.get(telegram_id=assignee)
            else:
                target = await uow.agents.by_username(username=assignee)
            if target is None:
                raise DeskError("desk.error.unknown_agent", who=str(assignee))
            await self._assign(uow, ticket, target.telegram_id, actor=agent, now=now)
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.staff_text(
                    "desk.event.assigned",
                    agent=mention(agent.user_id, agent.name),
                    assignee=mention(target.telegram_id, target.display_name),
                ),
                now=now,
            )
        self._notify()
        return target

    async def set_status(
        self, ticket_id: int, agent: AgentRef, target: TicketStatus, *, cause: str
    ) -> Ticket:
        if target is TicketStatus.RESOLVED:
            raise DeskError("desk.error.resolve_needs_text")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            previous = TicketStatus(ticket.status)
            await apply_transition(
                uow,
                ticket=ticket,
                target=target,
                actor=Actor.agent(agent.user_id),
                now=now,
                sla=self._sla,
            )
            if target is TicketStatus.IN_PROGRESS and ticket.assignee_id is None:
                await self._assign(uow, ticket, agent.user_id, actor=agent, now=now)
            await self._status_messages(uow, ticket, customer, agent, previous, now, cause)
        self._notify()
        return ticket

    async def _status_messages(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        agent: AgentRef | None,
        previous: TicketStatus,
        now: datetime,
        cause: str,
    ) -> None:
        status = TicketStatus(ticket.status)
        if status in CUSTOMER_STATUS_NOTICES or status is TicketStatus.REOPENED:
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._customer_text(
                    customer, f"desk.customer.status.{status.value}", number=ticket.number
                ),
                now=now,
            )
        who = mention(agent.user_id, agent.name) if agent else self.staff_text("desk.who.customer")
        await self._to_topic(
            uow,
            ticket,
            key=f"{cause}:topic",
            html_text=self.staff_text(
                "desk.event.status",
                who=who,
                old=self._catalogs.plain(f"desk.status.{previous.value}", self.config.staff_locale),
                new=self._catalogs.plain(f"desk.status.{status.value}", self.config.staff_locale),
            ),
            now=now,
            silent=True,
        )

    async def resolve(
        self,
        ticket_id: int,
        agent: AgentRef,
        *,
        resolution: ResolutionType,
        text: str,
        cause: str,
    ) -> Ticket:
        if not text.strip():
            raise DeskError("desk.error.resolve_needs_text")
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            await apply_transition(
                uow,
                ticket=ticket,
                target=TicketStatus.RESOLVED,
                actor=Actor.agent(agent.user_id),
                now=now,
                sla=self._sla,
                comment=text,
            )
            assert ticket.id is not None
            ticket.resolution_type = resolution.value
            ticket.resolution_text = text
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            await uow.tickets.save(ticket=ticket)
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._customer_text(
                    customer,
                    "desk.customer.resolved",
                    number=ticket.number,
                    decision=self._catalogs.plain(
                        f"desk.resolution.{resolution.value}", customer.locale
                    ),
                    text=text,
                ),
                now=now,
                buttons=self._buttons.resolution_feedback(ticket.id, customer.locale),
            )
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.staff_text(
                    "desk.event.resolved",
                    agent=mention(agent.user_id, agent.name),
                    decision=self._catalogs.plain(
                        f"desk.resolution.{resolution.value}", self.config.staff_locale
                    ),
                    text=text,
                ),
                now=now,
            )
        self._notify()
        return ticket

    async def set_priority(
        self, ticket_id: int, agent: AgentRef, priority: Priority, *, cause: str
    ) -> Ticket:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, _customer = await self._load(uow, ticket_id)
            assert ticket.id is not None
            old = ticket.priority
            ticket.priority = priority.value
            ticket.updated_at = now
            refresh_due_times(ticket, sla=self._sla, now=now)
            await uow.tickets.save(ticket=ticket)
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                kind="priority",
                actor_kind="agent",
                actor_id=agent.user_id,
                data={"from": old, "to": priority.value},
            )
            await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.staff_text(
                    "desk.event.priority",
                    agent=mention(agent.user_id, agent.name),
                    priority=self._catalogs.plain(
                        f"desk.priority.{priority.value}", self.config.staff_locale
                    ),
                ),
                now=now,
                silent=True,
            )
        self._notify()
        return ticket

    async def set_banned(
        self, ticket_id: int, agent: AgentRef, *, banned: bool, cause: str
    ) -> Customer:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            assert ticket.id is not None and customer.id is not None
            if customer.is_banned == banned:
                raise DeskError("desk.error.already_banned" if banned else "desk.error.not_banned")
            customer.is_banned = banned
            customer.updated_at = now
            await uow.customers.save(customer=customer)
            active = await uow.bans.active(customer_id=customer.id)
            if banned and active is None:
                await uow.bans.add(customer_id=customer.id, banned_by=agent.user_id, now=now)
            if not banned and active is not None:
                active.lifted_at = now
                await uow.bans.save(ban=active)
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                kind="ban" if banned else "unban",
                actor_kind="agent",
                actor_id=agent.user_id,
            )
            await enqueue_card_refresh(uow, ticket_id=ticket.id, now=now)
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.staff_text(
                    "desk.event.banned" if banned else "desk.event.unbanned",
                    agent=mention(agent.user_id, agent.name),
                ),
                now=now,
            )
        self._notify()
        return customer

    async def set_available(self, agent: AgentRef, *, available: bool) -> Agent:
        async with self._database.unit_of_work() as uow:
            record = await self._agent(uow, agent)
            record.available = available
            record.updated_at = self._clock.now()
            await uow.agents.save(agent=record)
            return record

    async def add_note(self, ticket_id: int, agent: AgentRef, message: AgentMessage) -> None:
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            await uow.messages.add(
                message=TicketMessage(
                    ticket_id=ticket.id,
                    customer_id=customer.id,
                    direction="note",
                    author_id=agent.user_id,
                    content_type=message.content_type,
                    text=message.plain,
                    chat_id=message.chat_id,
                    telegram_message_id=message.message_id,
                    visible_to_customer=False,
                    created_at=now,
                )
            )
            await self._to_topic(
                uow,
                ticket,
                key=f"note:{message.chat_id}:{message.message_id}",
                html_text=self.staff_text("desk.note.saved"),
                now=now,
                reply_to=message.message_id,
                silent=True,
            )
        self._notify()

    # --------------------------------------------------------------------- agent relay

    async def agent_reply(self, ticket_id: int, agent: AgentRef, message: AgentMessage) -> None:
        """An agent wrote in the topic: store it and send it to the customer."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            assert ticket.id is not None
            status = TicketStatus(ticket.status)
            if not status.is_open:
                raise DeskError("desk.error.ticket_finished", number=ticket.number)
            if status in (TicketStatus.NEW, TicketStatus.REOPENED):
                await apply_transition(
                    uow,
                    ticket=ticket,
                    target=TicketStatus.IN_PROGRESS,
                    actor=Actor.agent(agent.user_id),
                    now=now,
                    sla=self._sla,
                )
                if ticket.assignee_id is None:
                    await self._assign(uow, ticket, agent.user_id, actor=agent, now=now)
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                refresh_due_times(ticket, sla=self._sla, now=now)
            ticket.updated_at = now
            await uow.tickets.save(ticket=ticket)
            await uow.messages.add(
                message=TicketMessage(
                    ticket_id=ticket.id,
                    customer_id=customer.id,
                    direction="out",
                    author_id=agent.user_id,
                    content_type=message.content_type,
                    text=message.plain,
                    chat_id=message.chat_id,
                    telegram_message_id=message.message_id,
                    media_group_id=message.media_group_id,
                    created_at=now,
                )
            )
            reply_to = None
            if message.reply_to is not None:
                reply_to = await uow.links.counterpart(
                    chat_id=message.chat_id,
                    message_id=message.reply_to,
                    other_chat_id=customer.telegram_id,
                )
            await self._relay_to_customer(uow, ticket, customer, agent, message, reply_to, now)
        self._notify()

    async def agent_text(
        self,
        ticket_id: int,
        agent: AgentRef,
        render: Callable[[Customer, Ticket], str],
        *,
        cause: str,
    ) -> str:
        """Send a prepared HTML text (a canned reply) to the customer and show it in the topic."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            await self._agent(uow, agent)
            ticket, customer = await self._load(uow, ticket_id)
            if not TicketStatus(ticket.status).is_open:
                raise DeskError("desk.error.ticket_finished", number=ticket.number)
            body = render(customer, ticket)
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                refresh_due_times(ticket, sla=self._sla, now=now)
            ticket.updated_at = now
            await uow.tickets.save(ticket=ticket)
            await uow.messages.add(
                message=TicketMessage(
                    ticket_id=ticket.id,
                    customer_id=customer.id,
                    direction="out",
                    author_id=agent.user_id,
                    content_type="text",
                    text=html.unescape(body),
                    created_at=now,
                )
            )
            await self._to_customer(
                uow,
                ticket,
                customer,
                key=f"{cause}:customer",
                html_text=self._agent_html(customer, agent, body),
                now=now,
            )
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:topic",
                html_text=self.staff_text("desk.template.sent", text=Markup(body)),
                now=now,
                silent=True,
            )
        self._notify()
        return body

    def _agent_html(self, customer: Customer, agent: AgentRef, body: str | None) -> str:
        signature = self._signature(customer, agent)
        if not body:
            return self._customer_text(customer, "desk.reply.header", agent=signature)
        return self._customer_text(
            customer, "desk.reply.with_text", agent=signature, text=Markup(body)
        )

    async def _relay_to_customer(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        agent: AgentRef,
        message: AgentMessage,
        reply_to: int | None,
        now: datetime,
    ) -> None:
        key = f"reply:{message.chat_id}:{message.message_id}"
        link: Link = {"source_chat_id": message.chat_id, "source_message_id": message.message_id}
        if message.media_group_id and message.media and message.media.type in GROUPABLE_MEDIA:
            caption = self._agent_html(customer, agent, message.html) if message.html else None
            await add_to_album(
                uow,
                key=f"reply-album:{message.chat_id}:{message.media_group_id}",
                chat_id=customer.telegram_id,
                item=media_item(
                    message.media.type,
                    message.media.file_id,
                    caption=caption,
                    source_message_id=message.message_id,
                ),
                now=now,
                wait_until=now + ALBUM_WAIT,
                source_chat_id=message.chat_id,
                ticket_id=ticket.id,
                reply_to=reply_to,
            )
            return
        if message.content_type == "text":
            await enqueue_text(
                uow,
                key=key,
                chat_id=customer.telegram_id,
                html=self._agent_html(customer, agent, message.html),
                now=now,
                ticket_id=ticket.id,
                reply_to=reply_to,
                link=link,
            )
            return
        caption = None
        if message.media is not None:
            caption = self._agent_html(customer, agent, message.html)
        await enqueue_copy(
            uow,
            key=key,
            chat_id=customer.telegram_id,
            from_chat_id=message.chat_id,
            message_id=message.message_id,
            caption=caption,
            now=now,
            ticket_id=ticket.id,
            reply_to=reply_to,
            link=link,
        )

    async def agent_edited(self, agent: AgentRef, message: AgentMessage) -> bool:
        """An agent edited a message the customer got: edit the copy too."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket_id = await uow.links.ticket_for(
                chat_id=message.chat_id, message_id=message.message_id
            )
            if ticket_id is None:
                return False
            ticket, customer = await self._load(uow, ticket_id)
            copies = await uow.links.copies_of(
                source_chat_id=message.chat_id,
                source_message_id=message.message_id,
                copy_chat_id=customer.telegram_id,
            )
            if not copies:
                return False
            is_caption = message.content_type != "text"
            for copy in copies:
                await enqueue_edit(
                    uow,
                    key=f"edit:{message.chat_id}:{message.message_id}:{now.isoformat()}:{copy.id}",
                    chat_id=customer.telegram_id,
                    message_id=copy.copy_message_id,
                    html=self._agent_html(customer, agent, message.html),
                    caption=is_caption,
                    now=now,
                    ticket_id=ticket.id,
                )
        self._notify()
        return True

    # ------------------------------------------------------------------- customer relay

    def remember_reply(self, chat_id: int, message_id: int, reply_to: int) -> None:
        """The adapter tells which message a customer message replies to (not stored)."""
        self._replies[(chat_id, message_id)] = reply_to
        while len(self._replies) > 10_000:
            self._replies.popitem(last=False)

    async def customer_wrote(self, ticket_id: int, message_id: int) -> bool:
        """A customer message was stored against a ticket: relay it, move the status.

        The app relays inside the unit of work that stores the message
        (`relay_customer_message`); this is the same in a unit of work of its own.
        Returns True when the ticket's status changed.
        """
        async with self._database.unit_of_work() as uow:
            ticket = await uow.tickets.get(ticket_id=ticket_id)
            message = await uow.staff_tickets.message(message_id=message_id)
            if ticket is None or message is None:
                return False
            files = [
                a
                for a in await uow.attachments.for_ticket(ticket_id=ticket_id)
                if a.message_id == message_id
            ]
            changed = await self.relay_customer_message(
                uow, ticket=ticket, message=message, files=files
            )
        self._notify()
        return changed

    async def relay_customer_message(
        self,
        uow: UnitOfWork,
        *,
        ticket: Ticket,
        message: TicketMessage,
        files: Sequence[Attachment],
    ) -> bool:
        """Relay a just-stored customer message into the ticket's topic and move the status,
        in the caller's unit of work; returns True when the status changed.

        The caller notifies the delivery worker after its commit.
        """
        now = self._clock.now()
        staff_chat = self.config.staff_chat_id
        customer = await uow.customers.get(customer_id=ticket.customer_id)
        assert customer is not None and ticket.id is not None and message.id is not None
        if customer.is_banned:
            return False
        if customer.is_unreachable:
            customer.is_unreachable = False
            await uow.customers.save(customer=customer)
        changed = await self._customer_moves_status(uow, ticket, customer, now)
        if staff_chat is None or message.telegram_message_id is None:
            return changed
        previous = await uow.staff_tickets.previous_message(
            ticket_id=ticket.id, before_id=message.id
        )
        if (
            previous is None
            or previous.direction != "in"
            or now - previous.created_at > self.config.burst
        ):
            await enqueue_text(
                uow,
                key=f"relay-header:{message.id}",
                chat_id=staff_chat,
                html=self.staff_text(
                    "desk.relay.header",
                    number=ticket.number,
                    name=mention(customer.telegram_id, customer_name(customer)),
                ),
                now=now,
                ticket_id=ticket.id,
                ticket_topic=True,
            )
        await self._relay_to_topic(uow, ticket, customer, message, files, staff_chat, now)
        return changed

    async def _customer_moves_status(
        self, uow: UnitOfWork, ticket: Ticket, customer: Customer, now: datetime
    ) -> bool:
        status = TicketStatus(ticket.status)
        actor = Actor.customer(customer.id or 0)
        cause = f"customer-wrote:{ticket.id}:{now.isoformat()}"
        if status is TicketStatus.WAITING_CUSTOMER:
            await apply_transition(
                uow,
                ticket=ticket,
                target=TicketStatus.IN_PROGRESS,
                actor=actor,
                now=now,
                sla=self._sla,
            )
            who = (
                mention(ticket.assignee_id, await self._agent_name(uow, ticket.assignee_id))
                if ticket.assignee_id
                else self.staff_text("desk.who.team")
            )
            await self._to_topic(
                uow,
                ticket,
                key=f"{cause}:ping",
                html_text=self.staff_text("desk.event.customer_answered", who=who),
                now=now,
            )
            return True
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            finished = ticket.closed_at or ticket.resolved_at or ticket.updated_at
            if now - finished > self.config.reopen_window:
                return False
            await apply_transition(
                uow,
                ticket=ticket,
                target=TicketStatus.REOPENED,
                actor=actor,
                now=now,
                sla=self._sla,
                comment="customer wrote",
            )
            await self._status_messages(uow, ticket, customer, None, status, now, cause)
            return True
        return False

    async def _agent_name(self, uow: UnitOfWork, telegram_id: int) -> str:
        agent = await uow.agents.get(telegram_id=telegram_id)
        return agent.display_name if agent else str(telegram_id)

    async def _relay_to_topic(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        customer: Customer,
        message: TicketMessage,
        files: Sequence[Attachment],
        staff_chat: int,
        now: datetime,
    ) -> None:
        assert message.telegram_message_id is not None and message.id is not None
        source_chat = customer.telegram_id
        reply_source = self._replies.pop((source_chat, message.telegram_message_id), None)
        reply_to = None
        if reply_source is not None:
            reply_to = await uow.links.counterpart(
                chat_id=source_chat, message_id=reply_source, other_chat_id=staff_chat
            )
        if message.media_group_id and files and files[0].kind in GROUPABLE_MEDIA:
            caption = html.escape(message.text, quote=False) if message.text else None
            await add_to_album(
                uow,
                key=f"relay-album:{ticket.id}:{message.media_group_id}",
                chat_id=staff_chat,
                item=media_item(
                    files[0].kind,
                    files[0].file_id,
                    caption=caption,
                    source_message_id=message.telegram_message_id,
                ),
                now=now,
                wait_until=now + ALBUM_WAIT,
                source_chat_id=source_chat,
                ticket_id=ticket.id,
                ticket_topic=True,
                reply_to=reply_to,
            )
            return
        await enqueue_copy(
            uow,
            key=f"relay:{message.id}",
            chat_id=staff_chat,
            from_chat_id=source_chat,
            message_id=message.telegram_message_id,
            now=now,
            ticket_id=ticket.id,
            ticket_topic=True,
            reply_to=reply_to,
            link={"source_chat_id": source_chat, "source_message_id": message.telegram_message_id},
        )

    async def customer_edited(
        self, customer_chat_id: int, message_id: int, html_text: str, *, is_caption: bool
    ) -> bool:
        now = self._clock.now()
        staff_chat = self.config.staff_chat_id
        if staff_chat is None:
            return False
        async with self._database.unit_of_work() as uow:
            copies = await uow.links.copies_of(
                source_chat_id=customer_chat_id,
                source_message_id=message_id,
                copy_chat_id=staff_chat,
            )
            stored = await uow.staff_tickets.message_by_telegram_id(
                chat_id=customer_chat_id, telegram_message_id=message_id
            )
            if stored is not None:
                stored.text = html.unescape(html_text)
                stored.edited_at = now
                await uow.messages.add(message=stored)
            for copy in copies:
                await enqueue_edit(
                    uow,
                    key=f"edit:{customer_chat_id}:{message_id}:{now.isoformat()}:{copy.id}",
                    chat_id=staff_chat,
                    message_id=copy.copy_message_id,
                    html=html_text,
                    caption=is_caption,
                    now=now,
                    ticket_id=copy.ticket_id,
                )
        self._notify()
        return bool(copies)

    async def customer_confirms(
        self, *, customer_id: int, ticket_id: int, solved: bool, cause: str
    ) -> Ticket:
        """The customer answered "Did this solve it?"; No reopens the ticket."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id)
            if ticket.customer_id != customer_id:
                raise DeskError("desk.error.no_ticket")
            assert ticket.id is not None
            status = TicketStatus(ticket.status)
            await uow.events.add(
                ticket_id=ticket.id,
                at=now,
                kind="confirmation",
                actor_kind="customer",
                actor_id=customer_id,
                data={"solved": solved},
            )
            if solved:
                await self._to_topic(
                    uow,
                    ticket,
                    key=f"{cause}:topic",
                    html_text=self.staff_text("desk.event.confirmed"),
                    now=now,
                    silent=True,
                )
            elif status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                await apply_transition(
                    uow,
                    ticket=ticket,
                    target=TicketStatus.REOPENED,
                    actor=Actor.customer(customer_id),
                    now=now,
                    sla=self._sla,
                    comment="not solved",
                )
                await self._status_messages(uow, ticket, customer, None, status, now, cause)
        self._notify()
        return ticket

    # -------------------------------------------------------------------------- routing

    async def route(self, ticket_id: int) -> Ticket:
        """Team and priority from the rules; round-robin to an available team member."""
        now = self._clock.now()
        async with self._database.unit_of_work() as uow:
            ticket, customer = await self._load(uow, ticket_id)
            decision = self.routing.route(
                category=ticket.category,
                kind=ticket.kind,
                text=ticket.description,
                language=customer.locale,
            )
            team = decision.team
            if team is None:
                return ticket
            ticket.team = team.name
            if decision.priority and decision.priority != ticket.priority:
                ticket.priority = decision.priority
                refresh_due_times(ticket, sla=self._sla, now=now)
            await uow.tickets.save(ticket=ticket)
            if team.auto_assign and ticket.assignee_id is None:
                members = await uow.agents.by_ids(ids=team.agents)
                available = [m for m in members if m.available]
                if available:
                    chosen = min(
                        available,
                        key=lambda m: (
                            m.last_assigned_at is not None,
                            m.last_assigned_at or now,
                            team.agents.index(m.telegram_id),
                        ),
                    )
                    ticket.assignee_id = chosen.telegram_id
                    chosen.last_assigned_at = now
                    await uow.agents.save(agent=chosen)
                    await uow.tickets.save(ticket=ticket)
                    assert ticket.id is not None
                    await uow.events.add(
                        ticket_id=ticket.id,
                        at=now,
                        kind="assign",
                        actor_kind="system",
                        actor_id=None,
                        data={"assignee_id": chosen.telegram_id, "team": team.name},
                    )
            return ticket

    # ---------------------------------------------------------------------------- bans

    async def ban_notice_due(self, customer_id: int) -> bool:
        """True exactly once per ban: the first time a banned customer writes."""
        async with self._database.unit_of_work() as uow:
            ban = await uow.bans.active(customer_id=customer_id)
            if ban is None or ban.notified_at is not None:
                return False
            ban.notified_at = self._clock.now()
            await uow.bans.save(ban=ban)
            return True


def illegal_transition_params(
    error: IllegalTransition, locale: str, catalogs: Catalogs
) -> dict[str, str]:
    return {
        "current": catalogs.plain(f"desk.status.{error.current.value}", locale),
        "target": catalogs.plain(f"desk.status.{error.target.value}", locale),
    }
