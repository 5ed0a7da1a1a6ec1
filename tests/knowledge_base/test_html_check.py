from __future__ import annotations

import pytest

from knowledge_base.html_check import check_telegram_html


@pytest.mark.parametrize(
    "text",
    [
        "plain text",
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <code>x</code>",
        '<a href="https://example.com/?a=1&amp;b=2">link</a>',
        '<pre><code class="language-python">print(1)</code></pre>',
        '<span class="tg-spoiler">hidden</span> <tg-spoiler>also</tg-spoiler>',
        "<blockquote>quote</blockquote> 5 &lt; 6 &amp; &#169;",
    ],
)
def test_valid_telegram_html(text: str) -> None:
    assert check_telegram_html(text) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("line<br>break", "tag <br> is not allowed"),
        ("<div>x</div>", "tag <div> is not allowed"),
        ("<b>never closed", "<b> is not closed"),
        ("<b><i>x</b></i>", "</b> does not match the open <i>"),
        ("closing only</i>", "</i> has no opening tag"),
        ("<a>no link</a>", "<a> needs a non-empty href"),
        ('<a href="">empty</a>', "<a> needs a non-empty href"),
        ("<span>x</span>", '<span class="tg-spoiler">'),
        ("x <br/> y", "self-closing"),
        ("Q&A", "unescaped '&'"),
        ("&nbsp;", "entity &nbsp; is not supported"),
        ("1 < 2", "unescaped '<'"),
        ("x" * 4097, "Telegram allows 4096"),
    ],
)
def test_invalid_telegram_html(text: str, problem: str) -> None:
    problems = check_telegram_html(text)
    assert any(problem in found for found in problems), problems
