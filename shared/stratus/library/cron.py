"""Cron expressions for schedules: the five fields users write (minute hour day-of-month month
day-of-week), the next run in a time zone, and EventBridge Scheduler's six-field form.

Semantics follow Vixie cron (what AutoGPT's APScheduler `from_crontab` accepts for the common
forms): `*`, `n`, `a-b`, `*/s`, `a-b/s`, `n/s`, lists, month and day names, day-of-week 0 or 7
for Sunday, and the @hourly/@daily/@weekly/@monthly/@yearly macros. When both day fields are
restricted a day matches either of them; EventBridge cannot say that, so it is refused.

Daylight saving time is handled as EventBridge Scheduler does: a wall-clock time skipped when
clocks go forward does not run, and a time repeated when they go back runs once (first pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
AWS_EXPRESSION_LIMIT = 256  # EventBridge Scheduler's ScheduleExpression length limit
_SEARCH_DAYS = 9 * 366  # a leap day can be 8 years away (2096 → 2104)
_ALL_DAYS = frozenset(range(1, 32))
_ALL_WEEKDAYS = frozenset(range(7))


class CronError(ValueError):
    """An expression that cannot be parsed or cannot be run by EventBridge Scheduler."""


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    # True when the field was written starting with '*' (or '?'): then a day must match both
    # day fields; when both are restricted, either one (Vixie cron).
    any_day_of_month: bool
    any_day_of_week: bool
    years: frozenset[int] | None = None  # EventBridge's sixth field; None = every year

    def matches_day(self, day: date) -> bool:
        in_month = day.day in self.days
        in_week = day.isoweekday() % 7 in self.weekdays
        if self.any_day_of_month or self.any_day_of_week:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """The first run strictly after `moment` (aware), as an aware time in `zone`;
        None when the expression never matches a real date."""
        after_utc = moment.astimezone(UTC)
        start = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        day, last_day = start.date(), start.date() + timedelta(days=_SEARCH_DAYS)
        while day <= last_day:
            if self.years is not None and day.year > max(self.years):
                return None
            if day.month not in self.months or (self.years is not None and day.year not in self.years):
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                continue
            if self.matches_day(day):
                for hour in hours:
                    if day == start.date() and hour < start.hour:
                        continue
                    for minute in minutes:
                        if day == start.date() and hour == start.hour and minute < start.minute:
                            continue
                        wall = datetime.combine(day, time(hour, minute))
                        candidate = wall.replace(tzinfo=zone)
                        instant = candidate.astimezone(UTC)
                        if instant.astimezone(zone).replace(tzinfo=None) != wall:
                            continue  # skipped when clocks went forward
                        if instant <= after_utc:
                            continue  # the repeated hour when clocks went back: first pass only
                        return candidate
            day += timedelta(days=1)
        return None

    def to_aws(self) -> str:
        """`cron(minutes hours day-of-month month day-of-week year)` for EventBridge Scheduler."""
        day_of_month, day_of_week = self._aws_days()
        fields = [
            _aws_field(self.minutes, 0, 59),
            _aws_field(self.hours, 0, 23),
            day_of_month,
            _aws_field(self.months, 1, 12),
            day_of_week,
            "*" if self.years is None else _aws_field(self.years, 1970, 2199),
        ]
        expression = f"cron({' '.join(fields)})"
        if len(expression) > AWS_EXPRESSION_LIMIT:
            raise CronError(
                f"the expression is too long for EventBridge Scheduler "
                f"({len(expression)} characters as {expression}; the limit is {AWS_EXPRESSION_LIMIT})."
            )
        return expression

    def _aws_days(self) -> tuple[str, str]:
        # EventBridge needs '?' in one of the two day fields.
        every_day_of_month, every_weekday = self.days == _ALL_DAYS, self.weekdays == _ALL_WEEKDAYS
        if self.any_day_of_month or self.any_day_of_week:  # a day must match both fields
            if every_weekday:
                return _aws_field(self.days, 1, 31), "?"
            if every_day_of_month:
                return "?", _aws_field({d + 1 for d in self.weekdays}, 1, 7, steps=False)
        elif every_day_of_month or every_weekday:  # either field matches every day
            return "*", "?"
        raise CronError(
            "day-of-month and day-of-week are both restricted; EventBridge Scheduler can "
            "restrict only one of them: use '*' in the other."
        )


def parse(expression: str) -> Cron:
    """A five-field cron expression (or an @ macro)."""
    text = " ".join(str(expression).split())
    text = MACROS.get(text.lower(), text)
    fields = text.split(" ")
    if len(fields) != 5 or not text:
        raise CronError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields) if text else 0}."
        )
    minute, hour, day_of_month, month, day_of_week = fields
    weekdays = _values(day_of_week, "day-of-week", 0, 7, WEEKDAYS)
    return Cron(
        minutes=_values(minute, "minute", 0, 59),
        hours=_values(hour, "hour", 0, 23),
        days=_values(day_of_month, "day-of-month", 1, 31),
        months=_values(month, "month", 1, 12, MONTHS),
        weekdays=frozenset(d % 7 for d in weekdays),
        any_day_of_month=day_of_month.startswith("*"),
        any_day_of_week=day_of_week.startswith("*"),
    )


def parse_aws(expression: str) -> Cron:
    """EventBridge's `cron(m h dom mon dow year)` (day-of-week 1-7 = SUN-SAT; no L, W or #)."""
    text = expression.strip()
    if not (text.startswith("cron(") and text.endswith(")")):
        raise CronError(f"not a cron(...) expression: {expression!r}.")
    fields = text[5:-1].split()
    if len(fields) != 6:
        raise CronError(f"expected 6 fields in {expression!r}.")
    minute, hour, day_of_month, month, day_of_week, year = fields
    if any(mark in field for field in (day_of_month, day_of_week) for mark in "LW#"):
        raise CronError(f"L, W and # are not supported: {expression!r}.")
    aws_weekdays = {name: number + 1 for name, number in WEEKDAYS.items()}
    return Cron(
        minutes=_values(minute, "minute", 0, 59),
        hours=_values(hour, "hour", 0, 23),
        days=_ALL_DAYS if day_of_month == "?" else _values(day_of_month, "day-of-month", 1, 31),
        months=_values(month, "month", 1, 12, MONTHS),
        weekdays=_ALL_WEEKDAYS
        if day_of_week == "?"
        else frozenset(d - 1 for d in _values(day_of_week, "day-of-week", 1, 7, aws_weekdays)),
        any_day_of_month=day_of_month in ("?", "*"),
        any_day_of_week=day_of_week in ("?", "*"),
        years=None if year == "*" else _values(year, "year", 1970, 2199),
    )


def _values(text: str, field: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = _number(step_text, field, None) if slash else 1
        if step < 1:
            raise CronError(f"{field} step must be at least 1 in {part!r}.")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, field, names), _number(last, field, names)
            if start > end:
                raise CronError(f"{field} range {base!r} runs backwards.")
        else:
            start = _number(base, field, names)
            end = high if slash else start
        for value in (start, end):
            if not low <= value <= high:
                raise CronError(f"{field} value {value} is out of range {low}-{high}.")
        found.update(range(start, end + 1, step))
    return frozenset(found)


def _number(token: str, field: str, names: dict[str, int] | None) -> int:
    if token.isdigit():
        return int(token)
    if names and token.upper() in names:
        return names[token.upper()]
    raise CronError(f"{field} has an invalid value {token!r}." if token else f"{field} has an empty value.")


def _aws_field(values: set[int] | frozenset[int], low: int, high: int, steps: bool = True) -> str:
    """The shortest plain form: '*', 'start/step', or ranges and values ('1-5,10')."""
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    if steps and len(ordered) > 2:
        gap = ordered[1] - ordered[0]
        if gap > 1 and ordered[-1] + gap > high and all(b - a == gap for a, b in zip(ordered, ordered[1:])):
            return f"{ordered[0]}/{gap}"
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    parts = [f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)) for run in runs]
    return ",".join(parts)
