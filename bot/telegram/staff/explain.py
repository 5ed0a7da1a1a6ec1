"""Why a staff action was refused, in the desk's words (HTML for replies, plain for alerts)."""

from __future__ import annotations

from bot.domain.tickets import IllegalTransition
from bot.services.desk import DeskError
from bot.telegram.i18n import t, t_plain

Refusal = IllegalTransition | DeskError


def explain(error: Refusal) -> str:
    if isinstance(error, IllegalTransition):
        return t(
            "desk.error.illegal",
            current=t_plain(f"desk.status.{error.current.value}"),
            target=t_plain(f"desk.status.{error.target.value}"),
        )
    return t(error.key, **error.params)


def explain_plain(error: Refusal) -> str:
    if isinstance(error, IllegalTransition):
        return t_plain(
            "desk.error.illegal_plain",
            current=t_plain(f"desk.status.{error.current.value}"),
            target=t_plain(f"desk.status.{error.target.value}"),
        )
    return t_plain(error.key, **error.params)
