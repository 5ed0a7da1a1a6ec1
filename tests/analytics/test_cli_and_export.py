"""`python -m bot.stats` and the export's files, without Telegram."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot import stats
from bot.domain.clock import FrozenClock
from bot.domain.sla import SlaPolicy
from bot.services.analytics import Analytics
from bot.services.analytics import export as export_module
from bot.services.analytics.export import export_folder
from storage.unit_of_work import Database
from tests.analytics.history import WEEK, at, build_history


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TIMEZONE", "Europe/Moscow")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return sqlite_url


async def test_text_report_in_the_terminal(
    database: Database, cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_history(database)
    code = await stats.run(
        ["--from", "2026-11-16", "--to", "2026-11-22", "--locale", "en", "--breakdown", "priority"]
    )
    out = capsys.readouterr().out.split("\n")
    assert code == 0
    assert out[0] == "📊 Statistics Nov 16, 2026 – Nov 22, 2026"
    assert out[2] == "Tickets: 6 (+200% vs 2) · resolved 3 · open at the end 4"
    assert "• Urgent: 1 · 1 · 2.0 h / 12.0 h · 0% / 0% · 0%" in out


async def test_csv_and_xlsx_files_from_the_terminal(
    database: Database, cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_history(database)
    output = tmp_path / "reports"
    code = await stats.run(
        ["--from", "2026-11-16", "--to", "2026-11-22", "--format", "csv", "--output", str(output)]
    )
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == [
        "desk-2026-11-16_2026-11-22-tickets.csv",
        "desk-2026-11-16_2026-11-22-events.csv",
    ]
    assert len(_rows(Path(printed[0]))) == 6

    assert (
        await stats.run(["--period", "last_month", "--format", "xlsx", "--output", str(output)])
        == 0
    )
    xlsx = Path(capsys.readouterr().out.strip())
    assert xlsx.name.endswith(".xlsx")
    assert openpyxl.load_workbook(xlsx, read_only=True).sheetnames == ["tickets", "events"]


async def test_a_bad_period_is_explained(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await stats.run(["--from", "2026-11-30", "--to", "2026-11-01"]) == 2
    assert "ends (2026-11-01) before it starts" in capsys.readouterr().err


async def test_large_csv_is_zipped_then_split_within_the_upload_limit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_history(database)
    service = Analytics(
        database.engine, SlaPolicy.from_config(), ZoneInfo("Europe/Moscow"), FrozenClock(at(23, 9))
    )
    monkeypatch.setattr(export_module, "UPLOAD_LIMIT", 1000)
    with export_folder() as folder:
        result = await service.export(WEEK, folder)
        # Both files are over 1000 bytes and fit once zipped.
        assert [file.name for file in result.csv_files] == [
            "desk-2026-11-16_2026-11-22-tickets.zip",
            "desk-2026-11-16_2026-11-22-events.zip",
        ]
        assert result.zipped and not result.split
        archive = zipfile.ZipFile(result.csv_files[0].path)
        text = archive.read(archive.namelist()[0]).decode("utf-8-sig")
        assert len(list(csv.DictReader(io.StringIO(text)))) == 6
        assert all(file.path.stat().st_size <= 1000 for file in result.files)
        assert result.xlsx_too_large and result.xlsx is None

    monkeypatch.setattr(export_module, "UPLOAD_LIMIT", 300)
    monkeypatch.setattr(export_module, "PART_LIMIT", 600)
    with export_folder() as folder:
        result = await service.export(WEEK, folder)
        assert result.split
        parts = [file.path for file in result.csv_files if "tickets" in file.name]
        assert len(parts) >= 2
        assert all(part.stat().st_size <= 600 for part in parts)
        rows = [row["number"] for part in parts for row in _rows(part)]
        assert rows == ["C-000001", "C-000002", "C-000003", "C-000004", "C-000006", "C-000009"]
    await service.close()
