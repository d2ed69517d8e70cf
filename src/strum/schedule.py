"""EventBridge schedule expressions: parse ``rate(...)`` and ``cron(...)``, compute fire times.

Pure functions over strings and datetimes, in UTC, following EventBridge's documented rules:

- ``rate(value unit)``: a positive whole number and ``minute``/``hour``/``day``, singular for
  1 and plural otherwise (``rate(1 hour)``, ``rate(5 hours)``; ``rate(1 hours)`` is invalid).
- ``cron(minutes hours day-of-month month day-of-week year)``: six fields. Minutes 0-59,
  hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT
  (1 = Sunday, AWS's numbering, not Unix cron's), year 1970-2199. Every field takes
  ``,`` ``-`` ``*``; ``/`` steps in every field except day-of-week; exactly one of the two
  day fields is ``?``. Day-of-month takes ``L`` (the last day) and ``nW`` (the weekday
  nearest day n, never leaving the month); day-of-week takes ``L`` (Saturday, the last
  day of the week), ``nL`` (the last such weekday of the month) and ``n#k`` (the k-th such
  weekday of the month). These special forms stand alone in their field, as on AWS.

Where AWS leaves a corner open the behaviour of Quartz, which EventBridge's syntax comes
from, is followed: a day that a month does not have (``31``, ``31W`` in April, ``5#5`` in
most months) is skipped for that month, never moved into the next one.

A rate has no wall-clock phase of its own on AWS (it counts from when the rule was
created), so ``next_fire_times`` counts from ``start`` when given and from the Unix epoch
otherwise - which puts ``rate(5 minutes)`` on :00, :05, ... and ``rate(1 day)`` at midnight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

__all__ = ["Cron", "Rate", "next_fire_times", "parse_expression"]

FIRST_YEAR, LAST_YEAR = 1970, 2199
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FORMS = "rate(5 minutes) or cron(0 12 * * ? *)"
_Fields = tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int]]


@dataclass(frozen=True)
class Rate:
    """A parsed ``rate(value unit)``: fires every ``value`` units (unit is singular)."""

    value: int
    unit: str  # "minute" | "hour" | "day"

    @property
    def interval(self) -> timedelta:
        """The time between two fires."""
        return timedelta(seconds=self.value * _UNITS[self.unit])


@dataclass(frozen=True)
class Cron:
    """A parsed six-field ``cron(...)``, every field resolved to what it allows.

    ``days_of_month`` / ``days_of_week`` hold plain values; ``day_rule`` holds the special
    forms (``("L", 0, 0)``, ``("W", n, 0)``, ``("nL", weekday, 0)``, ``("#", weekday, k)``) and is
    ``None`` when the field is plain. Exactly one of the two day fields was ``?``; the
    other one is ``day_field`` (``"dom"`` or ``"dow"``).
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int] = field(repr=False)
    day_field: str
    days_of_month: frozenset[int] = frozenset()
    days_of_week: frozenset[int] = frozenset()  # AWS numbering, 1 = Sunday
    day_rule: tuple[str, int, int] | None = None

    def days(self, year: int, month: int) -> list[int]:
        """The days of ``month`` in ``year`` on which this expression fires, ascending."""
        last = _month_length(year, month)
        rule = self.day_rule
        if self.day_field == "dom":
            if rule is None:
                return sorted(day for day in self.days_of_month if day <= last)
            if rule[0] == "L":
                return [last]
            return [] if rule[1] > last else [_nearest_weekday(year, month, rule[1], last)]
        if rule is None:
            first = _aws_weekday(date(year, month, 1))
            return [
                day for day in range(1, last + 1) if (first + day - 2) % 7 + 1 in self.days_of_week
            ]
        weekday = rule[1]
        first_match = 1 + (weekday - _aws_weekday(date(year, month, 1))) % 7
        if rule[0] == "nL":
            return [first_match + 7 * ((last - first_match) // 7)]
        day = first_match + 7 * (rule[2] - 1)
        return [day] if day <= last else []


def parse_expression(expression: str) -> Rate | Cron:
    """Parse an EventBridge schedule expression, or raise ``ValueError`` saying what is wrong.

    A cron expression that can never fire (``cron(0 0 30 2 ? *)``) is rejected too.
    """
    if not isinstance(expression, str):
        raise ValueError(f"a schedule expression is a string like {_FORMS}")
    text = expression.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return _parse_rate(text[5:-1])
    if text.startswith("cron(") and text.endswith(")"):
        cron = _parse_cron(text[5:-1])
        if not _fire_times(cron, _EPOCH - timedelta(minutes=1), 1):
            raise ValueError(
                f"{text} never fires: no date matches its day, month and year fields together"
            )
        return cron
    if text.startswith("at("):
        raise ValueError(
            "one-time at(...) schedules are not supported; use a cron(...) with a year, "
            "e.g. cron(30 9 1 6 ? 2030)"
        )
    raise ValueError(f"{text!r} is not a schedule expression; write {_FORMS}")


def next_fire_times(
    expression: str | Rate | Cron,
    after: datetime,
    count: int,
    *,
    start: datetime | None = None,
) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after``, as UTC datetimes.

    ``after`` (and ``start``) must be timezone-aware. Fewer than ``count`` times come back
    only when a cron's year field runs out. ``start`` anchors a rate (see the module
    docstring); cron expressions ignore it.
    """
    parsed = parse_expression(expression) if isinstance(expression, str) else expression
    if after.tzinfo is None or (start is not None and start.tzinfo is None):
        raise ValueError("next_fire_times needs timezone-aware datetimes (use timezone.utc)")
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    after = after.astimezone(timezone.utc)
    if isinstance(parsed, Rate):
        anchor = (start or _EPOCH).astimezone(timezone.utc)
        interval = parsed.interval
        steps = 0 if after < anchor else (after - anchor) // interval + 1
        return [anchor + interval * (steps + index) for index in range(count)]
    return _fire_times(parsed, after, count)


def _parse_rate(body: str) -> Rate:
    parts = body.split()
    if len(parts) != 2:
        raise ValueError(f"rate({body}) needs a number and a unit, e.g. rate(5 minutes)")
    number, unit = parts
    if not number.isdigit() or int(number) == 0:
        raise ValueError(f"rate({body}): {number!r} is not a positive whole number")
    value = int(number)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _UNITS:
        raise ValueError(f"rate({body}): unknown unit {unit!r}; use minutes, hours or days")
    if value == 1 and unit != singular:
        raise ValueError(f"rate({body}): a value of 1 takes a singular unit: rate(1 {singular})")
    if value > 1 and unit == singular:
        raise ValueError(
            f"rate({body}): a value above 1 takes a plural unit: rate({value} {singular}s)"
        )
    return Rate(value, singular)


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ValueError(
            f"cron({body}) has {len(fields)} fields; EventBridge needs 6: minutes hours "
            "day-of-month month day-of-week year, e.g. cron(0 12 * * ? *)"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(
            f"cron({body}): exactly one of day-of-month ({dom}) and day-of-week ({dow}) must "
            "be ?, e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)"
        )
    try:
        common = (
            _values(minute, "minutes", 0, 59),
            _values(hour, "hours", 0, 23),
            _values(month, "month", 1, 12, _MONTHS),
            _values(year, "year", FIRST_YEAR, LAST_YEAR),
        )
        if dow == "?":
            return _day_of_month(dom, common)
        return _day_of_week(dow, common)
    except ValueError as exc:
        raise ValueError(f"cron({body}): {exc}") from None


def _day_of_month(spec: str, common: _Fields) -> Cron:
    if spec == "L":
        return Cron(*common, day_field="dom", day_rule=("L", 0, 0))
    if spec.endswith("W"):
        day = spec[:-1]
        if not day.isdigit() or not 1 <= int(day) <= 31:
            raise ValueError(
                f"day-of-month {spec!r}: W follows a single day from 1 to 31, as in 15W "
                "(the weekday nearest the 15th)"
            )
        return Cron(*common, day_field="dom", day_rule=("W", int(day), 0))
    _reject_special(spec, "day-of-month", "LW#", "L or nW")
    return Cron(*common, day_field="dom", days_of_month=_values(spec, "day-of-month", 1, 31))


def _day_of_week(spec: str, common: _Fields) -> Cron:
    if spec == "L":
        return Cron(*common, day_field="dow", days_of_week=frozenset({7}))
    if "#" in spec:
        weekday, _, nth = spec.partition("#")
        if "," in spec or "-" in spec:
            raise ValueError(
                f"day-of-week {spec!r}: # takes one weekday and stands alone (3#1,6#3 is "
                "two expressions; EventBridge allows one)"
            )
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ValueError(
                f"day-of-week {spec!r}: the number after # is which occurrence in the month, "
                "1 to 5 (3#2 is the second Tuesday)"
            )
        return Cron(*common, day_field="dow", day_rule=("#", _weekday(weekday), int(nth)))
    if spec.endswith("L"):
        if "," in spec or "-" in spec:
            raise ValueError(f"day-of-week {spec!r}: nL takes one weekday and stands alone")
        return Cron(*common, day_field="dow", day_rule=("nL", _weekday(spec[:-1]), 0))
    if "/" in spec:
        raise ValueError(
            f"day-of-week {spec!r}: EventBridge does not allow / in day-of-week; list the "
            "days instead, e.g. MON,WED,FRI"
        )
    _reject_special(spec, "day-of-week", "L", "L, nL or n#k")
    return Cron(*common, day_field="dow", days_of_week=_values(spec, "day-of-week", 1, 7, _DAYS))


def _reject_special(spec: str, name: str, letters: str, allowed: str) -> None:
    for letter in letters:
        if letter in spec:
            raise ValueError(
                f"{name} {spec!r}: {letter!r} cannot be combined with other values here; "
                f"{name} allows {allowed} on its own"
            )


def _weekday(text: str) -> int:
    return _number(text, "day-of-week", 1, 7, _DAYS)


def _values(
    spec: str, name: str, low: int, high: int, names: tuple[str, ...] = ()
) -> frozenset[int]:
    if spec == "?":
        raise ValueError(f"{name}: ? is only allowed in day-of-month and day-of-week")
    values: set[int] = set()
    for item in spec.split(","):
        if not item:
            raise ValueError(f"{name} {spec!r}: empty item in a list")
        base, slash, step_text = item.partition("/")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            first = _number(start_text, name, low, high, names)
            last = _number(end_text, name, low, high, names)
            if first > last:
                top = names[-1] if names else str(high)
                bottom = names[0] if names else str(low)
                raise ValueError(
                    f"{name} {item!r}: the range runs backwards; split it in two, e.g. "
                    f"{start_text}-{top},{bottom}-{end_text}"
                )
        else:
            first = _number(base, name, low, high, names)
            last = high if slash else first
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(
                    f"{name} {item!r}: the step after / must be a positive whole number"
                )
            step = int(step_text)
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    upper = text.upper()
    if names and upper in names:
        return names.index(upper) + low
    if not text.isdigit():
        spelled = f" or {names[0]}-{names[-1]}" if names else ""
        raise ValueError(f"{name}: {text!r} is not a value; use {low}-{high}{spelled}")
    value = int(text)
    if not low <= value <= high:
        hint = " (1 = SUN ... 7 = SAT)" if name == "day-of-week" else ""
        raise ValueError(f"{name}: {value} is out of range {low}-{high}{hint}")
    return value


def _fire_times(cron: Cron, after: datetime, count: int) -> list[datetime]:
    # Walk the fields from the year down, taking the lower bound from ``begin`` only while
    # every larger field still equals begin's; beyond that, each field starts at its first
    # allowed value. Years are bounded (1970-2199), so an exhausted search ends.
    begin = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    found: list[datetime] = []
    if count == 0:
        return found
    minutes, hours = sorted(cron.minutes), sorted(cron.hours)
    for year in sorted(y for y in cron.years if y >= begin.year):
        on_year = year == begin.year
        for month in sorted(cron.months):
            if on_year and month < begin.month:
                continue
            on_month = on_year and month == begin.month
            for day in cron.days(year, month):
                if on_month and day < begin.day:
                    continue
                on_day = on_month and day == begin.day
                for hour in hours:
                    if on_day and hour < begin.hour:
                        continue
                    on_hour = on_day and hour == begin.hour
                    for minute in minutes:
                        if on_hour and minute < begin.minute:
                            continue
                        found.append(datetime(year, month, day, hour, minute, tzinfo=timezone.utc))
                        if len(found) == count:
                            return found
    return found


def _month_length(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _aws_weekday(day: date) -> int:
    # Python: Monday = 0 ... Sunday = 6; AWS: Sunday = 1 ... Saturday = 7.
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, last: int) -> int:
    weekday = _aws_weekday(date(year, month, day))
    if weekday == 7:  # Saturday: Friday before, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday: Monday after, unless that leaves the month
        return day + 1 if day < last else day - 2
    return day
