"""The complaint form as data: steps, their order and validation, interpreted by one engine.

The schema is plain data (loaded from YAML by the application). This module knows the step
kinds and how to validate an answer of each kind; it knows nothing about Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.domain.incident_date import parse_incident_date
from bot.domain.tickets import Priority


class StepKind(StrEnum):
    CATEGORY = "category"  # one of the categories, by buttons
    TEXT = "text"  # free text with length and optional pattern
    DATE = "date"  # today / yesterday / typed date
    FILES = "files"  # photos, documents, videos, albums; Done / Skip
    CONTACT = "contact"  # shared phone number or typed number; Skip
    CHOICE = "choice"  # one of fixed options, by buttons


class FormSchemaError(ValueError):
    """The form file is not a valid form."""


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    titles: Mapping[str, str]

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or next(iter(self.titles.values()), self.id)


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    kind: StepKind
    titles: Mapping[str, str] = field(default_factory=dict)
    prompts: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)
    required: bool = True
    min_length: int = 1
    max_length: int = 4000
    pattern: str | None = None
    options: tuple[Option, ...] = ()
    max_files: int = 10

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or next(iter(self.titles.values()), self.id)

    def prompt(self, locale: str) -> str | None:
        return self.prompts.get(locale) or next(iter(self.prompts.values()), None)

    def hint(self, locale: str) -> str | None:
        return self.hints.get(locale) or next(iter(self.hints.values()), None)


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    titles: Mapping[str, str]
    fields: tuple[Step, ...] = ()
    priority: Priority = Priority.NORMAL

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or next(iter(self.titles.values()), self.id)


class Problem(StrEnum):
    """Why an answer was refused; the adapter turns each into a message from the catalogue."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    PATTERN = "pattern"
    DATE_INVALID = "date_invalid"
    DATE_FUTURE = "date_future"
    DATE_TOO_OLD = "date_too_old"
    UNKNOWN_OPTION = "unknown_option"
    PHONE_INVALID = "phone_invalid"
    TOO_MANY_FILES = "too_many_files"


@dataclass(frozen=True, slots=True)
class Verdict:
    value: Any = None
    problem: Problem | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


_PHONE = re.compile(r"^\+?[0-9][0-9\s()\-]{5,20}$")


@dataclass(frozen=True, slots=True)
class FormSchema:
    """Ordered steps; the category step expands into the chosen category's extra fields."""

    steps: tuple[Step, ...]
    categories: tuple[Category, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise FormSchemaError("the form has no steps")
        main_ids = [s.id for s in self.steps]
        groups = [("the form", main_ids)] + [
            (f"category {c.id}", main_ids + [f.id for f in c.fields]) for c in self.categories
        ]
        for where, ids in groups:
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise FormSchemaError(
                    f"{where}: step ids must be unique, repeated: {', '.join(duplicates)}"
                )
        if any(s.kind is StepKind.CATEGORY for s in self.steps) and not self.categories:
            raise FormSchemaError("a category step needs at least one category")
        for step in self.all_steps():
            if step.pattern:
                try:
                    re.compile(step.pattern)
                except re.error as exc:
                    raise FormSchemaError(f"step {step.id}: bad pattern: {exc}") from exc

    def all_steps(self) -> list[Step]:
        steps = list(self.steps)
        for category in self.categories:
            steps.extend(category.fields)
        return steps

    def category(self, category_id: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def step(self, step_id: str, answers: Mapping[str, Any] | None = None) -> Step:
        """The step with this id, preferring the one in this customer's sequence."""
        candidates = self.sequence(answers) if answers is not None else []
        for step in [*candidates, *self.all_steps()]:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def sequence(self, answers: Mapping[str, Any]) -> list[Step]:
        """The steps this customer goes through, given what they have answered so far."""
        result: list[Step] = []
        for step in self.steps:
            result.append(step)
            if step.kind is StepKind.CATEGORY:
                category = self.category(answers.get(step.id))
                if category is not None:
                    result.extend(category.fields)
        return result

    def first_step(self) -> Step:
        return self.steps[0]

    def previous_step(self, current: str, answers: Mapping[str, Any]) -> Step | None:
        sequence = self.sequence(answers)
        ids = [s.id for s in sequence]
        index = ids.index(current)
        return sequence[index - 1] if index > 0 else None

    def next_unanswered(self, current: str, answers: Mapping[str, Any]) -> Step | None:
        """The first step after `current` without an answer (answers given in advance, such
        as a question carried over from the knowledge base, are not asked again)."""
        sequence = self.sequence(answers)
        index = [s.id for s in sequence].index(current)
        return next((s for s in sequence[index + 1 :] if s.id not in answers), None)

    def first_unanswered(self, answers: Mapping[str, Any]) -> Step | None:
        """After an edit (say, a new category), the next step still missing an answer."""
        for step in self.sequence(answers):
            if step.id not in answers:
                return step
        return None

    def prune(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Drop answers of steps no longer in the sequence (fields of a previous category)."""
        keep = {s.id for s in self.sequence(answers)}
        return {k: v for k, v in answers.items() if k in keep}

    def is_complete(self, answers: Mapping[str, Any]) -> bool:
        return self.first_unanswered(answers) is None


def validate_text(step: Step, text: str) -> Verdict:
    value = text.strip()
    if len(value) < step.min_length:
        return Verdict(
            problem=Problem.TOO_SHORT, params={"min": step.min_length, "length": len(value)}
        )
    if len(value) > step.max_length:
        return Verdict(
            problem=Problem.TOO_LONG, params={"max": step.max_length, "length": len(value)}
        )
    if step.pattern and not re.fullmatch(step.pattern, value):
        return Verdict(problem=Problem.PATTERN)
    return Verdict(value=value)


def validate_option(options: Sequence[Option | Category], chosen: str) -> Verdict:
    if any(option.id == chosen for option in options):
        return Verdict(value=chosen)
    return Verdict(problem=Problem.UNKNOWN_OPTION)


def match_option_by_title(options: Sequence[Option | Category], text: str) -> str | None:
    """Let a customer type a button's label instead of pressing it."""
    wanted = text.strip().casefold()
    for option in options:
        if any(title.casefold() == wanted for title in option.titles.values()):
            return option.id
    return None


def validate_date(text: str, *, today: date) -> Verdict:
    result = parse_incident_date(text, today=today)
    if result.value is not None:
        return Verdict(value=result.value.isoformat())
    problem = {
        "future": Problem.DATE_FUTURE,
        "too_old": Problem.DATE_TOO_OLD,
    }.get(str(result.problem), Problem.DATE_INVALID)
    return Verdict(problem=problem)


def validate_phone(text: str) -> Verdict:
    value = text.strip()
    if not _PHONE.fullmatch(value) or sum(ch.isdigit() for ch in value) < 6:
        return Verdict(problem=Problem.PHONE_INVALID)
    return Verdict(value=value)


def _titles(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"en": raw}
    if not isinstance(raw, Mapping) or not all(isinstance(v, str) for v in raw.values()):
        raise FormSchemaError(f"{where}: titles must be a mapping of locale to text")
    return {str(k): str(v) for k, v in raw.items()}


def _step_from_data(raw: Mapping[str, Any], where: str) -> Step:
    if "id" not in raw or "kind" not in raw:
        raise FormSchemaError(f"{where}: every step needs an id and a kind")
    try:
        kind = StepKind(raw["kind"])
    except ValueError as exc:
        kinds = ", ".join(k.value for k in StepKind)
        raise FormSchemaError(f"{where}: unknown kind {raw['kind']!r} (one of {kinds})") from exc
    options = tuple(
        Option(id=str(o["id"]), titles=_titles(o.get("title"), f"{where}.options"))
        for o in raw.get("options", [])
    )
    return Step(
        id=str(raw["id"]),
        kind=kind,
        titles=_titles(raw.get("title"), where),
        prompts=_titles(raw.get("prompt"), where),
        hints=_titles(raw.get("hint"), where),
        required=bool(raw.get("required", True)),
        min_length=int(raw.get("min_length", 1)),
        max_length=int(raw.get("max_length", 4000)),
        pattern=raw.get("pattern"),
        options=options,
        max_files=int(raw.get("max_files", 10)),
    )


def schema_from_data(data: Mapping[str, Any]) -> FormSchema:
    """Build a schema from the parsed form file, with messages that name the broken part."""
    if not isinstance(data, Mapping):
        raise FormSchemaError("the form file must be a mapping with 'steps' and 'categories'")
    steps = tuple(
        _step_from_data(raw, f"steps[{i}]") for i, raw in enumerate(data.get("steps") or [])
    )
    categories: list[Category] = []
    for i, raw in enumerate(data.get("categories") or []):
        where = f"categories[{i}]"
        if "id" not in raw:
            raise FormSchemaError(f"{where}: a category needs an id")
        fields = tuple(
            _step_from_data(f, f"{where}.fields[{j}]") for j, f in enumerate(raw.get("fields", []))
        )
        categories.append(
            Category(
                id=str(raw["id"]),
                titles=_titles(raw.get("title"), where),
                fields=fields,
                priority=_priority(raw.get("priority", "normal"), where),
            )
        )
    return FormSchema(steps=steps, categories=tuple(categories))


def _priority(value: object, where: str) -> Priority:
    try:
        return Priority(str(value))
    except ValueError:
        known = ", ".join(p.value for p in Priority)
        raise FormSchemaError(f"{where}: unknown priority {value!r} (one of {known})") from None
