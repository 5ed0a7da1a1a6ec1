"""Data of the knowledge base benchmark: generated product questions and the labelled queries.

`bench/kb_bench.py` measures; this module only makes what it measures on: synthetic entries of a
large shop, customers' phrasings of them (typos, colloquial words), the starter set's labelled
queries, and the files a knowledge base is read from.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base import Entry

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "knowledge_base" / "data"
EVAL_FILE = ROOT / "tests" / "knowledge_base" / "eval_queries.yaml"
LOCALE = "ru"
ENTRIES_PER_FILE = 500


# Product questions of a large shop: {s} is a product name. Each entry gets three
# phrasings; the other two are kept back to build the labelled queries.
INTENTS: dict[str, list[str]] = {
    "warranty": [
        "Какая гарантия на {s}?",
        "Сколько длится гарантия {s}?",
        "Есть ли гарантия на {s}",
        "Гарантийный срок {s}",
        "{s} еще на гарантии?",
    ],
    "stock": [
        "Когда {s} будет в наличии?",
        "Есть ли {s} в наличии?",
        "{s} закончился, когда появится?",
        "Будет ли поступление {s}?",
        "Можно купить {s} прямо сейчас?",
    ],
    "delivery": [
        "Сколько идет доставка {s}?",
        "Когда привезут {s}?",
        "Срок доставки {s}",
        "За сколько дней доставите {s}?",
        "Как быстро придет {s}?",
    ],
    "return": [
        "Как вернуть {s}?",
        "Можно сдать {s} обратно?",
        "Возврат {s}",
        "Хочу вернуть {s}, что делать?",
        "Условия возврата {s}",
    ],
    "broken": [
        "{s} не работает",
        "{s} сломался",
        "Что делать, если {s} не включается?",
        "Брак у {s}",
        "{s} перестал работать",
    ],
    "setup": [
        "Как настроить {s}?",
        "Как подключить {s}?",
        "Инструкция по настройке {s}",
        "Не могу настроить {s}",
        "Как включить {s} первый раз?",
    ],
    "specs": [
        "Какие характеристики у {s}?",
        "Какой размер у {s}?",
        "Сколько весит {s}?",
        "Описание {s}",
        "Из чего сделан {s}?",
    ],
    "price": [
        "Сколько стоит {s}?",
        "Какая цена на {s}?",
        "Будет ли скидка на {s}?",
        "Почему подорожал {s}?",
        "Цена {s}",
    ],
    "compatibility": [
        "С чем совместим {s}?",
        "Подходит ли {s} к моему устройству?",
        "Совместимость {s}",
        "Какие аксессуары подходят к {s}?",
        "Можно ли использовать {s} с переходником?",
    ],
    "repair": [
        "Где отремонтировать {s}?",
        "Сервисный центр для {s}",
        "Ремонт {s}",
        "Кто чинит {s}?",
        "Сколько стоит ремонт {s}?",
    ],
    "manual": [
        "Где скачать инструкцию к {s}?",
        "Руководство пользователя {s}",
        "Есть инструкция для {s}?",
        "Инструкция {s} на русском",
        "Как пользоваться {s}?",
    ],
    "exchange": [
        "Можно обменять {s}?",
        "Как поменять {s} на другой?",
        "Обмен {s}",
        "Хочу заменить {s}",
        "Можно заменить {s} на другую модель?",
    ],
    "installments": [
        "Можно купить {s} в рассрочку?",
        "{s} в кредит",
        "Оплата {s} частями",
        "Рассрочка на {s}",
        "Можно взять {s} в кредит?",
    ],
    "pickup": [
        "Можно забрать {s} самовывозом?",
        "Где получить {s}?",
        "Самовывоз {s}",
        "В каком пункте выдачи есть {s}?",
        "Можно забрать {s} сегодня?",
    ],
    "gift": [
        "Можно упаковать {s} в подарок?",
        "Подарочная упаковка для {s}",
        "Хочу подарить {s}",
        "{s} в подарок",
        "Есть ли подарочная упаковка для {s}?",
    ],
    "care": [
        "Как ухаживать за {s}?",
        "Как чистить {s}?",
        "Уход за {s}",
        "Чем мыть {s}?",
        "Как правильно хранить {s}?",
    ],
    "colours": [
        "Какие цвета есть у {s}?",
        "{s} бывает в черном цвете?",
        "Цвета {s}",
        "Есть ли {s} другого цвета?",
        "В каком цвете можно купить {s}?",
    ],
    "firmware": [
        "Как обновить прошивку {s}?",
        "Обновление {s}",
        "Где скачать обновление для {s}?",
        "Прошивка {s}",
        "Нужно ли обновлять {s}?",
    ],
    "battery": [
        "Сколько держит батарея {s}?",
        "Как заряжать {s}?",
        "{s} не заряжается",
        "Аккумулятор {s}",
        "Время работы {s} от батареи",
    ],
    "original": [
        "{s} оригинал?",
        "Как проверить подлинность {s}?",
        "Это не подделка {s}?",
        "Сертификат на {s}",
        "Откуда поставляется {s}?",
    ],
}
ANSWER = (
    "По вопросу «{intent}» для <b>{s}</b>: подробности на странице товара в разделе "
    "<b>Описание</b>. Если остались вопросы, напишите здесь номер заказа или ссылку на товар, "
    "и специалист ответит в течение рабочего дня."
)
_SYLLABLE_TEXT = "ла ро ви де кс ан то ми ру зе ка ло ни ва ре по ли ма ну те бо са гу фи"
SYLLABLES = _SYLLABLE_TEXT.split()
_MODEL_TEXT = "Нова Макс Лайт Про Мини Эйр Плюс Ультра Смарт Классик Спорт Хоум"
MODELS = _MODEL_TEXT.split()
NEIGHBOURS = "йцукенгшщзхъфывапролджэячсмитьбю"
COLLOQUIAL = {"сколько": "скока", "когда": "када", "сейчас": "щас", "можно": "можна"}


@dataclass(frozen=True)
class Query:
    text: str
    entry_id: str


def product_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        brand = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        model = rng.choice(MODELS)
        suffix = f" {rng.randint(2, 9)}" if rng.random() < 0.3 else ""
        names.add(f"{brand} {model}{suffix}")
    return sorted(names)


def synthetic_entries(
    rng: random.Random, count: int
) -> tuple[list[dict[str, object]], dict[str, list[str]]]:
    """`count` generated entries and, per entry id, the phrasings kept back for queries."""
    names = product_names(rng, count // len(INTENTS) + 1)
    pairs = [(intent, name) for name in names for intent in INTENTS][:count]
    entries: list[dict[str, object]] = []
    held_back: dict[str, list[str]] = {}
    for number, (intent, name) in enumerate(pairs):
        phrasings = [p.format(s=name) for p in INTENTS[intent]]
        rng.shuffle(phrasings)
        entry_id = f"gen-{number:05d}-{intent}"
        entries.append(
            {
                "id": entry_id,
                "questions": phrasings[:3],
                "answer": ANSWER.format(intent=intent, s=name),
                "tags": [intent],
            }
        )
        held_back[entry_id] = phrasings[3:]
    return entries, held_back


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 2:
        return word[:i] + word[i] * 2 + word[i:]
    return word[:i] + rng.choice(NEIGHBOURS) + word[i + 1 :]


def customer_query(rng: random.Random, phrasing: str) -> str:
    """A phrasing as a customer would type it: case, punctuation, typos, slang, dropped word."""
    words = phrasing.replace("?", "").replace(",", "").split()
    if rng.random() < 0.7:
        words = [w.lower() for w in words]
    words = [COLLOQUIAL.get(w, w) if rng.random() < 0.5 else w for w in words]
    for _ in range(rng.choice((0, 1, 1, 2))):
        i = rng.randrange(len(words))
        words[i] = typo(rng, words[i])
    if len(words) > 3 and rng.random() < 0.2:
        del words[rng.randrange(len(words))]
    text = " ".join(words)
    return text + "?" if rng.random() < 0.3 else text


def phrasings(
    entry: dict[str, object], held_back: dict[str, list[str]], rng: random.Random
) -> list[str]:
    """Half the queries reword a question of the entry, half use a phrasing it lacks."""
    if rng.random() < 0.5:
        return held_back[str(entry["id"])]
    return [str(question) for question in entry["questions"]]  # type: ignore[attr-defined]


def sample(queries: Sequence[Query], limit: int | None) -> list[Query]:
    """At most `limit` queries, evenly spread."""
    if limit is None or len(queries) <= limit:
        return list(queries)
    step = len(queries) / limit
    return [queries[int(i * step)] for i in range(limit)]


def real_queries() -> list[Query]:
    raw = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))[LOCALE]
    return [
        Query(str(text), entry_id)
        for entry_id, texts in raw.items()
        if entry_id != "_offtopic"
        for text in texts
    ]


def write_kb(root: Path, real: Sequence[Entry], generated: Sequence[dict[str, object]]) -> None:
    locale_dir = root / LOCALE
    locale_dir.mkdir(parents=True)
    by_file: dict[str, list[dict[str, object]]] = {}
    for entry in real:
        source = entry.source.name if entry.source else "faq.yaml"
        by_file.setdefault(source, []).append(
            {
                "id": entry.id,
                "questions": list(entry.questions),
                "answer": entry.answer,
                "tags": list(entry.tags),
            }
        )
    for start in range(0, len(generated), ENTRIES_PER_FILE):
        name = f"products-{start // ENTRIES_PER_FILE:03d}.yaml"
        by_file[name] = list(generated[start : start + ENTRIES_PER_FILE])
    for name, items in by_file.items():
        text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
        (locale_dir / name).write_text(text, encoding="utf-8")
    synonyms = DATA_DIR / LOCALE / "_synonyms.yaml"
    (locale_dir / "_synonyms.yaml").write_text(synonyms.read_text(encoding="utf-8"), "utf-8")
