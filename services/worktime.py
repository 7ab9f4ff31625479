"""Working time for case deadlines: working days of mainland China, within the working hours of a day.

A day is a working day when, in this order:
1. HolidayOverride says so (admins correct the calendar, or add a year the library does not know);
2. the chinese_calendar library knows the date: public holidays are off, make-up working days (调休) on;
3. otherwise Monday to Friday.
Working hours are settings.SERVICES_WORK_HOURS (local time, Asia/Shanghai), e.g. ("09:00", "18:00").
"""

import datetime
from functools import cache

import chinese_calendar
from django.conf import settings
from django.utils import timezone

#: A deadline further away than this many days cannot be computed (a calendar without working days).
_MAX_DAYS = 3660


def load_overrides() -> dict[datetime.date, bool]:
    """{date: is working day} of the HolidayOverride table (a small table, read once per computation)."""
    from services.models import HolidayOverride

    return dict(HolidayOverride.objects.values_list("date", "is_workday"))


def is_workday(day: datetime.date, overrides: dict[datetime.date, bool] | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # outside the years the library knows
        return day.weekday() < 5


@cache
def _parse(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


def _window(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_default_timezone()
    start, end = (_parse(v) for v in settings.SERVICES_WORK_HOURS)
    return (
        datetime.datetime.combine(day, start, tzinfo=zone),
        datetime.datetime.combine(day, end, tzinfo=zone),
    )


def add_working_seconds(
    start: datetime.datetime, seconds: int, overrides: dict[datetime.date, bool] | None = None
) -> datetime.datetime:
    """The moment `seconds` of working time after `start` (a request made at night counts from 09:00)."""
    if overrides is None:
        overrides = load_overrides()
    local = timezone.localtime(start)
    remaining = datetime.timedelta(seconds=max(int(seconds), 0))
    day = local.date()
    for _ in range(_MAX_DAYS):
        if is_workday(day, overrides):
            opens, closes = _window(day)
            cursor = max(local, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
        day += datetime.timedelta(days=1)
    raise ValueError("No working day within ten years: check the holiday overrides.")


def working_seconds_between(
    start: datetime.datetime, end: datetime.datetime, overrides: dict[datetime.date, bool] | None = None
) -> int:
    """Working seconds from `start` to `end` (0 when end is not after start)."""
    if end <= start:
        return 0
    if overrides is None:
        overrides = load_overrides()
    start, end = timezone.localtime(start), timezone.localtime(end)
    total = datetime.timedelta()
    day = start.date()
    while day <= end.date():
        if is_workday(day, overrides):
            opens, closes = _window(day)
            lo, hi = max(start, opens), min(end, closes)
            if hi > lo:
                total += hi - lo
        day += datetime.timedelta(days=1)
    return int(total.total_seconds())
