"""Every user-visible text comes from the ru and en catalogues, and they agree with each other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


def _used_keys() -> tuple[set[str], set[str]]:
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
            if name not in KEY_FUNCTIONS:
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


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_placeholders_render(locale: str) -> None:
    catalogs = Catalogs()
    for key, text in catalogs.messages[locale].items():
        names = set(re.findall(r"{(\w+)}", text))
        catalogs.render(key, locale, **dict.fromkeys(names, "x"))
        other = "en" if locale == "ru" else "ru"
        assert names == set(re.findall(r"{(\w+)}", catalogs.messages[other][key])), key


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
