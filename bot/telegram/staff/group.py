"""Handlers of the staff group's messages: topic commands, relaying agents' messages.

The card's buttons are in `card_actions.py`, resolving from the card in `resolve_flow.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.domain.tickets import IllegalTransition, Priority, ResolutionType, TicketStatus
from bot.ops.context import bind_ticket
from bot.services.analytics.causes import split_cause_tag
from bot.services.desk import (
    AgentMessage,
    AgentRef,
    CustomerView,
    DeskError,
    DeskService,
    MediaRef,
    TicketView,
)
from bot.telegram.filters import CommandLike, ServiceMessage
from bot.telegram.i18n import t
from bot.telegram.staff.callbacks import MAX_USER_ID
from bot.telegram.staff.card import CardStyle
from bot.telegram.staff.explain import explain
from bot.telegram.staff.resolve_flow import (
    refuse_long_decision,
    register_decision,
    resolution_keyboard,
)
from bot.telegram.staff.stats import RootCauseFlow
from bot.telegram.staff.templates import Template
from bot.telegram.staff.threads import StaffThreads
from bot.telegram.text_limits import shorten

STAFF_COMMANDS = (
    "take",
    "assign",
    "status",
    "priority",
    "resolve",
    "close",
    "reopen",
    "ban",
    "unban",
    "templates",
    "t",
    "note",
    "away",
    "back",
    "kb_gaps",
    "kb_reload",
    "erase",
    "stats",
    "export",
)
NOTE_PREFIX = "#note"
STATUS_WORDS = {
    "in_progress": TicketStatus.IN_PROGRESS,
    "progress": TicketStatus.IN_PROGRESS,
    "waiting": TicketStatus.WAITING_CUSTOMER,
    "waiting_customer": TicketStatus.WAITING_CUSTOMER,
    "closed": TicketStatus.CLOSED,
    "close": TicketStatus.CLOSED,
    "reopened": TicketStatus.REOPENED,
    "reopen": TicketStatus.REOPENED,
    "resolved": TicketStatus.RESOLVED,
}


@dataclass(frozen=True, slots=True)
class StaffContext:
    desk: DeskService
    threads: StaffThreads
    style: CardStyle
    templates: Mapping[str, Template]


def _media(message: Message) -> MediaRef | None:
    if message.photo:
        return MediaRef("photo", message.photo[-1].file_id)
    for kind in ("video", "document", "audio", "voice", "animation", "sticker", "video_note"):
        media = getattr(message, kind, None)
        if media is not None:
            return MediaRef(kind, media.file_id)
    return None


def _reply_target(message: Message) -> int | None:
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None
    if message.message_thread_id is not None and reply.message_id == message.message_thread_id:
        return None
    return reply.message_id


def agent_message(message: Message, *, strip_prefix: str | None = None) -> AgentMessage:
    content = message.text if message.text is not None else message.caption
    body = message.html_text if content else None
    plain = content
    if strip_prefix and plain is not None and plain.lower().startswith(strip_prefix):
        plain = plain[len(strip_prefix) :].strip()
        body = None
    return AgentMessage(
        chat_id=message.chat.id,
        message_id=message.message_id,
        content_type=message.content_type,
        html=body,
        plain=plain,
        media=_media(message),
        media_group_id=message.media_group_id,
        reply_to=_reply_target(message),
    )


async def ticket_of(message: Message, desk: DeskService) -> TicketView | None:
    """The ticket a staff message is about: its topic, or (without topics) the replied message."""
    if message.is_topic_message and message.message_thread_id is not None:
        ticket = await desk.cards.ticket_by_topic(message.message_thread_id)
        if ticket is not None:
            bind_ticket(ticket.number)
            return ticket
    return await _ticket_replied_to(message, desk)


async def _ticket_replied_to(message: Message, desk: DeskService) -> TicketView | None:
    if message.reply_to_message is not None:
        return await desk.cards.ticket_by_message(
            message.chat.id, message.reply_to_message.message_id
        )
    return None


def _assignee_of(words: str) -> str | int | None:
    """`/assign`'s argument: a Telegram user id or a @username; None for anything else."""
    if words.isascii() and words.isdigit():
        user_id = int(words)
        return user_id if 0 < user_id <= MAX_USER_ID else None
    name = words.removeprefix("@")
    if 0 < len(name) <= 32 and name.isascii() and name.replace("_", "").isalnum():
        return words
    return None


def _cause(message: Message) -> str:
    return f"msg:{message.chat.id}:{message.message_id}"


Action = Callable[[int], Awaitable[Any]]


async def _run(message: Message, ctx: StaffContext, action: Action) -> bool:
    ticket = await ticket_of(message, ctx.desk)
    if ticket is None:
        await message.reply(t("desk.error.not_in_topic"))
        return False
    try:
        await action(ticket.id)
    except (IllegalTransition, DeskError) as error:
        await message.reply(explain(error))
        return False
    return True  # the card follows through the outbox (the action queued its refresh)


async def _ask_resolution(message: Message, ctx: StaffContext) -> None:
    """`/status resolved`: a decision is needed, so offer its kinds as the card's button does."""
    ticket = await ticket_of(message, ctx.desk)
    if ticket is None:
        await message.reply(t("desk.error.not_in_topic"))
        return
    await message.reply(
        t("desk.resolve.choose", number=ticket.number),
        reply_markup=resolution_keyboard(ticket.id, ctx.style),
    )


def build_group_router(ctx: StaffContext) -> Router:
    router = Router(name="staff_group")
    desk = ctx.desk

    @router.message(ServiceMessage())
    async def service_message(message: Message) -> None:
        """A topic closed, reopened or renamed by hand, a pin, members joining: not a reply."""

    @router.message(Command("take"))
    async def take(message: Message, agent: AgentRef) -> None:
        await _run(message, ctx, lambda tid: desk.take(tid, agent, cause=_cause(message)))

    @router.message(Command("assign"))
    async def assign(message: Message, command: CommandObject, agent: AgentRef) -> None:
        who = (command.args or "").strip()
        target = _assignee_of(who)
        if target is None:
            await message.reply(t("desk.usage.assign"))
            return
        await _run(
            message,
            ctx,
            lambda tid: desk.assign(tid, agent, assignee=target, cause=_cause(message)),
        )

    @router.message(Command("status"))
    async def status(message: Message, command: CommandObject, agent: AgentRef) -> None:
        target = STATUS_WORDS.get((command.args or "").strip().lower())
        if target is None:
            await message.reply(t("desk.usage.status"))
            return
        if target is TicketStatus.RESOLVED:
            await _ask_resolution(message, ctx)
            return
        await _run(
            message, ctx, lambda tid: desk.set_status(tid, agent, target, cause=_cause(message))
        )

    @router.message(Command("priority"))
    async def priority(message: Message, command: CommandObject, agent: AgentRef) -> None:
        try:
            level = Priority((command.args or "").strip().lower())
        except ValueError:
            await message.reply(t("desk.usage.priority"))
            return
        await _run(
            message, ctx, lambda tid: desk.set_priority(tid, agent, level, cause=_cause(message))
        )

    @router.message(Command("resolve"))
    async def resolve(
        message: Message,
        command: CommandObject,
        agent: AgentRef,
        root_causes: RootCauseFlow | None = None,
    ) -> None:
        kind, _, text = (command.args or "").strip().partition(" ")
        text, cause = split_cause_tag(text)
        try:
            resolution = ResolutionType(kind.lower())
        except ValueError:
            await message.reply(t("desk.usage.resolve"))
            return
        if not text.strip():
            await message.reply(t("desk.usage.resolve"))
            return
        if await refuse_long_decision(message, text.strip()):
            return
        resolved = await _run(
            message,
            ctx,
            lambda tid: desk.resolve(
                tid, agent, resolution=resolution, text=text.strip(), cause=_cause(message)
            ),
        )
        if resolved and root_causes is not None:
            ticket = await ticket_of(message, desk)
            if ticket is not None:
                await root_causes.after_resolve(
                    message, ticket.id, ticket.category, cause, agent.user_id
                )

    def set_status(target: TicketStatus) -> Callable[[Message, AgentRef], Awaitable[None]]:
        async def handler(message: Message, agent: AgentRef) -> None:
            await _run(
                message, ctx, lambda tid: desk.set_status(tid, agent, target, cause=_cause(message))
            )

        return handler

    def set_banned(banned: bool) -> Callable[[Message, AgentRef], Awaitable[None]]:
        async def handler(message: Message, agent: AgentRef) -> None:
            await _run(
                message,
                ctx,
                lambda tid: desk.set_banned(tid, agent, banned=banned, cause=_cause(message)),
            )

        return handler

    router.message.register(set_status(TicketStatus.CLOSED), Command("close"))
    router.message.register(set_status(TicketStatus.REOPENED), Command("reopen"))
    router.message.register(set_banned(True), Command("ban"))
    router.message.register(set_banned(False), Command("unban"))

    @router.message(Command("away"))
    async def away(message: Message, agent: AgentRef) -> None:
        await desk.set_available(agent, available=False)
        await message.reply(t("desk.away"))

    @router.message(Command("back"))
    async def back(message: Message, agent: AgentRef) -> None:
        await desk.set_available(agent, available=True)
        await message.reply(t("desk.back"))

    @router.message(Command("templates"))
    async def templates(message: Message) -> None:
        if not ctx.templates:
            await message.reply(t("desk.templates.empty"))
            return
        lines = [t("desk.templates.title")]
        lines += [
            t("desk.templates.line", name=name, title=template.title(ctx.style.locale))
            for name, template in sorted(ctx.templates.items())
        ]
        await message.reply("\n".join(lines))

    @router.message(Command("t"))
    async def send_template(message: Message, command: CommandObject, agent: AgentRef) -> None:
        name = (command.args or "").strip().lower()
        template = ctx.templates.get(name)
        if template is None:
            await message.reply(t("desk.templates.unknown", name=shorten(name, 64)))
            return

        def render(customer: CustomerView, ticket: TicketView) -> str:
            return template.render(
                customer.locale,
                customer_name=customer.first_name,
                ticket_number=ticket.number,
                agent_name=agent.name,
            )

        await _run(
            message, ctx, lambda tid: desk.canned_reply(tid, agent, render, cause=_cause(message))
        )

    @router.message(Command("note"))
    async def note(message: Message, agent: AgentRef) -> None:
        await _run(
            message,
            ctx,
            lambda tid: desk.add_note(tid, agent, agent_message(message, strip_prefix="/note")),
        )

    register_decision(router, desk)

    @router.message(CommandLike())
    async def unknown_command(message: Message) -> None:
        """Commands never reach the customer."""

    @router.message()
    async def relay(message: Message, agent: AgentRef) -> None:
        content = (message.text or message.caption or "").lstrip()
        is_note = content.lower().startswith(NOTE_PREFIX)
        try:
            if not is_note and message.is_topic_message and message.message_thread_id:
                # The reply finds its ticket by the topic in its own statement; a topic that
                # is no ticket's goes on to the replied message, as `ticket_of` does.
                topic = message.message_thread_id
                if await desk.agent_reply(agent, agent_message(message), topic_id=topic):
                    return
                ticket = await _ticket_replied_to(message, desk)
            else:
                ticket = await ticket_of(message, desk)
            if ticket is None:
                return
            if is_note:
                await desk.add_note(
                    ticket.id, agent, agent_message(message, strip_prefix=NOTE_PREFIX)
                )
                return
            await desk.agent_reply(agent, agent_message(message), ticket_id=ticket.id)
        except (IllegalTransition, DeskError) as error:
            await message.reply(explain(error))

    @router.edited_message()
    async def edited(message: Message, agent: AgentRef) -> None:
        await desk.agent_edited(agent, agent_message(message))

    return router
