"""Every user-visible text comes from the ru and en catalogues, and they agree with each other."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.locales.catalog import CatalogError, Catalogs, load_catalog

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = ROOT / "bot" / "telegram"
SENDING_METHODS = {
    "answer",
    "reply",
    "send_message",
    "edit_text",
    "edit_caption",
    "edit_message_text",
    "edit_message_caption",
    "send_photo",
    "send_document",
    "answer_photo",
    "answer_document",
    "create_forum_topic",
    "edit_forum_topic",
    "button",
}
TEXT_KEYWORDS = {"text", "caption", "name", "description"}
KEY_FUNCTIONS = {"t", "t_plain", "render", "plain"}
COUNT_FUNCTIONS = {"t_count", "count"}


def _has_words(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-zА-Яа-яЁё]{2,}", node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_has_words(v) for v in node.values if isinstance(v, ast.Constant))
    return False


def _hard_coded_texts(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ast.unparse(node.func)
        candidates: list[ast.expr] = []
        if name in SENDING_METHODS:
            candidates += node.args[:2]
        if name in SENDING_METHODS or name in {
            "InlineKeyboardButton",
            "KeyboardButton",
            "BotCommand",
        }:
            candidates += [kw.value for kw in node.keywords if kw.arg in TEXT_KEYWORDS]
        for candidate in candidates:
            if _has_words(candidate):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(candidate)}")
    return found


def test_handlers_contain_no_hard_coded_ui_strings() -> None:
    offenders = [line for path in ADAPTER.rglob("*.py") for line in _hard_coded_texts(path)]
    assert offenders == []


def test_the_check_catches_a_hard_coded_string(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'async def h(message, b):\n    await message.answer("Hello there")\n'
        '    b.button(text="Press me")\n    await message.answer(t("ok.key"))\n',
        encoding="utf-8",
    )
    assert len(_hard_coded_texts(sample)) == 2


def test_ru_and_en_have_the_same_keys() -> None:
    catalogs = Catalogs()
    assert set(catalogs.locales) >= {"ru", "en"}
    ru, en = set(catalogs.messages["ru"]), set(catalogs.messages["en"])
    assert sorted(ru - en) == []
    assert sorted(en - ru) == []
    empty = [
        f"{loc}:{k}"
        for loc, msgs in catalogs.messages.items()
        for k, v in msgs.items()
        if not v.strip()
    ]
    assert empty == []


def test_ru_and_en_have_the_same_plural_entries_with_every_form() -> None:
    catalogs = Catalogs()
    ru, en = catalogs.plurals["ru"], catalogs.plurals["en"]
    assert len(ru) >= 5
    assert sorted(set(ru) ^ set(en)) == []
    assert sorted(set(ru) & set(catalogs.messages["ru"])) == []
    assert {len(forms) for forms in ru.values()} == {3}  # one, few, many
    assert {len(forms) for forms in en.values()} == {2}  # one, other
    empty = [
        f"{loc}:{key}"
        for loc in ("ru", "en")
        for key, forms in catalogs.plurals[loc].items()
        if not all(form.strip() for form in forms)
    ]
    assert empty == []


# Every text that counts something, in the forms for 1, 2, 5 and 21 (ru) and 1 and 2 (en).
PLURALS = {
    "count.days": (["1 день", "2 дня", "5 дней", "21 день"], ["1 day", "2 days"]),
    "count.hours": (["1 час", "2 часа", "5 часов", "21 час"], ["1 hour", "2 hours"]),
    "count.minutes": (["1 минуту", "2 минуты", "5 минут", "21 минуту"], ["1 minute", "2 minutes"]),
    "count.files": (["1 файл", "2 файла", "5 файлов", "21 файл"], ["1 file", "2 files"]),
    "count.characters": (
        ["1 символ", "2 символа", "5 символов", "21 символ"],
        ["1 character", "2 characters"],
    ),
    "count.articles": (["1 статья", "2 статьи", "5 статей", "21 статья"], ["1 entry", "2 entries"]),
    "count.tickets": (
        ["1 обращение", "2 обращения", "5 обращений", "21 обращение"],
        ["1 ticket", "2 tickets"],
    ),
    "count.messages": (
        ["1 сообщение", "2 сообщения", "5 сообщений", "21 сообщение"],
        ["1 message", "2 messages"],
    ),
    "count.questions": (
        ["1 вопрос", "2 вопроса", "5 вопросов", "21 вопрос"],
        ["1 question", "2 questions"],
    ),
    "count.complaints": (
        ["1 жалоба", "2 жалобы", "5 жалоб", "21 жалоба"],
        ["1 complaint", "2 complaints"],
    ),
    "count.to_customers": (
        ["1 клиенту", "2 клиентам", "5 клиентам", "21 клиенту"],
        ["1 customer", "2 customers"],
    ),
    "count.events": (
        ["1 событие", "2 события", "5 событий", "21 событие"],
        ["1 event", "2 events"],
    ),
}


# Ways of dodging a plural form: "file(s)", "30 дн.".
COUNT_WORKAROUNDS = re.compile(r"\w\(s\)|\{\w+\} дн\.")


def test_no_text_dodges_a_plural_form() -> None:
    catalogs = Catalogs()
    dodging = [
        (locale, key)
        for locale, texts in catalogs.messages.items()
        for key, text in texts.items()
        if COUNT_WORKAROUNDS.search(text)
    ]
    assert dodging == []


@pytest.mark.parametrize("key", sorted(PLURALS))
def test_plural_forms(key: str) -> None:
    catalogs = Catalogs()
    russian, english = PLURALS[key]
    assert [catalogs.count(key, "ru", n) for n in (1, 2, 5, 21)] == russian
    assert [catalogs.count(key, "en", n) for n in (1, 2)] == english
    assert catalogs.count(key, "ru", 11) == russian[2].replace("5", "11")
    assert catalogs.count(key, "en", 0) == english[1].replace("2", "0")


def test_every_plural_entry_is_checked_above() -> None:
    assert sorted(Catalogs().plurals["en"]) == sorted(PLURALS)


def test_dates_and_times_are_written_the_readers_way() -> None:
    catalogs = Catalogs()
    moment = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    moscow = ZoneInfo("Europe/Moscow")
    assert catalogs.format_datetime(moment, moscow, "en") == "Nov 23, 2026, 12:30"
    assert catalogs.format_datetime(moment, moscow, "ru") == "23.11.2026 12:30"
    assert catalogs.format_datetime(moment, ZoneInfo("UTC"), "en") == "Nov 23, 2026, 09:30"
    assert catalogs.format_date(date(2026, 5, 4), "en") == "May 4, 2026"
    assert catalogs.format_date(date(2026, 5, 4), "ru") == "04.05.2026"


PLURAL_FILE = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: ru\\n"
{header}
msgid "count.days"
msgid_plural "count.days"
{forms}
"""
RUSSIAN_RULE = (
    '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : '
    'n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"'
)
THREE_FORMS = 'msgstr[0] "{count} день"\nmsgstr[1] "{count} дня"\nmsgstr[2] "{count} дней"'


@pytest.mark.parametrize(
    ("header", "forms", "problem"),
    [
        ("", THREE_FORMS, "Plural-Forms header"),
        ('"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n==2 ? 1 : 2);\\n"', THREE_FORMS, "rule"),
        (RUSSIAN_RULE, 'msgstr[0] "{count} день"\nmsgstr[1] "{count} дня"', "3 plural forms"),
    ],
)
def test_a_plural_entry_that_does_not_fit_the_language_is_an_error(
    tmp_path: Path, header: str, forms: str, problem: str
) -> None:
    folder = tmp_path / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "a.po").write_text(PLURAL_FILE.format(header=header, forms=forms), encoding="utf-8")
    with pytest.raises(CatalogError, match=problem):
        load_catalog(tmp_path / "ru")
    (folder / "a.po").write_text(
        PLURAL_FILE.format(header=RUSSIAN_RULE, forms=THREE_FORMS), encoding="utf-8"
    )
    assert load_catalog(tmp_path / "ru").plurals == {
        "count.days": ("{count} день", "{count} дня", "{count} дней")
    }


def _used_keys(functions: set[str] = KEY_FUNCTIONS) -> tuple[set[str], set[str]]:
    """Literal keys, and prefixes of keys built with f-strings (`status.{x}` -> `status.`)."""
    literal: set[str] = set()
    prefixes: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = (
                node.func.attr if isinstance(node.func, ast.Attribute) else ast.unparse(node.func)
            )
            if name not in functions:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal.add(first.value)
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                prefixes.add(str(first.values[0].value))
    return literal, prefixes


def test_every_key_used_in_code_exists() -> None:
    catalogs = Catalogs()
    literal, prefixes = _used_keys()
    assert len(literal) > 50
    keys = set(catalogs.messages["en"])
    assert sorted(k for k in literal if "." in k and k not in keys) == []
    assert sorted(p for p in prefixes if not any(k.startswith(p) for k in keys)) == []


def test_every_counted_key_used_in_code_is_a_plural_entry() -> None:
    literal, prefixes = _used_keys(COUNT_FUNCTIONS)
    assert {"count.days", "count.files", "count.characters"} <= literal
    assert prefixes == set()
    assert sorted(literal - set(Catalogs().plurals["en"])) == []


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_placeholders_render(locale: str) -> None:
    catalogs = Catalogs()
    for key, text in catalogs.messages[locale].items():
        names = set(re.findall(r"{(\w+)}", text))
        catalogs.render(key, locale, **dict.fromkeys(names, "x"))
        other = "en" if locale == "ru" else "ru"
        assert names == set(re.findall(r"{(\w+)}", catalogs.messages[other][key])), key
    for key, forms in catalogs.plurals[locale].items():
        for form in forms:
            assert set(re.findall(r"{(\w+)}", form)) == {"count"}, key
            assert form.format(count=3)


def test_parameters_are_escaped() -> None:
    catalogs = Catalogs()
    text = catalogs.render("start.greeting", "en", name="<b>Eve</i>")
    assert "&lt;b&gt;Eve&lt;/i&gt;" in text
    assert "<b>Eve" not in text


def test_a_key_defined_twice_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    for name in ("a.po", "b.po"):
        (folder / name).write_text('msgid "x.y"\nmsgstr "one"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"x\.y"):
        load_catalog(tmp_path / "en")
