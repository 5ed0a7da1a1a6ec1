"""The knowledge base in the staff group: /kb_gaps, /kb_reload and sending related articles.

The wiring puts the staff group's chat filter and staff check on this router; /kb_reload is
further limited to the group's administrators.
"""

from __future__ import annotations

import asyncio
import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.locales.catalog import Markup
from bot.services.desk import AgentRef, DeskError
from bot.services.kb_desk import KnowledgeDesk
from bot.services.knowledge import Gap, ReloadResult
from bot.telegram.i18n import t, t_count, t_plain
from bot.telegram.staff.access import StaffDirectory
from bot.telegram.staff.kb_card import KbArticleCallback
from bot.telegram.text_limits import TEXT_LIMIT, shorten_line, utf16_len

MAX_TEXT = TEXT_LIMIT
SAMPLE_LENGTH = 200
ERROR_LENGTH = 500
GAPS_SHOWN = 10


def gaps_text(gaps: list[Gap]) -> str:
    """The gap report: each group with its count and up to three phrasings, within 4096."""
    if not gaps:
        return t("kb.gaps.empty")
    text = t("kb.gaps.title")
    for rank, gap in enumerate(gaps, start=1):
        lines = [
            t(
                "kb.gaps.line",
                rank=rank,
                count=gap.count,
                example=shorten_line(gap.example, SAMPLE_LENGTH),
            )
        ]
        lines += [
            t("kb.gaps.sample", text=shorten_line(sample, SAMPLE_LENGTH))
            for sample in gap.samples[1:3]
        ]
        block = "\n\n" + "\n".join(lines)
        if utf16_len(text) + utf16_len(block) > MAX_TEXT:
            break
        text += block
    return text


def reload_text(result: ReloadResult) -> str:
    if result.ok:
        return t("kb.reload.ok", entries=t_count("count.articles", result.entries))
    entries = t_count("count.articles", result.entries)
    budget = MAX_TEXT - utf16_len(t("kb.reload.failed", entries=entries, errors="")) - 1
    errors = result.errors
    shown: list[str] = []
    used = 0
    for index, error in enumerate(errors):
        line = html.escape("• " + shorten_line(error, ERROR_LENGTH), quote=False)
        rest = len(errors) - index - 1
        reserve = utf16_len(t("kb.reload.more", count=rest)) + 1 if rest else 0
        if used + utf16_len(line) + 1 + reserve > budget:
            shown.append(t("kb.reload.more", count=len(errors) - index))
            break
        shown.append(line)
        used += utf16_len(line) + 1
    return t("kb.reload.failed", entries=entries, errors=Markup("\n".join(shown)))


def build_router(knowledge: KnowledgeDesk, directory: StaffDirectory) -> Router:
    router = Router(name="staff_knowledge")

    @router.message(Command("kb_gaps"))
    async def kb_gaps(message: Message) -> None:
        gaps = await knowledge.knowledge.gaps(limit=GAPS_SHOWN)
        await message.reply(gaps_text(gaps))

    @router.message(Command("kb_reload"))
    async def kb_reload(message: Message, agent: AgentRef) -> None:
        if agent.user_id not in await directory.admins():
            await message.reply(t("kb.reload.not_allowed"))
            return
        # Loading and indexing every file is CPU work: keep it off the event loop.
        result = await asyncio.to_thread(knowledge.knowledge.reload)
        await message.reply(reload_text(result))

    @router.callback_query(KbArticleCallback.filter())
    async def send_article(
        query: CallbackQuery, callback_data: KbArticleCallback, agent: AgentRef
    ) -> None:
        try:
            sent = await knowledge.send_article(
                callback_data.ticket_id, callback_data.entry, agent, cause=f"cb:{query.id}"
            )
        except DeskError as error:
            await query.answer(t_plain(error.key, **error.params), show_alert=True)
            return
        await query.answer(t_plain("kb.card.queued" if sent.sent else "kb.card.already_sent"))

    return router
