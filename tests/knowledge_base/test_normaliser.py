from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base import Normaliser
from knowledge_base.layout import switch_layout
from knowledge_base.loader import load_dir
from knowledge_base.normaliser import term_key

DATA_DIR = Path(__file__).resolve().parents[2] / "knowledge_base" / "data"


@pytest.fixture(scope="module")
def shipped_synonyms() -> dict[str, dict[str, list[str]]]:
    return load_dir(DATA_DIR).synonyms


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ещё РАЗ!!!  Где,   мой заказ?? ", "еще раз где мой заказ"),
        ("доставкааа", "доставка"),
        ("Pleeeease help", "please help"),
        ("don't", "dont"),
        ("trek-номер: 123_456", "trek номер 123 456"),
        ("касса", "касса"),
        ("", ""),
        ("?!...", ""),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert Normaliser.clean(raw) == expected


def test_word_forms_and_double_letters_share_a_key() -> None:
    assert term_key("доставка") == term_key("доставки") == term_key("доставкой")
    assert term_key("адрес") == term_key("адресс")
    assert term_key("address") == term_key("adress")
    assert term_key("refunded") == term_key("refunds") == term_key("refund")
    assert term_key("заказ") != term_key("возврат")


def test_synonyms_replace_variants_including_phrases_and_word_forms() -> None:
    normaliser = Normaliser(
        "ru", {"сколько": ["скока"], "деньги": ["бабки"], "за границу": ["за рубеж"]}
    )
    assert normaliser.normalise("Скока стоит?") == "сколько стоит"
    assert normaliser.normalise("заплачу бабками") == "заплачу деньги"
    assert normaliser.normalise("доставка за рубеж") == "доставка за границу"


def test_stop_words_are_flagged_and_never_replaced() -> None:
    normaliser = Normaliser("en", {"item": ["goods"]})
    terms = normaliser.terms("my goods are good")
    assert [(t.word, t.stop) for t in terms] == [
        ("my", True),
        ("item", False),
        ("are", True),
        ("good", True),
    ]


def test_shipped_synonyms_cover_colloquial_forms(
    shipped_synonyms: dict[str, dict[str, list[str]]],
) -> None:
    ru = Normaliser("ru", shipped_synonyms["ru"])
    en = Normaliser("en", shipped_synonyms["en"])
    assert ru.normalise("скока идёт доставочка") == "сколько идет доставка"
    assert ru.normalise("где мои бабки") == "где мои деньги"
    assert en.normalise("I want my money back!") == "i want my refund"


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("ljcnfdrf", "ru", "доставка"),
        ("Ult vjq pfrfp?", "ru", "Где мой заказ?"),
        ("руддщ", "en", "hello"),
        ("доставка", "ru", None),
        ("hello", "en", None),
        ("mixed смесь", "ru", None),
        ("12345", "ru", None),
        ("ljcnfdrf", "de", None),
    ],
)
def test_switch_layout(text: str, locale: str, expected: str | None) -> None:
    assert switch_layout(text, locale) == expected
