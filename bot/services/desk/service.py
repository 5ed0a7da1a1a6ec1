"""The staff desk's use cases, as the Telegram layer reaches them.

Each field is one use case: a plain class whose collaborators were passed to its constructor
by the composition root (`bot/telegram/staff/compose.py`), called like a function
(`await desk.take(ticket_id, agent, cause=...)`). This class holds them and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.desk.agent_relay import AgentEdited, AgentReply, CannedReply
from bot.services.desk.assignment import Assign, RouteTicket, SetAvailable, Take
from bot.services.desk.bans import BanNoticeDue, SetBanned
from bot.services.desk.cards import CardQueries, RequestCardRefresh
from bot.services.desk.customer_relay import CustomerEdited, RelayCustomerMessage
from bot.services.desk.notes import AddNote
from bot.services.desk.resolve import Resolve
from bot.services.desk.status import CustomerConfirms, SetPriority, SetStatus


@dataclass(frozen=True, slots=True)
class DeskService:
    take: Take
    assign: Assign
    set_available: SetAvailable
    route: RouteTicket
    set_status: SetStatus
    set_priority: SetPriority
    resolve: Resolve
    customer_confirms: CustomerConfirms
    agent_reply: AgentReply
    canned_reply: CannedReply
    agent_edited: AgentEdited
    relay_customer_message: RelayCustomerMessage
    customer_edited: CustomerEdited
    add_note: AddNote
    set_banned: SetBanned
    ban_notice_due: BanNoticeDue
    cards: CardQueries
    request_card_refresh: RequestCardRefresh
