"""The sandbox page in a real browser (headless Chromium driven by Selenium).

A customer files a complaint by pressing the bot's buttons, the ticket's topic and card show
up in the staff pane, an agent takes it and replies, the reply reaches the customer's pane,
the customer answers it with a reply and edits that answer (the topic shows both), the agent
resolves it, the clock moves an hour and the customer rates the resolution.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.forms.loader import load_form
from bot.locales.catalog import Catalogs
from sandbox import cast
from tests.sandbox.process import running_sandbox, sandbox_command, sandbox_env

pytestmark = pytest.mark.process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_SECONDS = 90
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
)

EMILY = cast.CUSTOMERS[1].user
SARAH = next(m.user for m in cast.STAFF if m.user.first_name == "Sarah")

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "no headless browser: install Debian's chromium and chromium-driver packages",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = Options()
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The two panes, used the way a person would: find by what is shown, click, type."""

    def __init__(self, driver: WebDriver, screenshots: Path) -> None:
        self.driver = driver
        self.screenshots = screenshots

    def until(self, condition: Callable[[WebDriver], Any], what: str) -> Any:
        def safe(driver: WebDriver) -> Any:
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False  # the pane was redrawn under us: look again

        try:
            return WebDriverWait(self.driver, WAIT_SECONDS).until(safe)
        except TimeoutException:
            self.driver.save_screenshot(str(self.screenshots / "failure.png"))
            raise AssertionError(f"timed out waiting for {what}") from None

    def texts(self, pane: str) -> list[str]:
        """Texts of the pane's messages, read in one go (the pane may be redrawn any time)."""
        return self.all_text(f"#{pane}-messages .msg .text")

    def all_text(self, css: str) -> list[str]:
        script = "return Array.from(document.querySelectorAll(arguments[0])).map(n => n.innerText)"
        return list(self.driver.execute_script(script, css))

    def wait_text(self, pane: str, fragment: str) -> str:
        def found(_: WebDriver) -> str | bool:
            return next((t for t in reversed(self.texts(pane)) if fragment in t), False)

        return str(self.until(found, f"{fragment!r} in the {pane} pane"))

    def press(self, pane: str, label: str, *, css: str = ".inline-btn") -> None:
        """Press the latest button with this label (inline, or reply keyboard with css)."""

        def click(driver: WebDriver) -> bool:
            buttons = [
                b
                for b in driver.find_elements(By.CSS_SELECTOR, f"#{pane}-pane {css}")
                if b.text == label and b.is_enabled()
            ]
            if not buttons:
                return False
            buttons[-1].click()
            return True

        self.until(click, f"a {label!r} button in the {pane} pane")

    def act_on(self, pane: str, fragment: str, action: str) -> None:
        """Press a message's own button ("reply-action", "edit-action") on the latest message
        of the pane whose text holds `fragment`."""

        def click(driver: WebDriver) -> bool:
            messages = [
                m
                for m in driver.find_elements(By.CSS_SELECTOR, f"#{pane}-messages .msg")
                if any(fragment in t.text for t in m.find_elements(By.CSS_SELECTOR, ".text"))
            ]
            buttons = messages[-1].find_elements(By.CSS_SELECTOR, f".{action}") if messages else []
            if not buttons:
                return False
            buttons[0].click()
            return True

        self.until(click, f"a {action} on {fragment!r} in the {pane} pane")
        self.until(
            lambda d: d.find_element(By.ID, f"{pane}-banner").is_displayed(),
            f"the {action} banner in the {pane} pane",
        )

    def parts(self, pane: str, fragment: str, css: str) -> list[str]:
        """For each message of the pane whose text holds `fragment`, the text of its part
        matching `css` ("" where it has none): ".quote" is the message it replies to."""
        script = (
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".filter(m => Array.from(m.querySelectorAll('.text'))"
            ".some(t => t.innerText.includes(arguments[1])))"
            ".map(m => { const p = m.querySelector(arguments[2]); return p ? p.innerText : ''; })"
        )
        return list(self.driver.execute_script(script, f"#{pane}-messages .msg", fragment, css))

    def type(self, pane: str, text: str) -> None:
        box = self.driver.find_element(By.ID, f"{pane}-input")
        box.clear()
        box.send_keys(text)
        self.driver.find_element(By.ID, f"{pane}-send").click()


def test_a_complaint_from_the_customer_pane_to_a_rating(browser: WebDriver, tmp_path: Path) -> None:
    asyncio.run(_complaint_to_rating(browser, tmp_path))


async def _complaint_to_rating(browser: WebDriver, tmp_path: Path) -> None:
    catalogs = Catalogs()

    def en(key: str, **params: Any) -> str:
        return catalogs.plain(key, "en", **params)

    category = next(c for c in load_form(None).categories if c.id == "service").title("en")
    picture = tmp_path / "store.png"
    picture.write_bytes(_tiny_png())
    env = sandbox_env(tmp_path / "data", DEFAULT_LOCALE="en")  # the staff group in English
    async with running_sandbox(sandbox_command(), cwd=tmp_path, env=env) as box:
        await asyncio.to_thread(_drive, Page(browser, tmp_path), box.url, en, category, picture)


def _drive(page: Page, url: str, en: Callable[..., str], category: str, picture: Path) -> None:
    driver = page.driver
    driver.get(url)
    page.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#topic-list .topic"), "the page")
    Select(driver.find_element(By.ID, "customer-select")).select_by_value(str(EMILY.id))
    Select(driver.find_element(By.ID, "staff-select")).select_by_value(str(SARAH.id))

    # The customer files a complaint, pressing the bot's buttons.
    page.type("customer", "/start")
    page.wait_text("customer", "Hello, Emily!")
    page.press("customer", en("menu.complaint"))
    page.press("customer", category)
    page.type("customer", "The shop assistant was <i>rude</i> & refused to help.")
    page.press("customer", en("form.button.yesterday"))
    driver.find_element(By.CSS_SELECTOR, "#customer-form .file-input").send_keys(str(picture))
    page.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#customer-messages .msg.out img"),
        "the photo in the customer's chat",
    )
    page.press("customer", en("form.button.done", count=1))
    page.press("customer", en("form.button.share_phone"), css=".reply-btn")
    page.press("customer", en("form.button.submit"))
    registered = page.wait_text("customer", "C-0")
    number = re.search(r"C-\d+", registered)
    assert number is not None, registered

    # Its topic and card appear in the staff pane; Sarah takes it and replies.
    def topic(d: WebDriver) -> Any:
        found = [t for t in d.find_elements(By.CSS_SELECTOR, "#topic-list .topic")]
        return next((t for t in found if number.group() in t.text), False)

    page.until(topic, f"the topic of {number.group()}").click()
    card = page.wait_text("staff", number.group())
    assert category in card
    # What the customer typed is shown as typed (escaped by the bot, drawn as text).
    assert "was <i>rude</i> & refused" in card
    page.press("staff", en("desk.button.take"))
    page.wait_text("customer", "Sarah")
    reply = "We are sorry, Emily. The store manager will call you today."
    page.type("staff", reply)
    assert page.wait_text("customer", "The store manager will call you today.")

    # The customer answers with Telegram's reply on the agent's message: in the topic the
    # answer quotes Sarah's message.
    page.act_on("customer", "The store manager will call you today.", "reply-action")
    page.type("customer", "Thank you, I will wait for the call.")
    page.wait_text("staff", "Thank you, I will wait for the call.")
    (quote,) = page.parts("staff", "I will wait for the call", ".quote")
    assert "Sarah" in quote and "We are sorry, Emily" in quote
    # The customer edits that message in the chat: the topic shows the new text instead.
    page.act_on("customer", "I will wait for the call.", "edit-action")
    page.type("customer", "Thank you, I will wait for the call at home after 6 pm.")
    edited = page.wait_text("staff", "at home after 6 pm")
    assert "Thank you, I will wait for the call at home after 6 pm." in edited
    assert not [t for t in page.texts("staff") if t == "Thank you, I will wait for the call."]
    assert page.parts("staff", "at home after 6 pm", ".edited") == ["edited"]
    (quote,) = page.parts("staff", "at home after 6 pm", ".quote")  # still the answer to Sarah
    assert "We are sorry, Emily" in quote

    # The decision goes out; an hour later the survey comes and the customer rates it.
    page.type("staff", "/resolve apology We apologise: the manager has spoken to the team.")
    page.wait_text("customer", "the manager has spoken to the team")
    driver.find_element(By.ID, "advance-hour").click()
    page.wait_text("customer", "How satisfied are you")
    page.press("customer", "5")
    page.wait_text("customer", "Thank you")
    # The bot's own markup is drawn the way Telegram draws it: the number in bold.
    assert number.group() in page.all_text("#customer-messages .text b")
    assert page.all_text("#customer-messages .text i") == []
    driver.save_screenshot(str(page.screenshots / "rated.png"))


def _tiny_png() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
