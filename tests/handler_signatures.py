"""Test runs only: aiogram's reading of handler signatures, remembered per function.

What: every aiogram `Router` makes a `TelegramEventObserver` per update type, and each of those
wraps a fresh dummy `lambda: True` in a `HandlerObject`, whose `__post_init__` calls
`inspect.signature` (about 75 us). With the app's 22 routers that is over 600 signatures, 47 ms
of the 66 ms it takes to build the app, which most tests do at least once (profiled).

How: aiogram keeps from a signature only whether the callback is awaitable, the names of its
parameters and whether it takes `**kwargs`. For a plain function or a bound method these
depend only on its code object and on whether it is bound, so they are remembered under that
key; anything else (a filter object, a partial) is read as aiogram reads it.
`tests/test_handler_signatures.py` checks the remembered answers against aiogram's own.
"""

from __future__ import annotations

import inspect
from types import CodeType, FunctionType, MethodType

from aiogram.dispatcher.event.handler import CallableObject

_Read = tuple[bool, set[str], bool]
_remembered: dict[tuple[bool, CodeType], _Read] = {}
_aiogram_post_init = CallableObject.__post_init__


def _key(callback: object) -> tuple[bool, CodeType] | None:
    if isinstance(callback, MethodType) and isinstance(callback.__func__, FunctionType):
        return True, callback.__func__.__code__
    if isinstance(callback, FunctionType):
        return False, callback.__code__
    return None


def _post_init(self: CallableObject) -> None:
    key = _key(inspect.unwrap(self.callback))
    read = _remembered.get(key) if key is not None else None
    if read is None:
        _aiogram_post_init(self)
        if key is not None:
            _remembered[key] = (self.awaitable, set(self.params), self.varkw)
        return
    self.awaitable, params, self.varkw = read
    self.params = set(params)


def remember_handler_signatures() -> None:
    CallableObject.__post_init__ = _post_init  # type: ignore[method-assign]
