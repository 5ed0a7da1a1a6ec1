"""Incident commands in the staff group: /incident, /incidents, /link, /unlink (and the
buttons); those of an incident's own topic are in `incident_topic_commands`."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.domain.incidents import format_incident_number, parse_incident_number
from bot.services.desk import AgentRef, DeskError, TicketView
from bot.telegram.i18n import t, t_count, t_plain
from bot.telegram.staff.group import ticket_of
from bot.telegram.staff.incident_alerts import on_button
from bot.telegram.staff.incident_topic_commands import add_topic_commands
from bot.telegram.staff.incident_topics import (
    IncidentCallback,
    IncidentDesk,
    InIncidentTopic,
    explain,
    fit,
)


def build_group_router(ctx: IncidentDesk) -> Router:
    """Goes before the desk's group router (its catch-all would swallow these commands)."""
    router = Router(name="incidents")
    service, topics = ctx.service, ctx.topics
    assert topics is not None

    @router.message(Command("incident"))
    async def declare(message: Message, command: CommandObject, agent: AgentRef) -> None:
        title = (command.args or "").strip()
        if not title:
            await message.reply(t("incidents.usage.incident"))
            return
        ticket = await ticket_of(message, ctx.desk)
        try:
            incident = await service.lifecycle.declare(
                agent=agent, title=title, ticket_id=ticket.id if ticket else None
            )
        except DeskError as error:
            await message.reply(explain(error))
            return
        assert incident.id is not None
        await ctx.open_topic(incident.id)
        await message.reply(t("incidents.declared", number=incident.number, title=incident.title))

    @router.message(Command("incidents"))
    async def list_open(message: Message) -> None:
        views = await service.lifecycle.open_views()
        if not views:
            await message.reply(t("incidents.list.empty"))
            return
        lines = [t("incidents.list.title", count=len(views))]
        for view in views:
            lines.append(
                t(
                    "incidents.list.line",
                    number=view.incident.number,
                    title=view.incident.title,
                    status=t_plain(f"incidents.status.{view.incident.status}"),
                    tickets=t_count("count.tickets", len(view.tickets)),
                )
            )
        await message.reply(fit(lines))

    @router.message(Command("link"))
    async def link(message: Message, command: CommandObject, agent: AgentRef) -> None:
        value = parse_incident_number(command.args or "")
        if value is None:
            await message.reply(t("incidents.usage.link"))
            return
        ticket = await _ticket_or_reply(message, ctx)
        if ticket is None or ticket.id is None:
            return
        try:
            incident = await service.lifecycle.link(format_incident_number(value), ticket.id, agent)
        except DeskError as error:
            await message.reply(explain(error))
            return
        assert incident.id is not None
        await ctx.refresh(incident.id)
        await message.reply(t("incidents.linked", number=ticket.number, incident=incident.number))

    @router.message(Command("unlink"))
    async def unlink(message: Message) -> None:
        ticket = await _ticket_or_reply(message, ctx)
        if ticket is None or ticket.id is None:
            return
        try:
            incident, _ticket = await service.lifecycle.unlink(ticket.id)
        except DeskError as error:
            await message.reply(explain(error))
            return
        assert incident.id is not None
        await ctx.refresh(incident.id)
        await message.reply(t("incidents.unlinked", number=ticket.number, incident=incident.number))

    add_topic_commands(router, ctx, InIncidentTopic(topics))

    @router.callback_query(IncidentCallback.filter())
    async def button(
        query: CallbackQuery, callback_data: IncidentCallback, agent: AgentRef
    ) -> None:
        await on_button(query, callback_data, agent, ctx)

    return router


async def _ticket_or_reply(message: Message, ctx: IncidentDesk) -> TicketView | None:
    ticket = await ticket_of(message, ctx.desk)
    if ticket is None:
        await message.reply(t("incidents.error.not_in_ticket"))
    return ticket
