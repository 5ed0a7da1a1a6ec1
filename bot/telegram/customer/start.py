"""Greeting, main menu, help and language choice."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.customers import CustomerService
from bot.telegram.callbacks import LanguageCallback, MenuCallback
from bot.telegram.customer.states import QuestionFlow
from bot.telegram.filters import MaybeCommand
from bot.telegram.i18n import CatalogI18n, t
from bot.telegram.keyboards import language_menu, main_menu
from storage.models import Customer


async def start(message: Message, customer: Customer) -> None:
    await message.answer(t("start.greeting", name=customer.first_name), reply_markup=main_menu())


async def help_command(message: Message) -> None:
    await message.answer(t("help.text"), reply_markup=main_menu())


async def menu_command(message: Message) -> None:
    await message.answer(t("menu.title"), reply_markup=main_menu())


async def menu_button(query: CallbackQuery) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(t("menu.title"), reply_markup=main_menu())


async def question_button(query: CallbackQuery, state: FSMContext) -> None:
    """The next text is a question for the knowledge base (unless a form is being filled)."""
    await query.answer()
    if await state.get_state() is None:
        await state.set_state(QuestionFlow.asking)
    if query.message is not None:
        await query.message.answer(t("question.prompt"))


async def language_command(message: Message, i18n: CatalogI18n) -> None:
    await message.answer(t("language.choose"), reply_markup=language_menu(i18n.available_locales))


async def language_button(query: CallbackQuery, i18n: CatalogI18n) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            t("language.choose"), reply_markup=language_menu(i18n.available_locales)
        )


async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    customer: Customer,
    customers: CustomerService,
    i18n: CatalogI18n,
) -> None:
    if callback_data.locale not in i18n.available_locales:
        await query.answer(t("language.unknown"), show_alert=True)
        return
    assert customer.id is not None
    await customers.set_locale(customer_id=customer.id, locale=callback_data.locale)
    with i18n.use_locale(callback_data.locale):
        await query.answer()
        if query.message is not None:
            await query.message.answer(t("language.changed"), reply_markup=main_menu())


def build_router() -> Router:
    router = Router(name="customer_start")
    router.message.filter(MaybeCommand())  # its message handlers are all commands
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(menu_command, Command("menu"))
    router.callback_query.register(menu_button, MenuCallback.filter(F.action == "menu"))
    router.callback_query.register(question_button, MenuCallback.filter(F.action == "question"))
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_button, MenuCallback.filter(F.action == "language"))
    router.callback_query.register(language_chosen, LanguageCallback.filter())
    return router
