"""The sandbox as a newcomer meets it: started without a token, it serves the page and the bot
inside it answers /start. Its database is its own; `make run` picks it when no token is set."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.__main__ import main as bot_main
from sandbox import cast
from sandbox.main import main as sandbox_main
from sandbox.main import token_is_set
from tests.sandbox.process import ROOT, running_sandbox, sandbox_command, sandbox_env

ANNA = cast.CUSTOMERS[0].user  # Russian
EMILY = cast.CUSTOMERS[1].user  # English


def _bot_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("text") or "") for m in messages if m.get("from", {}).get("is_bot")]


@pytest.mark.process
async def test_the_sandbox_serves_the_page_and_the_bot_answers_start(tmp_path: Path) -> None:
    data = tmp_path / "sandbox-data"
    async with running_sandbox(sandbox_command(), cwd=tmp_path, env=sandbox_env(data)) as box:
        async with ClientSession() as client, client.get(box.url + "/") as page:
            assert page.status == 200
            html = await page.text()
        assert "<title>Support desk · local sandbox</title>" in html
        assert 'src="/static/app.js"' in html

        await box.post("/api/message", {"user_id": EMILY.id, "text": "/start"})
        messages = await box.wait_for_chat(EMILY.id, lambda m: bool(_bot_texts(m)))
        greeting = _bot_texts(messages)[0]
        assert greeting.startswith("Hello, Emily!")
        menu = next(m for m in messages if m.get("reply_markup"))
        buttons = [b["text"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
        assert "📝 File a complaint" in buttons

        await box.post("/api/message", {"user_id": ANNA.id, "text": "/start"})
        russian = await box.wait_for_chat(ANNA.id, lambda m: bool(_bot_texts(m)))
        assert _bot_texts(russian)[0].startswith("Здравствуйте, Anna!")

    code = box.process.returncode
    output = "".join(box.log)
    assert code == 0, output
    assert "Traceback" not in output, output
    # Its own SQLite file, with the desk's tables and Emily registered; nothing else written.
    database = data / "sandbox.db"
    with sqlite3.connect(database) as connection:
        names = {row[0] for row in connection.execute("select telegram_id from customers")}
    assert {EMILY.id, ANNA.id} <= names
    assert not (tmp_path / "data").exists()


@pytest.mark.process
async def test_the_time_control_moves_the_bots_clock(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path / "data")
    async with running_sandbox(sandbox_command(), cwd=tmp_path, env=env) as box:
        before = await box.get("/api/state")
        moved = await box.post("/api/clock", {"step": "day"})
        await box.post("/api/message", {"user_id": EMILY.id, "text": "/start"})
        messages = await box.wait_for_chat(EMILY.id, lambda m: bool(_bot_texts(m)))
    from datetime import datetime

    start = datetime.fromisoformat(before["now"])
    assert (datetime.fromisoformat(moved["now"]) - start).total_seconds() >= 86_400
    # Telegram's dates in the sandbox follow its clock: the bot's answer is dated a day on.
    assert messages[-1]["date"] >= int(start.timestamp()) + 86_400


@pytest.mark.process
def test_make_run_without_a_token_starts_the_sandbox(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if (ROOT / ".env").exists() and "BOT_TOKEN" in (ROOT / ".env").read_text():
        pytest.skip("this checkout's .env sets BOT_TOKEN: make run would start the real bot")
    env = sandbox_env(tmp_path / "data")
    process = subprocess.Popen(
        ["make", "-s", "-C", str(ROOT), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
    finally:
        import os
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
    assert first.startswith("No BOT_TOKEN: starting the local sandbox at http://127.0.0.1:")
    assert first.rstrip().endswith("— set BOT_TOKEN to connect to Telegram")


def test_python_m_bot_without_a_token_still_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(("BOT_", "DATABASE_", "REDIS_", "SANDBOX_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert bot_main() == 2  # what `python -m bot` exits with
    out, err = capsys.readouterr()
    assert "BOT_TOKEN is not set" in err
    assert "sandbox" not in out + err


def test_the_token_is_looked_for_in_the_environment_and_in_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert not token_is_set()
    (tmp_path / ".env").write_text("STAFF_CHAT_ID=-100123\nBOT_TOKEN=\n")
    assert not token_is_set()  # an empty value is no token
    (tmp_path / ".env").write_text("BOT_TOKEN=123:ABC\n")
    assert token_is_set()
    (tmp_path / ".env").unlink()
    monkeypatch.setenv("BOT_TOKEN", "123:ABC")
    assert token_is_set()
    monkeypatch.delenv("BOT_TOKEN")
    assert sandbox_main(["--token-is-set"]) == 1  # what `make run` asks
    monkeypatch.setenv("BOT_TOKEN", "123:ABC")
    assert sandbox_main(["--token-is-set"]) == 0


@pytest.mark.process
async def test_seed_plays_a_week_into_every_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_sandbox(sandbox_command(), cwd=tmp_path, env=sandbox_env(data)) as box:
        result = await box.post("/api/seed", {}, seconds=300)  # a week played through the bot
        state = await box.get("/api/state")
        staff = await box.get(f"/api/chat/{cast.STAFF_CHAT_ID}")
    assert result["skipped"] == 0, result
    assert result["tickets"] >= 20
    # The page now offers the seeded customers, in both languages.
    languages = {c["language"] for c in state["customers"]}
    assert len(state["customers"]) > 30 and languages == {"ru", "en"}
    # Every ticket has its topic in the staff group.
    assert len(staff["topics"]) == result["tickets"]
    with sqlite3.connect(data / "sandbox.db") as connection:
        statuses = {row[0] for row in connection.execute("select status from tickets")}
        ratings = [row[0] for row in connection.execute("select rating from tickets")]
        questions = connection.execute("select count(*) from kb_queries").fetchone()[0]
        events = {row[0] for row in connection.execute("select kind from ticket_events")}
    assert {"new", "in_progress", "waiting_customer", "resolved", "closed"} <= statuses
    assert {2, 4, 5} <= set(ratings)
    assert questions >= 8
    # The sweeps ran on the sandbox clock as the week went by.
    assert {"survey_sent", "sla_warning", "sla_breach"} <= events, events
