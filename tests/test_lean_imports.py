"""The bot's own process does not load the libraries only the report worker needs.

Charts (matplotlib, with Pillow and fontTools) and spreadsheets (xlsxwriter) are made in the
report worker process or on a supervisor's request; loaded at the start they cost the bot
about 35 MB of its resident memory for good (docs/benchmarks.md, "Memory"). A fresh
interpreter is the only honest place to look: this test process has loaded them already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # builds the bot in an interpreter of its own

ROOT = Path(__file__).resolve().parent.parent
NOT_AT_START = ("matplotlib", "PIL", "fontTools", "xlsxwriter", "openpyxl")

BUILD_THE_BOT = """
import json, sys
import bot.__main__
from bot.app import build_app
from bot.config import Settings

settings = Settings(
    _env_file=None,
    bot_token="1:x",
    staff_chat_id=-100123,
    database_url="sqlite+aiosqlite:///:memory:",
)
build_app(settings)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded_by_building_the_bot() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", BUILD_THE_BOT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_building_the_bot_loads_no_chart_or_spreadsheet_library() -> None:
    loaded = _loaded_by_building_the_bot()
    assert "aiogram" in loaded and "bot" in loaded  # the app was really built
    assert sorted(loaded.intersection(NOT_AT_START)) == []
