"""Analytics for supervisors: metric definitions, queries, charts, exports and the digest.

Usable without Telegram::

    analytics = Analytics(engine, sla_policy, ZoneInfo("Europe/Moscow"), SystemClock())
    report = await analytics.report(Period(date(2026, 11, 1), date(2026, 11, 15)), "team")
"""

from bot.services.analytics.metrics import BREAKDOWNS, Report
from bot.services.analytics.periods import Period, PeriodError, parse_period
from bot.services.analytics.service import Analytics

__all__ = ["BREAKDOWNS", "Analytics", "Period", "PeriodError", "Report", "parse_period"]
