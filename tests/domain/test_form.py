"""The form schema and answer validation, independent of Telegram."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.form import (
    FormSchemaError,
    Problem,
    StepKind,
    schema_from_data,
    validate_date,
    validate_phone,
    validate_text,
)
from bot.domain.incident_date import DateProblem, parse_incident_date
from bot.forms.loader import load_form

TODAY = date(2026, 11, 23)


def test_shipped_form_has_the_expected_steps() -> None:
    schema = load_form()
    assert [s.id for s in schema.steps] == [
        "category",
        "description",
        "incident_date",
        "attachments",
        "contact",
    ]
    assert [c.id for c in schema.categories] == [
        "product_quality",
        "delivery",
        "payment",
        "service",
        "website",
        "other",
    ]


def test_category_fields_are_inserted_after_the_category() -> None:
    schema = load_form()
    ids = [s.id for s in schema.sequence({"category": "delivery"})]
    assert ids[:3] == ["category", "order_number", "description"]
    assert [s.id for s in schema.sequence({"category": "service"})][:2] == [
        "category",
        "description",
    ]


def test_next_previous_and_prune() -> None:
    schema = load_form()
    answers = {"category": "website", "platform": "ios"}
    assert schema.next_unanswered("category", {"category": "website"}).id == "platform"  # type: ignore[union-attr]
    assert schema.previous_step("description", answers).id == "platform"  # type: ignore[union-attr]
    assert schema.previous_step("category", answers) is None
    changed = schema.prune({"category": "service", "platform": "ios", "description": "x" * 12})
    assert "platform" not in changed
    assert schema.first_unanswered(changed).id == "incident_date"  # type: ignore[union-attr]


def test_description_length_limits() -> None:
    step = load_form().step("description")
    assert validate_text(step, "too short").problem is Problem.TOO_SHORT
    assert validate_text(step, "x" * 4001).problem is Problem.TOO_LONG
    assert validate_text(step, "  The parcel arrived broken  ").value == "The parcel arrived broken"


def test_order_number_pattern() -> None:
    step = load_form().step("order_number", {"category": "delivery"})
    assert validate_text(step, "12345678").ok
    assert validate_text(step, "12").problem is Problem.PATTERN
    assert validate_text(step, "abc def!").problem is Problem.PATTERN


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("21.11.2026", date(2026, 11, 21)),
        ("2026-11-21", date(2026, 11, 21)),
        ("21.11", date(2026, 11, 21)),
        ("1.2.2026", date(2026, 2, 1)),
        ("25.12", date(2025, 12, 25)),  # later this year is not possible: last year's
        ("23.11.2026.", date(2026, 11, 23)),
    ],
)
def test_dates_are_understood(typed: str, expected: date) -> None:
    assert parse_incident_date(typed, today=TODAY).value == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("24.11.2026", DateProblem.FUTURE),
        ("2027-01-01", DateProblem.FUTURE),
        ("31.02.2026", DateProblem.INVALID),
        ("yesterday-ish", DateProblem.INVALID),
        ("", DateProblem.INVALID),
        ("01.01.2020", DateProblem.TOO_OLD),
    ],
)
def test_bad_dates_are_refused(typed: str, problem: DateProblem) -> None:
    result = parse_incident_date(typed, today=TODAY)
    assert result.value is None
    assert result.problem is problem


def test_validate_date_maps_problems() -> None:
    assert validate_date("24.11.2026", today=TODAY).problem is Problem.DATE_FUTURE
    assert validate_date("nonsense", today=TODAY).problem is Problem.DATE_INVALID
    assert validate_date("22.11.2026", today=TODAY).value == "2026-11-22"


def test_phone_validation() -> None:
    assert validate_phone("+7 900 123-45-67").ok
    assert validate_phone("call me").problem is Problem.PHONE_INVALID
    assert validate_phone("12").problem is Problem.PHONE_INVALID


def test_schema_errors_name_the_broken_part() -> None:
    with pytest.raises(FormSchemaError, match=r"steps\[0\]: unknown kind 'essay'"):
        schema_from_data({"steps": [{"id": "a", "kind": "essay"}]})
    with pytest.raises(FormSchemaError, match="repeated: a"):
        schema_from_data({"steps": [{"id": "a", "kind": "text"}, {"id": "a", "kind": "text"}]})
    with pytest.raises(FormSchemaError, match="bad pattern"):
        schema_from_data({"steps": [{"id": "a", "kind": "text", "pattern": "("}]})
    with pytest.raises(FormSchemaError, match="no steps"):
        schema_from_data({"steps": []})
    category = {"id": "delivery", "title": "Delivery", "priority": "asap"}
    with pytest.raises(FormSchemaError, match=r"categories\[0\]: unknown priority 'asap'"):
        schema_from_data({"steps": [{"id": "a", "kind": "text"}], "categories": [category]})


def test_a_custom_form_is_just_data() -> None:
    schema = schema_from_data(
        {
            "categories": [{"id": "x", "title": {"en": "X"}}],
            "steps": [
                {"id": "category", "kind": "category"},
                {"id": "mood", "kind": "choice", "options": [{"id": "ok", "title": "OK"}]},
            ],
        }
    )
    assert schema.step("mood").kind is StepKind.CHOICE
    assert schema.category("x").title("ru") == "X"  # type: ignore[union-attr]


def test_answers_given_in_advance_are_not_asked_again() -> None:
    schema = load_form()
    answers = {"category": "service", "description": "Given before the form started"}
    assert schema.next_unanswered("category", answers).id == "incident_date"  # type: ignore[union-attr]
    assert schema.next_unanswered("contact", {**answers, "contact": None}) is None
