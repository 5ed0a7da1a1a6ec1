"""The test runs' remembered handler signatures (`tests/handler_signatures.py`) give aiogram
exactly what it reads itself, for every handler, filter and middleware-free observer of the
app, and for the kinds of callables that share a code object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.domain.clock import FrozenClock
from tests.handler_signatures import _aiogram_post_init, _remembered
from tests.harness import running_desk


def _as_aiogram_reads(callback: Any) -> tuple[bool, set[str], bool]:
    fresh = CallableObject.__new__(CallableObject)
    fresh.callback = callback
    _aiogram_post_init(fresh)
    return fresh.awaitable, fresh.params, fresh.varkw


def _callables(router: Router) -> list[CallableObject]:
    found: list[CallableObject] = []
    for observer in router.observers.values():
        found.append(observer._handler)
        for handler in observer.handlers:
            found.append(handler)
            found.extend(handler.filters or [])
    for child in router.sub_routers:
        found.extend(_callables(child))
    return found


async def test_every_handler_of_the_app_is_read_as_aiogram_reads_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_desk(tmp_path, clock) as desk:
        callables = _callables(desk.app.dispatcher)
    assert len(callables) > 600
    assert _remembered, "the test run remembers signatures (installed by tests/conftest.py)"
    for item in callables:
        assert (item.awaitable, item.params, item.varkw) == _as_aiogram_reads(item.callback)


class _Greeter:
    async def greet(self, message: object, name: str, **rest: object) -> None: ...


def test_a_method_and_the_same_function_unbound_are_told_apart() -> None:
    bound = CallableObject(_Greeter().greet)
    unbound = CallableObject(_Greeter.greet)
    assert bound.params == {"message", "name"}
    assert unbound.params == {"self", "message", "name"}
    assert bound.varkw and unbound.varkw and bound.awaitable


def test_lambdas_made_by_one_line_share_what_is_read() -> None:
    first, second = (CallableObject(lambda x, *, y: x) for _ in range(2))
    assert first.params == second.params == {"x", "y"}
    assert not first.awaitable and not first.varkw
