"""What the privacy features are told at start: the desk, the topics' fate, the limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class PrivacyConfig:
    staff_chat_id: int | None
    staff_locale: str
    zone: ZoneInfo
    erase_topics: str = "anonymise"  # or "delete"
    export_interval: timedelta = timedelta(hours=1)
    retention: timedelta | None = None
    batch_size: int = 200
