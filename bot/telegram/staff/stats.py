"""Statistics for supervisors in Telegram: /stats, charts, /export, and root causes.

`/stats` works in any topic of the staff group (staff only: the group's gate) and, for
`SUPERVISOR_IDS`, in a private chat with the bot. Its buttons choose the period and the
breakdown and edit the same message; Charts sends an album, Export the files. After a
resolution the agent can name the root cause with `#cause` in `/resolve` or one tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    TelegramObject,
)

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.form import FormSchema
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import Catalogs
from bot.services.analytics import Analytics, Period, PeriodError, parse_period
from bot.services.analytics.causes import CauseError, RootCauses, record_cause
from bot.services.analytics.export import export_folder
from bot.services.analytics.metrics import BREAKDOWNS
from bot.services.analytics.periods import PRESETS, local_today, preset
from bot.services.analytics.text import StatsStyle, staff_style
from bot.telegram.filters import PrivateChat
from bot.telegram.i18n import CatalogI18n, t, t_count, t_plain
from bot.telegram.staff.access import DeskLanguage
from bot.telegram.staff.stats_text import summary_text
from bot.telegram.text_limits import CAPTION_LIMIT, shorten
from bot.telegram.users import human_sender
from storage.unit_of_work import Database

DEFAULT_PERIOD = "7d"


class StatsCallback(CallbackData, prefix="st"):
    # v: show (period / breakdown), c: charts, x: export
    action: str
    period: str = DEFAULT_PERIOD
    by: str = ""


class CauseCallback(CallbackData, prefix="sc"):
    ticket_id: int
    cause: str


@dataclass
class StatsDesk:
    analytics: Analytics
    style: StatsStyle
    causes: RootCauses
    database: Database
    clock: Clock
    supervisor_ids: frozenset[int]

    def today(self) -> date:
        return local_today(self.clock.now(), self.style.zone)


def period_token(period: Period) -> str:
    return f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"


def period_of(token: str, today: date) -> Period:
    """A preset name or ``YYYYMMDD-YYYYMMDD`` from a button."""
    if token in PRESETS:
        return preset(token, today)
    first, _, last = token.partition("-")
    try:
        return Period(
            date(int(first[:4]), int(first[4:6]), int(first[6:])),
            date(int(last[:4]), int(last[4:6]), int(last[6:])),
        )
    except ValueError as error:
        raise PeriodError(str(error)) from None


def stats_keyboard(period: str, by: str) -> InlineKeyboardMarkup:
    def choice(key: str, data: StatsCallback, chosen: bool) -> InlineKeyboardButton:
        text = t_plain(key)
        return InlineKeyboardButton(text=f"• {text}" if chosen else text, callback_data=data.pack())

    periods = [
        choice(
            f"stats.period.{name}", StatsCallback(action="v", period=name, by=by), name == period
        )
        for name in PRESETS
    ]
    breakdowns = [
        choice(
            f"stats.by.{name}",
            StatsCallback(action="v", period=period, by="" if name == by else name),
            name == by,
        )
        for name in BREAKDOWNS
    ]
    actions = [
        choice("stats.button.charts", StatsCallback(action="c", period=period, by=by), False),
        choice("stats.button.export", StatsCallback(action="x", period=period, by=by), False),
    ]
    return InlineKeyboardMarkup(inline_keyboard=[periods[:3], periods[3:], breakdowns, actions])


async def _summary(stats: StatsDesk, period: Period, by: str) -> str:
    named = await stats.analytics.named_report(period, by or None)
    return summary_text(stats.style, named.report, named.agent_names)


async def send_charts(stats: StatsDesk, message: Message, period: Period, by: str) -> list[Message]:
    report = await stats.analytics.report(period, by or None)
    charts = await stats.analytics.charts(report, stats.style.label, stats.style.category_titles)
    caption = shorten(
        t_plain(
            "stats.charts.caption", first=f"{period.first:%d.%m.%Y}", last=f"{period.last:%d.%m.%Y}"
        ),
        CAPTION_LIMIT,
    )
    media = [
        InputMediaPhoto(
            media=BufferedInputFile(chart.png, filename=chart.name),
            caption=caption if index == 0 else None,
        )
        for index, chart in enumerate(charts)
    ]
    return await message.answer_media_group(media)  # type: ignore[arg-type]


async def send_export(stats: StatsDesk, message: Message, period: Period) -> None:
    with export_folder() as folder:
        result = await stats.analytics.export(period, folder)
        for file in result.files:
            await message.answer_document(FSInputFile(file.path, filename=file.name))
        notes = [
            t(
                "stats.export.done",
                tickets=t_count("count.tickets", result.tickets),
                events=t_count("count.events", result.events),
                first=f"{period.first:%d.%m.%Y}",
                last=f"{period.last:%d.%m.%Y}",
            )
        ]
        if result.split:
            notes.append(t("stats.export.split"))
        elif result.zipped:
            notes.append(t("stats.export.zipped"))
        if result.xlsx_too_large:
            notes.append(t("stats.export.xlsx_too_large"))
        await message.answer("\n".join(notes))


def _register(router: Router, stats: StatsDesk) -> None:
    @router.message(Command("stats"))
    async def show_stats(message: Message, command: CommandObject) -> None:
        argument = (command.args or "").strip()
        try:
            period = parse_period(argument or DEFAULT_PERIOD, stats.today())
        except PeriodError:
            await message.reply(t("stats.error.period"))
            return
        token = argument.lower() if argument.lower() in PRESETS else period_token(period)
        if not argument:
            token = DEFAULT_PERIOD
        text = await _summary(stats, period, "")
        await message.reply(text, reply_markup=stats_keyboard(token, ""))

    @router.message(Command("export"))
    async def export(message: Message, command: CommandObject) -> None:
        try:
            period = parse_period((command.args or "").strip() or DEFAULT_PERIOD, stats.today())
        except PeriodError:
            await message.reply(t("stats.error.period"))
            return
        await message.reply(t("stats.export.working"))
        await send_export(stats, message, period)

    @router.callback_query(StatsCallback.filter())
    async def press(query: CallbackQuery, callback_data: StatsCallback) -> None:
        message = query.message if isinstance(query.message, Message) else None
        by = callback_data.by if callback_data.by in BREAKDOWNS else ""
        try:
            period = period_of(callback_data.period, stats.today())
        except PeriodError:
            await query.answer(t_plain("stats.error.period_plain"), show_alert=True)
            return
        if message is None:
            await query.answer(t_plain("stats.error.old_message"), show_alert=True)
            return
        if callback_data.action == "c":
            await query.answer(t_plain("stats.charts.working"))
            await send_charts(stats, message, period, by)
            return
        if callback_data.action == "x":
            await query.answer(t_plain("stats.export.working_plain"))
            await send_export(stats, message, period)
            return
        await query.answer()
        text = await _summary(stats, period, by)
        try:
            await message.edit_text(text, reply_markup=stats_keyboard(callback_data.period, by))
        except TelegramBadRequest as error:
            if "message is not modified" not in error.message.lower():
                raise


def build_group_router(stats: StatsDesk) -> Router:
    """For the staff group; the wiring puts the group's chat filter and staff gate on it."""
    router = Router(name="staff_stats")
    _register(router, stats)

    @router.callback_query(CauseCallback.filter())
    async def pick_cause(query: CallbackQuery, callback_data: CauseCallback) -> None:
        user = query.from_user
        try:
            recorded = await record_cause(
                stats.database,
                stats.causes,
                ticket_id=callback_data.ticket_id,
                cause_id=callback_data.cause,
                agent_id=user.id,
                now=stats.clock.now(),
            )
        except CauseError as error:
            await query.answer(t_plain(error.key, **error.params), show_alert=True)
            return
        title = recorded.cause.title(stats.style.locale)
        await query.answer(t_plain("stats.cause.recorded_plain", cause=title))
        if isinstance(query.message, Message):
            await query.message.edit_text(
                t("stats.cause.recorded", number=recorded.number, cause=title), reply_markup=None
            )

    return router


class Supervisor(Filter):
    """A user listed in SUPERVISOR_IDS."""

    def __init__(self, ids: frozenset[int]) -> None:
        self.ids = ids

    async def __call__(self, event: TelegramObject) -> bool:
        user = human_sender(event)
        return user is not None and user.id in self.ids


def build_private_router(stats: StatsDesk, i18n: CatalogI18n) -> Router:
    """/stats and /export for supervisors in their private chat with the bot; everyone
    else's commands go on to the customer side as before."""
    router = Router(name="supervisor_stats")
    for observer in (router.message, router.callback_query):
        observer.filter(PrivateChat())
        observer.filter(Supervisor(stats.supervisor_ids))
        observer.middleware(DeskLanguage(i18n, stats.style.locale))
    _register(router, stats)
    return router


class RootCauseFlow:
    """After a resolution in the staff group: record `#cause` or offer the causes as buttons."""

    def __init__(self, stats: StatsDesk) -> None:
        self._stats = stats

    async def after_resolve(
        self, message: Message, ticket_id: int, category: str, cause_id: str | None, agent_id: int
    ) -> None:
        stats = self._stats
        offered = stats.causes.for_category(category)
        if cause_id is not None:
            try:
                recorded = await record_cause(
                    stats.database,
                    stats.causes,
                    ticket_id=ticket_id,
                    cause_id=cause_id,
                    agent_id=agent_id,
                    now=stats.clock.now(),
                )
            except CauseError as error:
                await message.reply(t(error.key, **error.params))
            else:
                title = recorded.cause.title(stats.style.locale)
                await message.reply(t("stats.cause.recorded", number=recorded.number, cause=title))
                return
        if not offered:
            return
        rows = [
            [
                InlineKeyboardButton(
                    text=cause.title(stats.style.locale),
                    callback_data=CauseCallback(ticket_id=ticket_id, cause=cause.id).pack(),
                )
            ]
            for cause in offered
        ]
        await message.answer(
            t("stats.cause.ask"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )


def build_stats_desk(
    *,
    settings: Settings,
    database: Database,
    clock: Clock,
    catalogs: Catalogs,
    schema: FormSchema,
    sla: SlaPolicy,
    causes: RootCauses,
) -> StatsDesk:
    locale = settings.default_locale
    zone = ZoneInfo(settings.timezone)
    style = staff_style(catalogs, locale, zone, schema, causes)
    return StatsDesk(
        analytics=Analytics(database.engine, sla, zone, clock),
        style=style,
        causes=causes,
        database=database,
        clock=clock,
        supervisor_ids=frozenset(settings.supervisor_ids),
    )
