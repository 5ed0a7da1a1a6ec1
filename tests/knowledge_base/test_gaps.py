"""Grouping the questions the knowledge base could not answer (`/kb_gaps`)."""

from __future__ import annotations

from bot.services.knowledge import group_similar


def test_similar_questions_form_one_group_with_up_to_three_samples() -> None:
    texts = [
        ("Where is my parcel?", "en"),
        ("где моя посылка", "ru"),
        ("where is my parcel", "en"),
        ("Where is my parcel??", "en"),
        ("WHERE IS MY PARCEL", "en"),
        ("How do I change the delivery address?", "en"),
        ("where is my parcel", "en"),
    ]

    groups = group_similar(texts)

    parcel, address, russian = groups
    assert (parcel.example, parcel.count) == ("Where is my parcel?", 5)
    assert parcel.samples == ["Where is my parcel?", "where is my parcel", "Where is my parcel??"]
    assert parcel.locales == {"en"}
    assert (address.count, russian.count) == (1, 1)
    assert russian.example == "где моя посылка"


def test_a_question_repeated_word_for_word_joins_the_group_its_first_asking_joined() -> None:
    texts = [("refund for order 5", "en"), ("refund for order 5 please", "en")] * 3

    [group] = group_similar(texts)

    assert group.count == 6
    assert group.samples == ["refund for order 5", "refund for order 5 please"]
