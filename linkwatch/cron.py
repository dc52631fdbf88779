"""Cron expressions with standard crontab semantics (0 and 7 are Sunday), turned into APScheduler triggers.

APScheduler's own `CronTrigger.from_crontab` counts Monday as 0, so `0 3 * * 0` ran on Mondays and
`1-5` on Tuesday to Saturday. Every cron string linkwatch reads (a source's `schedule`,
LINKWATCH_SCHEDULE_*, `schedule --check-cron/--report-cron`) goes through parse() here instead.
Standard means what crontab(5) says: five fields (minute hour day-of-month month day-of-week),
names for months and days, `*`, ranges, lists and steps, the @hourly … @yearly shorthands, and when
both day fields are restricted a day matching either one fires. A sixth field in front (seconds) is
linkwatch's own extension for tests and fast schedules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbers them 0-6, and 7 is Sunday again
SHORTHANDS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
# name, lowest, highest, names (index + offset = value)
FIELDS = {
    "second": ("second", 0, 59, None),
    "minute": ("minute", 0, 59, None),
    "hour": ("hour", 0, 23, None),
    "day": ("day of month", 1, 31, None),
    "month": ("month", 1, 12, MONTHS),
    "day_of_week": ("day of week", 0, 7, DAYS),
}
OFF = ("off", "none", "")  # what turns a scheduler job off in place of a cron string
_ITEM = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")


class CronError(ValueError):
    """Raised by parse() with a message for the user: `'…' is not a cron expression (why)`."""


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: each field as APScheduler reads it, with cron's day numbering."""

    text: str
    second: str
    minute: str
    hour: str
    day: str
    month: str
    day_of_week: str  # APScheduler names (mon, tue, …): never its Monday-is-0 numbers

    def trigger(self, tz: tzinfo) -> Any:
        """An APScheduler trigger firing when cron would, in the time zone `tz`."""
        from apscheduler.triggers.combining import OrTrigger
        from apscheduler.triggers.cron import CronTrigger

        common = {"second": self.second, "minute": self.minute, "hour": self.hour, "month": self.month,
                  "timezone": tz}
        if self.day != "*" and self.day_of_week != "*":
            # crontab(5): with both day fields restricted, a day matching either one fires.
            return OrTrigger([CronTrigger(day=self.day, day_of_week="*", **common),
                              CronTrigger(day="*", day_of_week=self.day_of_week, **common)])
        return CronTrigger(day=self.day, day_of_week=self.day_of_week, **common)


def parse(text: str) -> Cron:
    """A Cron from 5 fields (or 6 with seconds first, or an @shorthand); CronError saying why not."""
    expr = " ".join(str(text).split()).lower()
    expr = SHORTHANDS.get(expr, expr)
    fields = expr.split(" ") if expr else []
    if len(fields) == 5:
        fields = ["0", *fields]
    elif len(fields) != 6:
        raise CronError(f"{text!r} is not a cron expression (expected 5 fields: minute hour "
                        "day-of-month month day-of-week, or 6 with seconds first)")
    values = {}
    for key, field in zip(FIELDS, fields, strict=True):
        try:
            values[key] = _field(field, *FIELDS[key])
        except CronError as exc:
            raise CronError(f"{text!r} is not a cron expression ({exc})") from None
    dow = values["day_of_week"]
    if dow != "*":
        # APScheduler reads bare numbers as Monday = 0; names mean the same to both.
        values["day_of_week"] = ",".join(DAYS[int(n)] for n in dow.split(","))
    return Cron(str(text), **values)



def _value(token: str, label: str, low: int, high: int, names: tuple[str, ...] | None) -> int:
    if token.isdigit():
        value = int(token)
    elif names and token[:3] in names and len(token) == 3:
        value = names.index(token) + (1 if names is MONTHS else 0)
    else:
        raise CronError(f"{label} {token!r} is not a number" + (f" or a name ({names[0]}…)" if names else ""))
    if not low <= value <= high:
        raise CronError(f"{label} {value} is out of range {low}-{high}")
    return value


def _field(field: str, label: str, low: int, high: int, names: tuple[str, ...] | None) -> str:
    """The field for APScheduler: `*` as is, anything else expanded to a sorted list of values.

    Expanding is what makes the day of week right: cron's 0/7 (Sunday) to 6 (Saturday) become
    day numbers here, and names only when handed to APScheduler.
    """
    if field == "*":
        return "*"
    chosen: set[int] = set()
    for item in field.split(","):
        m = _ITEM.match(item)
        if not m:
            raise CronError(f"{label} {item!r} is not a value, range (a-b), list (a,b) or step (*/n)")
        star, first, last, step = m.groups()
        if star:
            start, end = low, high
        else:
            start = _value(first, label, low, high, names)
            end = start if last is None else _value(last, label, low, high, names)
            if names is DAYS and last is not None and end == 0 and start > 0:
                end = 7  # fri-sun: Sunday as the end of a range is day 7
            if step is not None and last is None:
                end = high  # 5/15 is 5-<max>/15, as Vixie cron reads it
            if start > end:
                raise CronError(f"{label} range {item!r} runs backwards")
        every = int(step) if step is not None else 1
        if every < 1:
            raise CronError(f"{label} step {item!r} must be at least 1")
        chosen.update(range(start, end + 1, every))
    if names is DAYS:
        chosen = {n % 7 for n in chosen}  # 7 is Sunday too
        if chosen == set(range(7)):
            return "*"
    elif chosen == set(range(low, high + 1)):
        return "*"
    return ",".join(str(n) for n in sorted(chosen))


def trigger(text: str, tz: tzinfo) -> Any:
    """parse(text).trigger(tz): the APScheduler trigger for a cron string."""
    return parse(text).trigger(tz)
