"""Resolving from the card: pick the resolution type with a button, then write the decision.

The card's "Resolved" button shows the resolution types; a type asks the agent (in the topic)
for the decision text, which is that agent's next text message in that topic. A cancel button
on the prompt drops it. The pending step is conversation state of the agent in the staff group
(so it survives a restart with a database or Redis storage); messages in other topics, and
commands, are handled as usual meanwhile.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.domain.tickets import IllegalTransition, ResolutionType
from bot.services.analytics.causes import split_cause_tag
from bot.services.desk import AgentRef, DeskError, DeskService, mention
from bot.telegram.filters import PlainText
from bot.telegram.i18n import t, t_count, t_plain
from bot.telegram.staff.callbacks import CardCallback
from bot.telegram.staff.card import CardStyle
from bot.telegram.staff.explain import explain
from bot.telegram.staff.stats import RootCauseFlow
from bot.telegram.text_limits import utf16_len

#: The longest decision text: the customer's message and the topic's note put a header around
#: it and must stay within one Telegram message.
MAX_DECISION = 3500


async def refuse_long_decision(message: Message, text: str) -> bool:
    """True, after replying with the limit, when the decision text is too long to send."""
    length = utf16_len(text)
    if length <= MAX_DECISION:
        return False
    await message.reply(
        t(
            "desk.resolve.too_long",
            limit=t_count("count.characters", MAX_DECISION),
            length=t_count("count.characters", length),
        )
    )
    return True


class ResolveFlow(StatesGroup):
    decision = State()


def resolution_keyboard(ticket_id: int, style: CardStyle) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=style.plain(f"desk.resolution.{kind.value}"),
                callback_data=CardCallback(
                    action="resolve_type", ticket_id=ticket_id, value=kind.value
                ).pack(),
            )
        ]
        for kind in ResolutionType
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=style.plain("desk.button.back"),
                callback_data=CardCallback(action="back", ticket_id=ticket_id).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cancel_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t_plain("desk.resolve.cancel_button"),
                    callback_data=CardCallback(action="resolve_cancel", ticket_id=ticket_id).pack(),
                )
            ]
        ]
    )


async def ask_decision(
    query: CallbackQuery,
    message: Message,
    data: CardCallback,
    agent: AgentRef,
    state: FSMContext,
) -> None:
    """A resolution type was chosen: ask this agent for the decision text in this topic."""
    resolution = ResolutionType(data.value)
    await query.answer()
    prompt = await message.answer(
        t(
            "desk.resolve.ask",
            agent=mention(agent.user_id, agent.name),
            decision=t_plain(f"desk.resolution.{resolution.value}"),
        ),
        reply_markup=cancel_keyboard(data.ticket_id),
    )
    await state.set_state(ResolveFlow.decision)
    await state.set_data(
        {
            "resolve_ticket": data.ticket_id,
            "resolve_thread": message.message_thread_id,
            "resolve_type": resolution.value,
            "resolve_prompt": prompt.message_id,
        }
    )


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(t_plain("desk.resolve.cancelled"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def _in_pending_topic(message: Message, state: FSMContext) -> bool | dict[str, Any]:
    """The agent's message is in the topic where the decision was asked for."""
    data = await state.get_data()
    if (
        data.get("resolve_ticket") is None
        or data.get("resolve_thread") != message.message_thread_id
    ):
        return False
    return {"pending": data}


def register_decision(router: Router, desk: DeskService) -> None:
    """Add the handler of the decision text to the staff group's router; call it after the
    command handlers and before the catch-all relay."""

    @router.message(
        StateFilter(ResolveFlow.decision),
        PlainText(),
        _in_pending_topic,
    )
    async def decision(
        message: Message,
        state: FSMContext,
        agent: AgentRef,
        pending: dict[str, Any],
        root_causes: RootCauseFlow | None = None,
    ) -> None:
        ticket_id = int(pending["resolve_ticket"])
        if await refuse_long_decision(message, (message.text or "").strip()):
            return  # still pending: a shorter text is the decision
        await state.clear()
        prompt = pending.get("resolve_prompt")
        if prompt is not None and message.bot is not None:
            await message.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=int(prompt), reply_markup=None
            )
        text, cause_id = split_cause_tag((message.text or "").strip())
        try:
            ticket = await desk.resolve(
                ticket_id,
                agent,
                resolution=ResolutionType(pending["resolve_type"]),
                text=text,
                cause=f"msg:{message.chat.id}:{message.message_id}",
            )
        except (IllegalTransition, DeskError) as error:
            await message.reply(explain(error))
            return
        await desk.request_card_refresh(ticket_id)
        if root_causes is not None:
            await root_causes.after_resolve(
                message, ticket_id, ticket.category, cause_id, agent.user_id
            )
