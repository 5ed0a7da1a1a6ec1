"""`/privacy`, `/mydata` and `/deletemydata` (two-step confirmation) in the customer's chat."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.tickets import Actor
from bot.locales.catalog import Catalogs
from bot.services.customers import CustomerService
from bot.services.privacy import ExportTooSoon, NothingToErase, PrivacyService
from bot.telegram.filters import MaybeCommand, PrivateChat
from bot.telegram.formatting import local_datetime
from bot.telegram.i18n import CatalogI18n, current_locale, t, t_plain
from bot.telegram.middlewares import CustomerContextMiddleware
from bot.telegram.text_limits import split_text
from storage.models import Customer

BUILT_IN_POLICIES = Path(__file__).resolve().parent.parent.parent / "privacy_policy"
LOCALE_PLACEHOLDER = "{locale}"


class PrivacyCallback(CallbackData, prefix="pv"):
    action: str  # continue, confirm, cancel


class PolicyError(RuntimeError):
    """A privacy policy file is missing or unreadable (stops the start)."""


class PrivacyPolicy:
    """The policy text per language: `PRIVACY_POLICY_FILE` (with `{locale}` in the path for
    one file per language) or the built-in files in `bot/privacy_policy/`.

    `{company}` and `{retention}` in the text are filled from `COMPANY_NAME` and
    `RETENTION_DAYS`; the rest is Telegram HTML the company writes as it likes.
    """

    def __init__(
        self,
        catalogs: Catalogs,
        *,
        path: Path | None,
        company: str,
        retention_days: float | None,
    ) -> None:
        self._texts: dict[str, str] = {}
        for locale in catalogs.locales:
            if path is None:
                file = BUILT_IN_POLICIES / f"{locale}.html"
            else:
                file = Path(str(path).replace(LOCALE_PLACEHOLDER, locale))
            try:
                text = file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise PolicyError(f"privacy policy {file}: {error.strerror or error}") from error
            if retention_days is None:
                retention = catalogs.render("privacy.policy.retention_forever", locale)
            else:
                period = _retention_period(catalogs, locale, retention_days)
                retention = catalogs.render("privacy.policy.retention_days", locale, period=period)
            company_text = (
                catalogs.render("privacy.policy.company_unset", locale)
                if not company
                else catalogs.render("privacy.policy.company", locale, name=company)
            )
            self._texts[locale] = text.replace("{company}", company_text).replace(
                "{retention}", retention
            )

    def text(self, locale: str) -> str:
        return self._texts.get(locale) or next(iter(self._texts.values()))


def _retention_period(catalogs: Catalogs, locale: str, days: float) -> str:
    """The retention period in whole days, or in hours when it is not a whole number of days."""
    if days == int(days):
        return catalogs.count("count.days", locale, int(days))
    return catalogs.count("count.hours", locale, max(1, round(days * 24)))


def _ask_keyboard(confirm: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if confirm:
        builder.button(
            text=t_plain("privacy.delete.confirm_button"),
            callback_data=PrivacyCallback(action="confirm"),
        )
    else:
        builder.button(
            text=t_plain("privacy.delete.continue"),
            callback_data=PrivacyCallback(action="continue"),
        )
    builder.button(
        text=t_plain("privacy.delete.cancel"), callback_data=PrivacyCallback(action="cancel")
    )
    builder.adjust(1)
    return builder.as_markup()


def build_router(policy: PrivacyPolicy, customers: CustomerService, i18n: CatalogI18n) -> Router:
    """In private chats; the customer is registered (inner middleware: only when one of these
    handlers matched, so other messages pay nothing but the filter checks)."""
    router = Router(name="customer_privacy")
    context = CustomerContextMiddleware(customers, i18n)
    for observer in (router.message, router.callback_query):
        observer.filter(PrivateChat())
        observer.middleware(context)

    @router.message(MaybeCommand(), Command("privacy"))
    async def privacy(message: Message) -> None:
        for part in split_text(policy.text(current_locale())):
            await message.answer(part)

    @router.message(MaybeCommand(), Command("mydata"))
    async def mydata(
        message: Message, customer: Customer, privacy: PrivacyService, business_zone: ZoneInfo
    ) -> None:
        assert customer.id is not None
        try:
            export = await privacy.export(customer_id=customer.id, locale=current_locale())
        except ExportTooSoon as error:
            await message.answer(
                t("privacy.mydata.too_soon", at=local_datetime(error.retry_at, business_zone))
            )
            return
        try:
            await message.answer_document(
                BufferedInputFile(export.json_bytes, filename="my-data.json"),
                caption=t("privacy.mydata.json_caption"),
            )
            await message.answer_document(
                BufferedInputFile(export.text_bytes, filename="my-data.txt"),
                caption=t("privacy.mydata.text_caption"),
            )
        except TelegramAPIError:
            await privacy.export_not_delivered(customer_id=customer.id)
            raise

    @router.message(MaybeCommand(), Command("deletemydata"))
    async def deletemydata(message: Message) -> None:
        await message.answer(t("privacy.delete.ask"), reply_markup=_ask_keyboard(confirm=False))

    @router.callback_query(PrivacyCallback.filter(F.action == "continue"))
    async def step_two(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None and isinstance(query.message, Message):
            await query.message.edit_text(
                t("privacy.delete.confirm"), reply_markup=_ask_keyboard(confirm=True)
            )

    @router.callback_query(PrivacyCallback.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None and isinstance(query.message, Message):
            await query.message.edit_text(t("privacy.delete.cancelled"))

    @router.callback_query(PrivacyCallback.filter(F.action == "confirm"))
    async def confirm(
        query: CallbackQuery,
        customer: Customer,
        privacy: PrivacyService,
        state: FSMContext,
    ) -> None:
        assert customer.id is not None
        await query.answer()
        try:
            report = await privacy.erase(customer_id=customer.id, actor=Actor.customer(customer.id))
        except NothingToErase:
            text = t("privacy.delete.nothing")
        else:
            await state.clear()  # a half-filled form holds answers too
            text = t("privacy.delete.done", closed=", ".join(report.closed) or "—")
        if query.message is not None and isinstance(query.message, Message):
            await query.message.edit_text(text)

    return router
