"""The staff desk's use cases, built once in dependency order.

The shared collaborators come first (the steps every use case is made of, the messages they
cause), then each use case with exactly what it needs. `notify` wakes the delivery worker
after a commit; it is made before the worker (see `install.py`), so nothing here is set
after construction.
"""

from __future__ import annotations

from bot.domain.clock import Clock
from bot.domain.sla import SlaPolicy
from bot.locales.catalog import Catalogs
from bot.services.desk import CustomerButtons, DeskConfig, DeskService
from bot.services.desk.agent_relay import AgentEdited, AgentReply, CannedReply
from bot.services.desk.assignment import Assign, RouteTicket, SetAvailable, Take
from bot.services.desk.bans import BanNoticeDue, SetBanned
from bot.services.desk.cards import CardQueries, RequestCardRefresh
from bot.services.desk.customer_relay import CustomerEdited, RelayCustomerMessage
from bot.services.desk.notes import AddNote
from bot.services.desk.notices import Notices
from bot.services.desk.resolve import Resolve
from bot.services.desk.status import CustomerConfirms, SetPriority, SetStatus
from bot.services.desk.steps import TicketSteps
from bot.services.outbox import Notify
from bot.services.routing import Routing
from storage.unit_of_work import Database


def compose_desk(
    *,
    database: Database,
    clock: Clock,
    sla: SlaPolicy,
    catalogs: Catalogs,
    config: DeskConfig,
    buttons: CustomerButtons,
    routing: Routing,
    notify: Notify,
) -> DeskService:
    steps = TicketSteps(clock, sla)
    notices = Notices(catalogs, config)
    changing = (database, clock, steps, notices)
    return DeskService(
        take=Take(*changing, notify),
        assign=Assign(*changing, notify),
        set_available=SetAvailable(database, clock, steps),
        route=RouteTicket(clock, steps, routing),
        set_status=SetStatus(*changing, notify),
        set_priority=SetPriority(*changing, notify),
        resolve=Resolve(*changing, buttons, notify),
        customer_confirms=CustomerConfirms(*changing, notify),
        agent_reply=AgentReply(*changing, notify),
        canned_reply=CannedReply(*changing, notify),
        agent_edited=AgentEdited(*changing, notify),
        relay_customer_message=RelayCustomerMessage(clock, steps, notices),
        customer_edited=CustomerEdited(database, clock, notices, notify),
        add_note=AddNote(*changing, notify),
        set_banned=SetBanned(*changing, notify),
        ban_notice_due=BanNoticeDue(database, clock),
        cards=CardQueries(database, clock, steps),
        request_card_refresh=RequestCardRefresh(database, clock, steps, notify),
    )
