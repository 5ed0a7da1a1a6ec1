"""Root causes: a configurable list per category, and recording the one an agent picks.

The list is read once at start-up from a YAML file (`CAUSES_FILE`, default
`bot/causes.yaml`); a broken file stops the start with every problem named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.domain.tickets import ActorKind, EventKind
from bot.yaml_files import parse_yaml
from storage.unit_of_work import Database

DEFAULT_CAUSES_FILE = Path(__file__).resolve().parent.parent.parent / "causes.yaml"
EVERY_CATEGORY = "*"
CAUSE_ID = re.compile(r"^[a-z0-9_]{1,32}$")
CAUSE_TAG = re.compile(r"(?:^|\s)#([A-Za-z0-9_]{1,32})\s*$")
LOCALES = ("ru", "en")


class CausesError(ValueError):
    """The causes file is not valid."""


@dataclass(frozen=True, slots=True)
class Cause:
    id: str
    titles: Mapping[str, str]

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or next(iter(self.titles.values()), self.id)


@dataclass(frozen=True)
class RootCauses:
    by_category: Mapping[str, tuple[Cause, ...]] = field(default_factory=dict)

    def for_category(self, category: str) -> tuple[Cause, ...]:
        """The causes offered for ``category``: its own, then those of every category."""
        own = self.by_category.get(category, ())
        shared = tuple(
            c for c in self.by_category.get(EVERY_CATEGORY, ()) if c.id not in {o.id for o in own}
        )
        return own + shared

    def find(self, category: str, cause_id: str) -> Cause | None:
        wanted = cause_id.lower()
        return next((c for c in self.for_category(category) if c.id == wanted), None)

    def titles(self, locale: str) -> dict[tuple[str, str], str]:
        """(category, cause id) -> title, for reports."""
        result: dict[tuple[str, str], str] = {}
        for category, causes in self.by_category.items():
            for cause in causes:
                result[(category, cause.id)] = cause.title(locale)
        shared = self.by_category.get(EVERY_CATEGORY, ())
        for category in self.by_category:
            for cause in shared:
                result.setdefault((category, cause.id), cause.title(locale))
        return result

    def title(self, category: str, cause_id: str, locale: str) -> str:
        cause = self.find(category, cause_id)
        return cause.title(locale) if cause else cause_id


def split_cause_tag(text: str) -> tuple[str, str | None]:
    """``"refund sent #late_courier"`` -> ``("refund sent", "late_courier")``."""
    match = CAUSE_TAG.search(text)
    if match is None:
        return text, None
    return text[: match.start()].rstrip(), match.group(1).lower()


def _parse(data: Any, source: str) -> RootCauses:
    if not isinstance(data, dict):
        raise CausesError(f"{source}: expected a mapping of categories to causes")
    problems: list[str] = []
    by_category: dict[str, tuple[Cause, ...]] = {}
    for category, causes in data.items():
        if not isinstance(causes, dict) or not causes:
            problems.append(f"{category}: expected a mapping of cause ids to titles")
            continue
        parsed: list[Cause] = []
        for cause_id, titles in causes.items():
            where = f"{category}.{cause_id}"
            if not isinstance(cause_id, str) or not CAUSE_ID.match(cause_id):
                problems.append(f"{where}: an id is 1-32 small letters, digits or underscores")
                continue
            if not isinstance(titles, dict) or not all(
                isinstance(titles.get(locale), str) and titles[locale].strip() for locale in LOCALES
            ):
                problems.append(f"{where}: needs a title in each of {', '.join(LOCALES)}")
                continue
            parsed.append(Cause(cause_id, {k: str(v).strip() for k, v in titles.items()}))
        by_category[str(category)] = tuple(parsed)
    if problems:
        raise CausesError(f"{source}: " + "; ".join(problems))
    return RootCauses(by_category)


def load_causes(path: Path | None = None) -> RootCauses:
    source = path or DEFAULT_CAUSES_FILE
    try:
        data = parse_yaml(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CausesError(f"{source}: {error}") from error
    return _parse(data, str(source))


@dataclass(frozen=True, slots=True)
class RecordedCause:
    ticket_id: int
    number: str
    category: str
    cause: Cause


class CauseError(Exception):
    """The cause cannot be recorded; ``key`` names the message for the agent."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


RECORDABLE = ("resolved", "closed")


async def record_cause(
    database: Database,
    causes: RootCauses,
    *,
    ticket_id: int,
    cause_id: str,
    agent_id: int,
    now: datetime,
) -> RecordedCause:
    """Set the root cause of a resolved ticket (replacing an earlier one) and log it."""
    async with database.unit_of_work() as uow:
        ticket = await uow.tickets.get(ticket_id=ticket_id)
        if ticket is None or ticket.id is None:
            raise CauseError("stats.cause.no_ticket")
        cause = causes.find(ticket.category, cause_id)
        if cause is None:
            raise CauseError(
                "stats.cause.unknown",
                cause=cause_id,
                known=", ".join(f"#{c.id}" for c in causes.for_category(ticket.category)),
            )
        # One conditional UPDATE: no lost update of a concurrent change to the same ticket.
        assert ticket.id is not None
        recorded = await uow.tickets.set_root_cause(
            ticket_id=ticket.id, cause=cause.id, now=now, statuses=RECORDABLE
        )
        if not recorded:
            raise CauseError("stats.cause.not_resolved", number=ticket.number)
        previous = ticket.root_cause
        await uow.events.add(
            ticket_id=ticket.id,
            at=now,
            kind=EventKind.CAUSE,
            actor_kind=ActorKind.AGENT,
            actor_id=agent_id,
            data={"cause": cause.id, "previous": previous},
        )
        return RecordedCause(ticket.id, ticket.number, ticket.category, cause)
