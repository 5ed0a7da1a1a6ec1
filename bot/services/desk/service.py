"""The staff desk as one service: every staff use case, and the relays both ways.

Each part lives in its own module; this class only puts them together for the callers.
"""

from __future__ import annotations

from bot.services.desk.agent_relay import AgentRelay
from bot.services.desk.bans import Bans
from bot.services.desk.cards import DeskQueries
from bot.services.desk.customer_relay import CustomerRelay
from bot.services.desk.notes import Notes


class DeskService(AgentRelay, CustomerRelay, Notes, Bans, DeskQueries):
    """Take, assign, status, priority, resolve, close, reopen, ban, notes, relays."""
