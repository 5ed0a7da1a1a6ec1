"""Staff use cases: take, assign, status, priority, resolve, close, reopen, ban, notes, relays."""

from bot.services.desk.common import (
    ALBUM_WAIT,
    AgentMessage,
    AgentRef,
    CustomerButtons,
    DeskConfig,
    DeskError,
    MediaRef,
    customer_name,
    mention,
)
from bot.services.desk.service import DeskService
from bot.services.desk.views import (
    AgentView,
    ArticleRef,
    CardData,
    CardRelated,
    CustomerView,
    IncidentRef,
    TicketView,
)

__all__ = [
    "ALBUM_WAIT",
    "AgentMessage",
    "AgentRef",
    "AgentView",
    "ArticleRef",
    "CardData",
    "CardRelated",
    "CustomerButtons",
    "CustomerView",
    "DeskConfig",
    "DeskError",
    "DeskService",
    "IncidentRef",
    "MediaRef",
    "TicketView",
    "customer_name",
    "mention",
]
