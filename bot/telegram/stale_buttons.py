"""The last word on a button press: whatever no handler took (an old button, a forged or
unknown payload) is answered as out of date, so no button keeps spinning."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.telegram.i18n import CatalogI18n, t_plain


async def out_of_date(query: CallbackQuery) -> None:
    """For the routers that have set the language (the customer's, the staff group's)."""
    await query.answer(t_plain("button.out_of_date"))


def build_router() -> Router:
    """The dispatcher's last router: presses outside the customer's and the staff group's
    routers, in the presser's Telegram language."""
    router = Router(name="stale_buttons")

    @router.callback_query()
    async def anywhere(query: CallbackQuery, i18n: CatalogI18n) -> None:
        locale = i18n.catalogs.resolve_locale(query.from_user.language_code)
        await query.answer(i18n.catalogs.plain("button.out_of_date", locale))

    return router
