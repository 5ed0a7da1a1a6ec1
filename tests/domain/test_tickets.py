"""The ticket state machine: every legal transition leaves an event, every illegal one raises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.tickets import (
    Actor,
    IllegalTransition,
    TicketStatus,
    allowed_targets,
    format_ticket_number,
    registration,
    transition,
)

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
S = TicketStatus

LEGAL = {
    (S.NEW, S.IN_PROGRESS),
    (S.NEW, S.WAITING_CUSTOMER),
    (S.NEW, S.RESOLVED),
    (S.NEW, S.CLOSED),
    (S.IN_PROGRESS, S.WAITING_CUSTOMER),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.IN_PROGRESS, S.CLOSED),
    (S.WAITING_CUSTOMER, S.IN_PROGRESS),
    (S.WAITING_CUSTOMER, S.RESOLVED),
    (S.WAITING_CUSTOMER, S.CLOSED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.REOPENED),
    (S.CLOSED, S.REOPENED),
    (S.REOPENED, S.IN_PROGRESS),
    (S.REOPENED, S.WAITING_CUSTOMER),
    (S.REOPENED, S.RESOLVED),
    (S.REOPENED, S.CLOSED),
}
ALL_PAIRS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_transition_returns_the_event(current: S, target: S) -> None:
    actor = Actor.agent(501)
    change = transition(current, target, actor=actor, at=AT, comment="checked")
    assert (change.from_status, change.to_status) == (current, target)
    assert change.actor == actor
    assert change.at == AT
    assert change.comment == "checked"


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_illegal_transition_raises(current: S, target: S) -> None:
    with pytest.raises(IllegalTransition) as error:
        transition(current, target, actor=Actor.system(), at=AT)
    assert error.value.current == current
    assert error.value.target == target
    assert current.value in str(error.value)


def test_the_table_matches_the_design() -> None:
    assert {(a, b) for a in S for b in allowed_targets(a)} == LEGAL


def test_open_statuses() -> None:
    assert {s for s in S if s.is_open} == {S.NEW, S.IN_PROGRESS, S.WAITING_CUSTOMER, S.REOPENED}


def test_registration_is_the_first_event() -> None:
    change = registration(actor=Actor.customer(7), at=AT)
    assert change.from_status is None
    assert change.to_status is S.NEW


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        transition(S.NEW, S.IN_PROGRESS, actor=Actor.system(), at=datetime(2026, 1, 1))


def test_ticket_number_format() -> None:
    assert format_ticket_number(123) == "C-000123"
    assert format_ticket_number(1234567) == "C-1234567"
    with pytest.raises(ValueError):
        format_ticket_number(0)
