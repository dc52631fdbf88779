"""Cron strings fire when crontab(5) says: 0 and 7 are Sunday, 1-5 is Monday to Friday, either day field."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linkwatch import cron
from linkwatch.config import load_config
from linkwatch.errors import ConfigError
from linkwatch.sources import SourcesError, parse_sources

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 12, 0, tzinfo=SEOUL)


def fires(expr: str, n: int = 7, start: datetime = MONDAY) -> list[str]:
    """The next n fire times as 'Sun 03:00'."""
    trigger = cron.trigger(expr, SEOUL)
    out, previous, now = [], None, start
    for _ in range(n):
        previous = trigger.get_next_fire_time(previous, now)
        out.append(previous.strftime("%a %H:%M"))
        now = previous + timedelta(seconds=1)
    return out


@pytest.mark.parametrize("expr", ["0 3 * * 0", "0 3 * * 7", "0 3 * * sun", "0 3 * * SUN", "0 3 * * 0,7"])
def test_sunday_is_0_and_7(expr: str) -> None:
    assert fires(expr, 2) == ["Sun 03:00", "Sun 03:00"]


def test_weekdays_and_names() -> None:
    assert fires("0 3 * * 1-5", 5) == ["Tue 03:00", "Wed 03:00", "Thu 03:00", "Fri 03:00", "Mon 03:00"]
    assert fires("0 3 * * mon-fri", 5) == fires("0 3 * * 1-5", 5)
    assert fires("0 3 * * 6-7", 2) == ["Sat 03:00", "Sun 03:00"]
    assert fires("0 3 * * fri-sun", 3) == ["Fri 03:00", "Sat 03:00", "Sun 03:00"]
    assert fires("0 3 * * */2", 4) == ["Tue 03:00", "Thu 03:00", "Sat 03:00", "Sun 03:00"]  # 0,2,4,6
    assert fires("0 9 * * mon", 1) == ["Mon 09:00"]


def test_either_day_field_when_both_are_restricted() -> None:
    # crontab(5): the 1st of the month OR a Monday (APScheduler alone would ask for both at once)
    trigger = cron.trigger("0 3 1 * mon", SEOUL)
    first = trigger.get_next_fire_time(None, datetime(2026, 11, 28, tzinfo=SEOUL))
    assert first == datetime(2026, 11, 30, 3, tzinfo=SEOUL)  # a Monday
    assert trigger.get_next_fire_time(first, first + timedelta(seconds=1)) == datetime(2026, 12, 1, 3,
                                                                                      tzinfo=SEOUL)


def test_shorthands_steps_and_seconds() -> None:
    assert fires("@weekly", 1) == ["Sun 00:00"]
    assert fires("@daily", 2) == ["Tue 00:00", "Wed 00:00"]
    assert fires("*/20 * * * *", 3) == ["Mon 12:00", "Mon 12:20", "Mon 12:40"]
    assert fires("*/30 * * * * *", 2) == ["Mon 12:00", "Mon 12:00"]  # 6 fields: seconds first


@pytest.mark.parametrize(("expr", "why"), [
    ("0 3 * * 8", "day of week 8 is out of range 0-7"),
    ("61 * * * *", "minute 61 is out of range 0-59"),
    ("0 3 * * 5-1", "runs backwards"),
    ("every hour", "expected 5 fields"),
    ("0 3 L * *", "is not a number"),
    ("*/0 * * * *", "must be at least 1"),
])
def test_bad_expressions_say_why(expr: str, why: str) -> None:
    with pytest.raises(cron.CronError, match="is not a cron expression") as caught:
        cron.parse(expr)
    assert why in str(caught.value)


def test_sources_and_settings_read_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    table = '[[source]]\nname = "a"\nstart_urls = ["https://x.test/"]\nschedule = "{}"\n'
    (source,) = parse_sources(table.format("0 3 * * 7"))
    assert source.schedule == "0 3 * * 7"  # APScheduler's from_crontab refused 7
    with pytest.raises(SourcesError, match="day of week 8 is out of range"):
        parse_sources(table.format("0 3 * * 8"))
    monkeypatch.setenv("LINKWATCH_SCHEDULE_CHECK_CRON", "0 3 * * 7")
    assert load_config().schedule_check_cron == "0 3 * * 7"
    monkeypatch.setenv("LINKWATCH_SCHEDULE_REPORT_CRON", "off")
    assert load_config().schedule_report_cron == "off"
    monkeypatch.setenv("LINKWATCH_SCHEDULE_CHECK_CRON", "0 3 * * 8")
    with pytest.raises(ConfigError, match="LINKWATCH_SCHEDULE_CHECK_CRON: '0 3 \\* \\* 8' is not a cron"):
        load_config()
