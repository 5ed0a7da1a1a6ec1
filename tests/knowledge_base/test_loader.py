from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base import Entry, KnowledgeBase, KnowledgeBaseError

DATA_DIR = Path(__file__).resolve().parents[2] / "knowledge_base" / "data"
FORM_CATEGORIES = {"product_quality", "delivery", "payment", "service", "website", "other"}

GOOD_ENTRY = """
- id: {id}
  questions: [How long does delivery take?]
  answer: Two to five days.
"""


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(root: Path) -> KnowledgeBaseError:
    with pytest.raises(KnowledgeBaseError) as caught:
        KnowledgeBase.from_dir(root, default_locale="en")
    return caught.value


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.from_dir(DATA_DIR)


def test_duplicate_id_across_two_files_names_both_files_and_the_entry(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="delivery-time"))
    write(
        tmp_path,
        "en/b.yaml",
        "- id: delivery-time\n  questions: [Is shipping free?]\n  answer: Yes.\n",
    )
    error = load_error(tmp_path)
    assert len(error.errors) == 1
    message = str(error)
    assert "b.yaml" in message and "a.yaml" in message
    assert "delivery-time" in message and "duplicate id" in message


def test_same_id_in_two_locales_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="delivery-time"))
    write(tmp_path, "ru/a.yaml", GOOD_ENTRY.format(id="delivery-time"))
    assert KnowledgeBase.from_dir(tmp_path).locales == ("en", "ru")


def test_empty_answer(tmp_path: Path) -> None:
    write(tmp_path, "en/faq.yaml", "- id: blank\n  questions: [Why?]\n  answer: '   '\n")
    issue = load_error(tmp_path).errors[0]
    assert issue.entry_id == "blank" and issue.file.endswith("faq.yaml")
    assert "answer" in str(issue)


def test_empty_questions(tmp_path: Path) -> None:
    write(tmp_path, "en/faq.yaml", "- id: silent\n  questions: []\n  answer: Hi.\n")
    message = str(load_error(tmp_path))
    assert "faq.yaml" in message and "silent" in message and "questions" in message


def test_missing_questions(tmp_path: Path) -> None:
    write(tmp_path, "en/faq.yaml", "- id: silent\n  answer: Hi.\n")
    message = str(load_error(tmp_path))
    assert "faq.yaml" in message and "silent" in message and "questions" in message


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "en/broken.yaml", "- id: x\n  questions: [unclosed\n  answer: y\n")
    issue = load_error(tmp_path).errors[0]
    assert issue.file.endswith("broken.yaml")
    assert "invalid YAML" in issue.message and "line" in issue.message


def test_top_level_must_be_a_list(tmp_path: Path) -> None:
    write(tmp_path, "en/faq.yaml", "id: x\nquestions: [y]\nanswer: z\n")
    assert "list of entries" in str(load_error(tmp_path))


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Press <blink>here</blink>", "tag <blink> is not allowed"),
        ("This is <b>important", "<b> is not closed"),
        ("See <a>our site</a>", "<a> needs a non-empty href"),
    ],
)
def test_invalid_html_names_file_and_entry(tmp_path: Path, answer: str, problem: str) -> None:
    write(
        tmp_path,
        "en/support.yaml",
        f"- id: html-entry\n  questions: [Where?]\n  answer: '{answer}'\n",
    )
    issue = load_error(tmp_path).errors[0]
    assert issue.file.endswith("support.yaml") and issue.entry_id == "html-entry"
    assert problem in str(issue)
    assert "support.yaml" in str(issue) and "html-entry" in str(issue)


def test_all_problems_are_collected_into_one_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "en/a.yaml",
        """
- id: one
  questions: [First?]
  answer: ''
- id: two
  questions: []
  answer: <i>fine</i>
- id: three
  questions: [Third?]
  answer: <u>open
- id: Bad Id!
  questions: [Fourth?]
  answer: ok
  colour: red
""",
    )
    write(tmp_path, "en/b.yaml", "- [not: closed\n")
    error = load_error(tmp_path)
    labels = {(Path(issue.file).name, issue.entry_id) for issue in error.errors}
    assert ("a.yaml", "one") in labels
    assert ("a.yaml", "two") in labels
    assert ("a.yaml", "three") in labels
    assert ("a.yaml", "Bad Id!") in labels
    assert ("b.yaml", None) in labels
    assert "colour" in str(error)
    assert len(error.errors) >= 6


def test_question_shared_by_two_entries_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="first") + GOOD_ENTRY.format(id="second"))
    message = str(load_error(tmp_path))
    assert "second" in message and "also in entry 'first'" in message


def test_synonym_variant_under_two_canonical_words(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="first"))
    write(tmp_path, "en/_synonyms.yaml", "refund: [money back]\nmoney: [money back]\n")
    assert "money back" in str(load_error(tmp_path))


def test_files_starting_with_underscore_are_not_entries(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="first"))
    write(tmp_path, "en/_draft.yaml", "this is: [not, entries")
    write(tmp_path, "en/_synonyms.yaml", "delivery: [shipping]\n")
    kb = KnowledgeBase.from_dir(tmp_path, default_locale="en")
    assert [entry.id for entry in kb.entries()] == ["first"]
    assert kb.search("how long does shipping take", limit=1)[0].entry_id == "first"


def test_missing_directory_and_empty_directory(tmp_path: Path) -> None:
    assert "not a directory" in str(load_error(tmp_path / "nope"))
    assert "no entries found" in str(load_error(tmp_path))


def test_missing_default_locale_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="first"))
    with pytest.raises(KnowledgeBaseError, match="default locale 'ru'"):
        KnowledgeBase.from_dir(tmp_path)


def test_thresholds_must_be_ordered(tmp_path: Path) -> None:
    write(tmp_path, "en/a.yaml", GOOD_ENTRY.format(id="first"))
    with pytest.raises(ValueError, match="threshold"):
        KnowledgeBase.from_dir(
            tmp_path, default_locale="en", answer_threshold=40, suggest_threshold=60
        )


def test_shipped_data_loads_cleanly(kb: KnowledgeBase) -> None:
    assert kb.locales == ("en", "ru")
    ru_ids = {entry.id for entry in kb.entries("ru")}
    en_ids = {entry.id for entry in kb.entries("en")}
    assert len(ru_ids) >= 45
    assert ru_ids == en_ids
    for entry in kb.entries("ru") + kb.entries("en"):
        assert entry.tags, entry.id
        assert len(entry.questions) >= 3, entry.id
        assert entry.source is not None and entry.source.suffix == ".yaml"
    assert set(kb.tags("ru")) >= FORM_CATEGORIES
    assert len({entry.source for entry in kb.entries("ru")}) >= 5


def test_entry_lookup(kb: KnowledgeBase) -> None:
    entry = kb.entry("delivery-time", locale="ru")
    assert isinstance(entry, Entry)
    assert entry.locale == "ru" and "рабочих дней" in entry.answer
    assert "\n" not in entry.answer
    assert entry.source is not None and entry.source.name == "delivery.yaml"
    assert "delivery" in entry.tags
    with pytest.raises(KeyError, match="no-such-entry"):
        kb.entry("no-such-entry", locale="ru")
    assert kb.get("no-such-entry", locale="ru") is None


def test_entries_and_tags_per_locale(kb: KnowledgeBase) -> None:
    en = kb.entries(locale="en")
    assert all(entry.locale == "en" for entry in en)
    assert kb.tags("en") == sorted(kb.tags("en"))
    assert {"delivery", "payment", "returns", "complaints", "privacy"} <= set(kb.tags("en"))


def test_unknown_locale_falls_back_to_the_default(kb: KnowledgeBase) -> None:
    assert kb.resolve_locale("de") == "ru"
    assert kb.resolve_locale(None) == "ru"
    assert kb.resolve_locale("en-US") == "en"
    assert kb.resolve_locale("EN") == "en"
    assert kb.entry("delivery-time", locale="de").locale == "ru"
    assert kb.entries("pt-br") == kb.entries("ru")
    assert kb.search("скока идет доставка", locale="fr")[0].entry_id == "delivery-time"
