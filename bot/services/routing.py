"""Routing of new tickets: a rules file maps category, keywords and language to a team.

The rules are read once at start-up (`load_routing`); `Routing.route` is pure and fast.
Round-robin: among the team's available members, the one assigned longest ago gets the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.domain.tickets import Priority
from bot.yaml_files import parse_yaml

DEFAULT_ROUTING_FILE = Path(__file__).resolve().parent.parent / "routing.yaml"


class RoutingError(ValueError):
    """The rules file is not valid."""


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    agents: tuple[int, ...] = ()
    auto_assign: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    team: str
    categories: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()
    priority: Priority | None = None

    def matches(self, *, category: str, kind: str, text: str, language: str) -> bool:
        if self.categories and category not in self.categories:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        if self.languages and language not in self.languages:
            return False
        return not self.keywords or any(word in text for word in self.keywords)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    team: Team | None
    priority: Priority | None


@dataclass(frozen=True, slots=True)
class Routing:
    teams: Mapping[str, Team] = field(default_factory=dict)
    rules: Sequence[Rule] = ()

    def route(self, *, category: str, kind: str, text: str, language: str) -> RouteDecision:
        lowered = text.lower()
        for rule in self.rules:
            if rule.matches(category=category, kind=kind, text=lowered, language=language):
                return RouteDecision(self.teams.get(rule.team), rule.priority)
        return RouteDecision(None, None)


def _names(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(item) for item in value)


def parse_routing(data: Mapping[str, Any]) -> Routing:
    teams: dict[str, Team] = {}
    for name, spec in (data.get("teams") or {}).items():
        spec = spec or {}
        try:
            agents = tuple(int(agent) for agent in spec.get("agents") or ())
        except (TypeError, ValueError) as exc:
            raise RoutingError(f"team {name!r}: agents must be Telegram user ids") from exc
        teams[str(name)] = Team(str(name), agents, bool(spec.get("auto_assign", False)))
    priorities = {p.value for p in Priority}
    rules: list[Rule] = []
    for number, spec in enumerate(data.get("rules") or [], start=1):
        team = str(spec.get("team", ""))
        if team not in teams:
            raise RoutingError(f"rule {number}: unknown team {team!r}")
        priority = spec.get("priority")
        if priority is not None and priority not in priorities:
            raise RoutingError(f"rule {number}: unknown priority {priority!r}")
        rules.append(
            Rule(
                team=team,
                categories=_names(spec.get("category")),
                kinds=_names(spec.get("kind")),
                keywords=tuple(str(word).lower() for word in spec.get("keywords") or ()),
                languages=_names(spec.get("language")),
                priority=None if priority is None else Priority(priority),
            )
        )
    return Routing(teams, tuple(rules))


def load_routing(path: Path | None = None) -> Routing:
    source = path or DEFAULT_ROUTING_FILE
    try:
        data = parse_yaml(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingError(f"{source}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise RoutingError(f"{source}: expected a mapping with teams and rules")
    return parse_routing(data)
