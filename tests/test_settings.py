"""Every setting with a format refuses a bad value with its name, the value and an example."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.__main__ import load_settings
from bot.config import Settings


def _error_for(**values: str) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, bot_token="1:x", **values)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "example"),
    [
        ("business_hours", "9-18", "09:00-18:00"),
        ("business_hours", "18:00-09:00", "overnight"),
        ("business_days", "workdays", "mon-fri"),
        ("holidays", "2026-13-01", "2026-01-01"),
        ("sla_targets", "urgent=1", "normal=24/48"),
        ("sla_targets", "critical=1/2", "urgent"),
        ("staff_user_ids", "12,abc", "123456789,987654321"),
        ("supervisor_ids", "@boss", "123456789,987654321"),
        ("timezone", "Mars/Olympus", "IANA"),
        ("bot_messages_per_second", "-5", "BOT_MESSAGES_PER_SECOND=30"),
    ],
)
def test_a_bad_value_names_setting_value_and_example(field: str, value: str, example: str) -> None:
    message = _error_for(**{field: value})
    assert field in message
    assert repr(value.split(",")[-1]) in message or value in message
    assert example in message


def test_good_values_are_parsed() -> None:
    settings = Settings(
        _env_file=None,
        bot_token="1:x",
        business_hours="08:30-17:00",
        business_days="mon-sat",
        holidays="2026-01-01, 2026-01-07",
        staff_user_ids="1, 2;3",
    )
    assert [str(day) for day in settings.holidays] == ["2026-01-01", "2026-01-07"]
    assert settings.staff_user_ids == [1, 2, 3]


def test_the_start_prints_the_setting_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("BUSINESS_DAYS", "weekdays")
    monkeypatch.chdir("/")  # no .env here
    assert load_settings() is None
    printed = capsys.readouterr().err
    assert "BUSINESS_DAYS" in printed
    assert "'weekdays'" in printed
    assert "mon-fri" in printed
    assert "Traceback" not in printed
