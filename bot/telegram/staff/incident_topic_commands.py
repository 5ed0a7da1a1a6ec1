"""Commands in an incident's own topic: /update (to every linked customer), /public (the
text customers are told), /resolve (the incident and every linked ticket still open)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.domain.tickets import ResolutionType
from bot.services.desk import AgentRef, DeskError
from bot.telegram.i18n import t, t_count
from bot.telegram.staff.incident_topics import IncidentDesk, InIncidentTopic, explain


def add_topic_commands(router: Router, ctx: IncidentDesk, in_incident: InIncidentTopic) -> None:
    """/update, /public and /resolve in an incident's topic; /update and /public elsewhere
    only get their usage."""
    service = ctx.service

    @router.message(Command("update"), in_incident)
    async def update(message: Message, command: CommandObject, agent: AgentRef) -> None:
        incident_id = await ctx.incident_of(message)
        text = (command.args or "").strip()
        if incident_id is None or not text:
            await message.reply(t("incidents.usage.update"))
            return
        try:
            count = await service.fanout.post_update(incident_id, text, agent)
        except DeskError as error:
            await message.reply(explain(error))
            return
        await message.reply(
            t("incidents.update_sent", customers=t_count("count.to_customers", count))
        )

    @router.message(Command("public"), in_incident)
    async def public(message: Message, command: CommandObject) -> None:
        incident_id = await ctx.incident_of(message)
        text = (command.args or "").strip()
        if incident_id is None or not text:
            await message.reply(t("incidents.usage.public"))
            return
        try:
            await service.lifecycle.set_public_text(incident_id, text)
        except DeskError as error:
            await message.reply(explain(error))
            return
        await ctx.refresh(incident_id)
        await message.reply(t("incidents.public_set"))

    @router.message(Command("resolve"), in_incident)
    async def resolve(message: Message, command: CommandObject, agent: AgentRef) -> None:
        incident_id = await ctx.incident_of(message)
        kind, _, text = (command.args or "").strip().partition(" ")
        try:
            resolution = ResolutionType(kind.lower())
        except ValueError:
            resolution = None
        if incident_id is None or resolution is None or not text.strip():
            await message.reply(t("incidents.usage.resolve"))
            return
        try:
            result = await service.fanout.resolve(
                incident_id, agent, resolution=resolution, text=text.strip()
            )
        except DeskError as error:
            await message.reply(explain(error))
            return
        await ctx.refresh(incident_id)
        await message.reply(
            t(
                "incidents.resolved",
                number=result.incident.number,
                resolved=result.resolved,
                left=result.left_alone,
            )
        )

    @router.message(Command("update", "public"))
    async def outside_incident(message: Message, command: CommandObject) -> None:
        await message.reply(t(f"incidents.usage.{command.command}"))
