"""What the current log lines are about: the update being handled and its ticket.

The update middleware binds the update id; use cases bind the ticket number as soon as they
know it (`bind_ticket`), and every log record of that update then carries both.
"""

from __future__ import annotations

from contextvars import ContextVar

update_id: ContextVar[int | None] = ContextVar("update_id", default=None)
ticket_number: ContextVar[str | None] = ContextVar("ticket_number", default=None)


def bind_ticket(number: str | None) -> None:
    """The update being handled is about this ticket (shown in its log lines)."""
    if number:
        ticket_number.set(number)
