"""An alert's buttons (Declare incident, Not an incident, Show tickets) and the incident
card's status buttons, in the staff group or in a supervisor's private chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.locales.catalog import Catalogs
from bot.services.desk import AgentRef, DeskError
from bot.services.outbox import Button, Buttons
from bot.telegram.filters import PrivateChat
from bot.telegram.i18n import CatalogI18n, t, t_plain
from bot.telegram.staff.access import StaffDirectory, agent_of
from bot.telegram.staff.incident_topics import IncidentCallback, IncidentDesk, fit
from bot.telegram.text_limits import shorten

ALERT_LIST = 20


class AlertKeyboard:
    def __init__(self, catalogs: Catalogs) -> None:
        self._catalogs = catalogs

    def alert(self, alert_id: int, locale: str) -> Buttons:
        def make(key: str, action: str) -> Button:
            return {
                "text": self._catalogs.plain(key, locale),
                "callback_data": IncidentCallback(action=action, id=alert_id).pack(),
            }

        return [
            [make("incidents.button.declare", "declare")],
            [
                make("incidents.button.dismiss", "dismiss"),
                make("incidents.button.show", "show"),
            ],
        ]


async def on_button(
    query: CallbackQuery, data: IncidentCallback, agent: AgentRef, ctx: IncidentDesk
) -> None:
    service = ctx.service
    try:
        if data.action == "declare":
            incident = await service.lifecycle.declare(agent=agent, alert_id=data.id)
            assert incident.id is not None
            await ctx.open_topic(incident.id)
            await query.answer(t_plain("incidents.declared_plain", number=incident.number))
            if isinstance(query.message, Message):
                await query.message.answer(
                    t("incidents.declared", number=incident.number, title=incident.title)
                )
            return
        if data.action == "dismiss":
            await service.lifecycle.dismiss(data.id, agent)
            await query.answer(t_plain("incidents.dismissed"))
            if isinstance(query.message, Message):
                await query.message.answer(t("incidents.dismissed_by", agent=agent.name))
            return
        if data.action == "show":
            await query.answer()
            _alert, tickets = await service.lifecycle.alert_tickets(data.id)
            lines = [t("incidents.show.title", count=len(tickets))]
            lines += [
                t(
                    "incidents.show.line",
                    number=ticket.number,
                    status=t_plain(f"desk.status.{ticket.status}"),
                    text=shorten(" ".join((ticket.description or "").split()), 80),
                )
                for ticket in tickets[:ALERT_LIST]
            ]
            if isinstance(query.message, Message):
                await query.message.answer(fit(lines))
            return
        if data.action == "status":
            await service.lifecycle.set_status(data.id, data.value)
            await ctx.refresh(data.id)
            await query.answer(t_plain("desk.done"))
            return
    except DeskError as error:
        await query.answer(t_plain(error.key, **error.params), show_alert=True)
        return
    await query.answer()


def build_supervisor_router(
    ctx: IncidentDesk,
    directory: StaffDirectory | None,
    supervisor_ids: list[int],
    i18n: CatalogI18n,
    locale: str,
) -> Router:
    """Alert buttons pressed in a supervisor's private chat (the alert is sent there too);
    the dispatcher includes it before the customer router."""
    router = Router(name="incident_supervisors")
    router.callback_query.filter(PrivateChat())
    supervisors = frozenset(supervisor_ids)

    @router.callback_query(IncidentCallback.filter())
    async def button(query: CallbackQuery, callback_data: IncidentCallback) -> None:
        user = query.from_user
        with i18n.context(), i18n.use_locale(locale):
            allowed = user.id in supervisors or (
                directory is not None and await directory.is_staff(user.id)
            )
            if not allowed:
                await query.answer(i18n.plain("desk.refused"), show_alert=True)
                return
            await on_button(query, callback_data, agent_of(user), ctx)

    return router
