"""Telegram HTML measured after parsing and split with its formatting kept."""

from __future__ import annotations

from bot.telegram.html_text import fits, parse_html, split_html, visible_length
from bot.telegram.text_limits import TEXT_LIMIT, split_text
from tests.telegram_fake import format_text


def test_the_visible_length_is_the_parsed_text_in_utf16_units() -> None:
    assert visible_length("<b>a &amp; b</b>") == 5
    assert visible_length("😀<i>x</i>") == 3
    assert visible_length("  padded\n") == 6


def test_parsing_gives_the_entities_telegram_would() -> None:
    source = (
        '<b>bold <i>both</i></b> <a href="https://example.com/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>'
    )
    text, entities = parse_html(source)
    expected = format_text(source, "HTML", None)
    assert text == expected.text
    assert sorted((e.type, e.offset, e.length, e.url, e.language) for e in entities) == sorted(
        (e["type"], e["offset"], e["length"], e.get("url"), e.get("language"))
        for e in expected.entities
    )


def test_a_long_formatted_text_is_split_and_keeps_its_formatting() -> None:
    sentence = "A <b>bold</b> word &amp; an <i>italic one</i> in a sentence. "
    source = "<b>Anna:</b>\n" + sentence * 150
    parts = split_html(source, TEXT_LIMIT)

    assert len(parts) == 2
    for part in parts:
        formatted = format_text(part, "HTML", None)  # the fake parses it as Telegram does
        assert 0 < len(formatted.text.encode("utf-16-le")) // 2 <= TEXT_LIMIT
        assert formatted.entities
    joined = " ".join(format_text(part, "HTML", None).text for part in parts)
    assert joined == format_text(source, "HTML", None).text.strip()
    assert parts[0].startswith("<b>Anna:</b>\nA <b>bold</b> word &amp; an <i>italic one</i>")


def test_formatting_across_a_cut_continues_in_the_next_part() -> None:
    source = "<i>" + "Word word word. " * 10 + "</i>"
    first, second = split_html(source, 100)[:2]
    assert first.startswith("<i>") and first.endswith("</i>")
    assert second.startswith("<i>")


def test_a_short_text_is_left_as_it_is() -> None:
    assert split_html("<b>hi</b> &lt;3", TEXT_LIMIT) == ["<b>hi</b> &lt;3"]


def test_a_short_header_line_does_not_become_a_part_of_its_own() -> None:
    parts = split_text("Anna (support):\n" + "Some sentence here. " * 300)
    assert parts[0].startswith("Anna (support):\nSome sentence here.")
    assert all(part.endswith(".") for part in parts)


def test_fitting_is_judged_on_the_visible_text() -> None:
    assert fits("<b>" + "a" * 10 + "</b>", 10)
    assert not fits("a" * 11, 10)
    assert fits("&lt;" * 10, 10)
