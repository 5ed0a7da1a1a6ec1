"""`python -m bot.stats`: the supervisors' report in a terminal or a cron job.

    python -m bot.stats --from 2026-11-01 --to 2026-11-15 --format text
    python -m bot.stats --period last_month --format csv --output reports/
    python -m bot.stats --from 2026-11-01 --to 2026-11-30 --format xlsx --breakdown team

Reads the same settings as the bot (`DATABASE_URL`, `TIMEZONE`, SLA settings, ...); no
Telegram token is needed. `text` prints the summary; `csv` and `xlsx` write the export files
(one row per ticket, one per event) into `--output` and print their paths.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.app import build_sla_policy
from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.forms.loader import load_form
from bot.locales.catalog import Catalogs
from bot.services.analytics import BREAKDOWNS, Analytics, PeriodError, parse_period
from bot.services.analytics.causes import load_causes
from bot.services.analytics.export import export_folder
from bot.services.analytics.periods import Period, local_today
from bot.services.analytics.text import staff_style
from bot.services.answers import html_to_plain
from bot.telegram.staff.stats_text import summary_text
from storage.db import create_engine
from storage.unit_of_work import Database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.stats", description="Statistics of the support desk."
    )
    parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (in TIMEZONE)")
    parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--period",
        help="today, 7d, 30d, this_month or last_month instead of --from/--to (default: 7d)",
    )
    parser.add_argument("--format", choices=("text", "csv", "xlsx"), default="text")
    parser.add_argument("--breakdown", choices=BREAKDOWNS, help="text: add a breakdown")
    parser.add_argument("--output", type=Path, default=Path("."), help="folder for csv / xlsx")
    parser.add_argument("--locale", choices=("ru", "en"), help="language of the text report")
    return parser


def _period(args: argparse.Namespace, today: date) -> Period:
    if args.period and (args.first or args.last):
        raise PeriodError("give either --period or --from/--to, not both")
    if args.first or args.last:
        first = args.first or args.last
        return parse_period(f"{first}..{args.last or today.isoformat()}", today)
    return parse_period(args.period or "7d", today)


async def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings(bot_token="unused-by-the-statistics-command")
    except ValidationError as error:
        print(f"invalid settings:\n{error}", file=sys.stderr)
        return 2
    zone = ZoneInfo(settings.timezone)
    clock = SystemClock()
    try:
        period = _period(args, local_today(clock.now(), zone))
    except PeriodError as error:
        print(f"period: {error}", file=sys.stderr)
        return 2
    database = Database(create_engine(settings.database_url))
    # A command has no event loop to keep free: the report is built in this process.
    analytics = Analytics(database.engine, build_sla_policy(settings), zone, clock, in_process=True)
    try:
        if args.format == "text":
            locale = args.locale or settings.default_locale
            catalogs = Catalogs(default_locale=settings.default_locale)
            schema = load_form(settings.complaint_form_file)
            style = staff_style(catalogs, locale, zone, schema, load_causes(settings.causes_file))
            named = await analytics.named_report(period, args.breakdown)
            print(html_to_plain(summary_text(style, named.report, named.agent_names)))
            return 0
        args.output.mkdir(parents=True, exist_ok=True)
        with export_folder() as folder:
            result = await analytics.export(period, folder, for_upload=False)
            wanted = result.csv_files if args.format == "csv" else [result.xlsx]
            if args.format == "xlsx" and result.xlsx is None:
                print("the XLSX file is over the size limit; use --format csv", file=sys.stderr)
                return 1
            for file in wanted:
                assert file is not None
                target = args.output / file.name
                shutil.move(str(file.path), target)
                print(target)
        print(f"{result.tickets} tickets, {result.events} events", file=sys.stderr)
        return 0
    finally:
        await analytics.close()
        await database.dispose()


def main() -> None:
    raise SystemExit(asyncio.run(run()))


if __name__ == "__main__":
    main()
