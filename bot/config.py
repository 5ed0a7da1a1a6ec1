"""Settings read from the environment and `.env` (see the configuration table in README)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/bot.db"


def parse_sla_targets(text: str) -> dict[str, tuple[float, float]]:
    """Parse ``"urgent=1/8,high=4/24"`` into ``{"urgent": (1.0, 8.0), "high": (4.0, 24.0)}``.

    Each item is ``priority=first response hours/resolution hours``; priorities left out keep
    their defaults.
    """
    targets: dict[str, tuple[float, float]] = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        name, sep, hours = item.partition("=")
        first, slash, resolution = hours.partition("/")
        try:
            if not sep or not slash:
                raise ValueError
            targets[name.strip().lower()] = (float(first), float(resolution))
        except ValueError:
            raise ValueError(
                f"SLA target {item.strip()!r} must look like 'normal=24/48' "
                "(first response hours / resolution hours)"
            ) from None
    return targets


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr
    staff_chat_id: int | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "support-desk"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    default_locale: Literal["ru", "en"] = "ru"
    timezone: str = "Europe/Moscow"
    knowledge_base_dir: Path = Path("knowledge_base/data")
    kb_answer_threshold: float | None = Field(default=None, ge=0, le=100)  # None: tuned default
    kb_suggest_threshold: float | None = Field(default=None, ge=0, le=100)
    complaint_form_file: Path | None = None
    staff_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    supervisor_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    show_agent_names: bool = True
    log_level: str = "INFO"

    @field_validator("staff_user_ids", "supervisor_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from exc
        return value

    # Service levels, sweeps and surveys.
    sla_targets: str = "urgent=1/8,high=4/24,normal=24/48,low=48/120"
    business_hours: str = "09:00-18:00"
    business_days: str = "mon-fri"
    holidays: Annotated[list[date], NoDecode] = Field(default_factory=list)
    sla_business_time_only: bool = False
    sla_warn_fraction: float = Field(default=0.75, gt=0, lt=1)
    sweep_interval_seconds: float = Field(default=60, gt=0)
    still_working_after_hours: float = Field(default=24, gt=0)
    auto_close_days: float = Field(default=7, gt=0)
    survey_delay_minutes: float = Field(default=30, ge=0)
    survey_reminder_days: float = Field(default=3, gt=0)
    escalation_raises_priority: bool = False

    @field_validator("holidays", mode="before")
    @classmethod
    def _parse_holidays(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("sla_targets")
    @classmethod
    def _check_sla_targets(cls, value: str) -> str:
        from bot.domain.sla import SlaPolicy

        SlaPolicy.from_config(targets=parse_sla_targets(value))
        return value

    @property
    def sla_target_hours(self) -> Mapping[str, tuple[float, float]]:
        return parse_sla_targets(self.sla_targets)

    # Staff desk.
    routing_file: Path | None = None
    templates_dir: Path | None = None
    company_name: str = ""
    staff_admin_cache_seconds: float = Field(default=300, ge=0)
    staff_group_messages_per_minute: int = Field(default=20, ge=0)
    private_chat_min_interval_seconds: float = Field(default=1.0, ge=0)
    relay_burst_minutes: float = Field(default=10, ge=0)
    reopen_window_days: float = Field(default=30, ge=0)

    # Analytics.
    causes_file: Path | None = None
    digest_schedule: str = "0 9 * * mon"

    @field_validator("digest_schedule")
    @classmethod
    def _check_digest_schedule(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        value = value.strip()
        if value:
            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(
                    f"DIGEST_SCHEDULE {value!r} is not a cron expression: {exc}; "
                    "for example '0 9 * * mon' (Mondays at 09:00), or empty to turn it off"
                ) from exc
        return value
