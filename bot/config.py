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
    if isinstance(value, int):
        return [value]
    if not isinstance(value, str):
        return value
    ids: list[int] = []
    for part in value.replace(";", ",").split(","):
        if not part.strip():
            continue
        try:
            ids.append(int(part.strip()))
        except ValueError:
            raise ValueError(
                f"{part.strip()!r} is not a Telegram user id: use numeric ids separated by "
                "commas, e.g. '123456789,987654321'"
            ) from None
    return ids


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
            from bot.domain.calendar_settings import parse_holidays

            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            try:
                return sorted(parse_holidays(parts))
            except ValueError as exc:
                raise ValueError(f"{exc}, e.g. '2026-01-01,2026-01-07'") from None
        return value

    @field_validator("business_hours")
    @classmethod
    def _check_business_hours(cls, value: str) -> str:
        from bot.domain.calendar_settings import parse_business_hours

        parse_business_hours(value)
        return value

    @field_validator("business_days")
    @classmethod
    def _check_business_days(cls, value: str) -> str:
        from bot.domain.calendar_settings import parse_weekdays

        try:
            parse_weekdays(value)
        except ValueError as exc:
            raise ValueError(f"{exc}; e.g. 'mon-fri' or 'mon,tue,wed,thu,fri,sat'") from None
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

    # Receipt of updates (the inbox).
    inbox_lease_seconds: float = Field(default=30, gt=0, le=3600)

    # Instances. Unset: single instance on SQLite without Redis, several allowed otherwise.
    single_instance: bool | None = Field(
        default=None,
        description="true: the only instance (in-process caches on; a second one refuses to "
        "start on PostgreSQL); false: caches off, safe for several instances",
    )

    @field_validator("single_instance", mode="before")
    @classmethod
    def _check_single_instance(cls, value: object) -> object:
        words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if isinstance(value, str):
            if not value.strip():
                return None
            if value.strip().lower() not in words:
                raise ValueError(
                    f"SINGLE_INSTANCE must be true or false (or unset), not {value!r}; "
                    "for example SINGLE_INSTANCE=true"
                )
            return words[value.strip().lower()]
        return value

    @property
    def single_instance_mode(self) -> bool:
        """Whether this process is the only one using the database, so in-process caches are
        safe: `SINGLE_INSTANCE` when set, otherwise SQLite without Redis (the embedded
        set-up). Elsewhere the caches are off: several instances never serve stale data."""
        if self.single_instance is not None:
            return self.single_instance
        return self.database_url.startswith("sqlite") and not self.redis_url

    # Privacy and operations.
    privacy_policy_file: Path | None = None
    erase_topics: Literal["delete", "anonymise"] = "anonymise"
    retention_days: float | None = Field(default=None, gt=0)  # None: keep closed tickets
    metrics_port: int | None = Field(default=None, ge=0, le=65535)  # None: no endpoint
    log_format: Literal["text", "json"] = "text"
    metrics_host: str = "0.0.0.0"

    @field_validator("retention_days", "metrics_port", "privacy_policy_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("erase_topics", "log_format", mode="before")
    @classmethod
    def _lower_choice(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    # Mass incidents.
    incident_window_minutes: float = Field(default=60, gt=0)
    incident_min_tickets: int = Field(default=5, ge=2)
    incident_link_threshold: float | None = Field(default=None, ge=0, le=100)  # None: tuned
    incident_suggest_threshold: float | None = Field(default=None, ge=0, le=100)

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

    # Delivery: messages a second over all chats (Telegram's "about 30"; 0 turns it off).
    bot_messages_per_second: int = Field(default=30, ge=0)

    @field_validator("bot_messages_per_second", mode="before")
    @classmethod
    def _check_messages_per_second(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().isdigit():
            raise ValueError(
                f"BOT_MESSAGES_PER_SECOND {value!r} is not a whole number of 0 or more; "
                "for example BOT_MESSAGES_PER_SECOND=30 (0 turns the overall limit off)"
            )
        return value
