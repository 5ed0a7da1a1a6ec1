"""Staff use cases: take, assign, status, priority, resolve, close, reopen, ban, notes, relays."""

from bot.services.desk.common import (
    ALBUM_WAIT,
    AgentMessage,
    AgentRef,
    CardData,
    CustomerButtons,
    DeskConfig,
    DeskError,
    MediaRef,
    customer_name,
    mention,
)
from bot.services.desk.service import DeskService
from bot.services.desk.status import CUSTOMER_STATUS_NOTICES

__all__ = [
    "ALBUM_WAIT",
    "CUSTOMER_STATUS_NOTICES",
    "AgentMessage",
    "AgentRef",
    "CardData",
    "CustomerButtons",
    "DeskConfig",
    "DeskError",
    "DeskService",
    "MediaRef",
    "customer_name",
    "mention",
]
