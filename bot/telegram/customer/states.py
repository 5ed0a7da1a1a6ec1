from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class ComplaintFlow(StatesGroup):
    filling = State()
    summary = State()


class TicketFlow(StatesGroup):
    adding = State()  # the customer is adding details to one ticket


class QuestionFlow(StatesGroup):
    asking = State()  # "Ask a question" was pressed: the next text is a question
