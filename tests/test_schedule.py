"""EventBridge schedule expressions against a table of known answers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from strum.schedule import Cron, Rate, next_fire_times, parse_expression

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, after: str, count: int, **kwargs) -> list[str]:
    times = next_fire_times(expression, at(after), count, **kwargs)
    return [t.strftime("%Y-%m-%d %H:%M") for t in times]


# (expression, after, expected fire times). Calendar anchors: 2024-01-01 is a Monday,
# 2024 is a leap year, 2100 is not, 2024-06-01 is a Saturday, 2024-09-01 a Sunday.
KNOWN = [
    # strictly after: a fire time equal to `after` is not repeated
    ("cron(0 12 * * ? *)", "2024-01-01 12:00", ["2024-01-02 12:00", "2024-01-03 12:00"]),
    ("cron(0 12 * * ? *)", "2024-01-01 11:59:30", ["2024-01-01 12:00"]),
    ("cron(0 12 * * ? *)", "2024-01-01 12:00:30", ["2024-01-02 12:00"]),
    # weekdays, AWS numbering and names
    ("cron(15 10 ? * MON-FRI *)", "2024-01-05 10:15", ["2024-01-08 10:15", "2024-01-09 10:15"]),
    ("cron(0 0 ? * 1 *)", "2024-01-01 00:00", ["2024-01-07 00:00", "2024-01-14 00:00"]),
    ("cron(0 0 ? * sat,SUN *)", "2024-01-01 00:00", ["2024-01-06 00:00", "2024-01-07 00:00"]),
    # month ends and leap years
    ("cron(0 0 L * ? *)", "2024-01-31 00:00", ["2024-02-29 00:00", "2024-03-31 00:00"]),
    (
        "cron(0 0 L 2 ? *)",
        "2023-01-01 00:00",
        ["2023-02-28 00:00", "2024-02-29 00:00", "2025-02-28 00:00"],
    ),
    ("cron(0 0 29 2 ? *)", "2097-01-01 00:00", ["2104-02-29 00:00"]),
    ("cron(0 0 29 2 ? *)", "1999-03-01 00:00", ["2000-02-29 00:00"]),
    (
        "cron(0 0 31 * ? *)",
        "2024-01-31 00:00",
        ["2024-03-31 00:00", "2024-05-31 00:00", "2024-07-31 00:00", "2024-08-31 00:00"],
    ),
    ("cron(59 23 31 12 ? *)", "2024-12-31 23:59", ["2025-12-31 23:59"]),
    # W: the nearest weekday, never leaving the month
    (
        "cron(0 9 1W * ? *)",
        "2024-05-15 00:00",
        ["2024-06-03 09:00", "2024-07-01 09:00", "2024-08-01 09:00", "2024-09-02 09:00"],
    ),
    (
        "cron(0 9 15W * ? *)",
        "2024-06-01 00:00",
        ["2024-06-14 09:00", "2024-07-15 09:00", "2024-08-15 09:00", "2024-09-16 09:00"],
    ),
    (
        "cron(0 9 31W * ? *)",
        "2024-03-01 00:00",
        ["2024-03-29 09:00", "2024-05-31 09:00", "2024-07-31 09:00", "2024-08-30 09:00"],
    ),
    # #: the n-th weekday of the month; a 5th that does not exist is skipped
    (
        "cron(0 10 ? * 3#2 *)",
        "2024-01-01 00:00",
        ["2024-01-09 10:00", "2024-02-13 10:00", "2024-03-12 10:00"],
    ),
    (
        "cron(0 10 ? * FRI#5 *)",
        "2024-01-01 00:00",
        ["2024-03-29 10:00", "2024-05-31 10:00", "2024-08-30 10:00"],
    ),
    # L in day-of-week: alone it is Saturday; after a day, the last such day of the month
    ("cron(0 0 ? * L *)", "2024-01-01 00:00", ["2024-01-06 00:00", "2024-01-13 00:00"]),
    (
        "cron(0 18 ? * 6L *)",
        "2024-01-01 00:00",
        ["2024-01-26 18:00", "2024-02-23 18:00", "2024-03-29 18:00"],
    ),
    # steps and ranges
    (
        "cron(0/20 8-9 * * ? *)",
        "2024-01-01 00:00",
        ["2024-01-01 08:00", "2024-01-01 08:20", "2024-01-01 08:40", "2024-01-01 09:00"],
    ),
    ("cron(1/10 0 1 1 ? 2024)", "2024-01-01 00:00", ["2024-01-01 00:01", "2024-01-01 00:11"]),
    (
        "cron(0 0 1 JAN/3 ? *)",
        "2024-01-01 00:00",
        ["2024-04-01 00:00", "2024-07-01 00:00", "2024-10-01 00:00", "2025-01-01 00:00"],
    ),
    ("cron(0 0 1,15 * ? *)", "2024-01-01 00:00", ["2024-01-15 00:00", "2024-02-01 00:00"]),
    # the year field, including running out
    ("cron(0 0 1 1 ? 2025-2026)", "2024-06-01 00:00", ["2025-01-01 00:00", "2026-01-01 00:00"]),
    ("cron(30 9 1 6 ? 2030)", "2024-01-01 00:00", ["2030-06-01 09:30"]),
    ("cron(0 0 1 1 ? */100)", "2024-01-01 00:00", ["2070-01-01 00:00", "2170-01-01 00:00"]),
    ("cron(0 0 1 1 ? 2030)", "2030-01-01 00:00", []),
    # rates count from the epoch unless started elsewhere
    ("rate(5 minutes)", "2024-01-01 00:02:10", ["2024-01-01 00:05", "2024-01-01 00:10"]),
    ("rate(1 minute)", "2024-01-01 00:00", ["2024-01-01 00:01", "2024-01-01 00:02"]),
    ("rate(1 hour)", "2024-01-01 10:30", ["2024-01-01 11:00", "2024-01-01 12:00"]),
    ("rate(1 day)", "2024-02-28 12:00", ["2024-02-29 00:00", "2024-03-01 00:00"]),
    # 1970-01-01 was a Thursday, and so is 2024-01-04
    ("rate(7 days)", "2024-01-01 00:00", ["2024-01-04 00:00", "2024-01-11 00:00"]),
]


@pytest.mark.parametrize(("expression", "after", "expected"), KNOWN)
def test_known_fire_times(expression, after, expected):
    assert fires(expression, after, max(len(expected), 1)) == expected


def test_a_cron_whose_years_run_out_returns_fewer_times():
    assert fires("cron(0 0 1 1 ? 2025-2026)", "2024-06-01 00:00", 5) == [
        "2025-01-01 00:00",
        "2026-01-01 00:00",
    ]


def test_rate_from_a_start_time():
    start = at("2024-01-01 00:01")
    assert fires("rate(5 minutes)", "2024-01-01 00:03", 2, start=start) == [
        "2024-01-01 00:06",
        "2024-01-01 00:11",
    ]
    # before the start, the start itself is the first fire time
    assert fires("rate(5 minutes)", "2023-12-31 00:00", 1, start=start) == ["2024-01-01 00:01"]


def test_times_are_utc_whatever_the_input_zone():
    plus_two = timezone(timedelta(hours=2))
    after = datetime(2024, 1, 1, 13, 30, tzinfo=plus_two)  # 11:30 UTC
    (fire,) = next_fire_times("cron(0 12 * * ? *)", after, 1)
    assert fire == at("2024-01-01 12:00")
    assert fire.tzinfo is UTC


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_times("rate(1 day)", datetime(2024, 1, 1), 1)


def test_count_zero_and_parsed_expressions():
    assert next_fire_times("cron(0 12 * * ? *)", at("2024-01-01 00:00"), 0) == []
    parsed = parse_expression("rate(2 hours)")
    assert parsed == Rate(2, "hour")
    assert next_fire_times(parsed, at("2024-01-01 00:30"), 1) == [at("2024-01-01 02:00")]


def test_parsed_cron_shape():
    cron = parse_expression("cron(0 18 ? * MON-FRI *)")
    assert isinstance(cron, Cron)
    assert cron.day_field == "dow"
    assert cron.days_of_week == frozenset({2, 3, 4, 5, 6})
    assert cron.minutes == frozenset({0})
    assert cron.hours == frozenset({18})


INVALID = [
    ("rate(1 minutes)", "rate(1 minutes): a value of 1 takes a singular unit: rate(1 minute)"),
    ("rate(5 hour)", "rate(5 hour): a value above 1 takes a plural unit: rate(5 hours)"),
    ("rate(0 minutes)", "rate(0 minutes): '0' is not a positive whole number"),
    ("rate(5 weeks)", "rate(5 weeks): unknown unit 'weeks'; use minutes, hours or days"),
    ("rate(five minutes)", "rate(five minutes): 'five' is not a positive whole number"),
    ("rate(5)", "rate(5) needs a number and a unit, e.g. rate(5 minutes)"),
    (
        "cron(0 12 * * *)",
        "cron(0 12 * * *) has 5 fields; EventBridge needs 6: minutes hours day-of-month month "
        "day-of-week year, e.g. cron(0 12 * * ? *)",
    ),
    (
        "cron(0 12 * * * *)",
        "cron(0 12 * * * *): exactly one of day-of-month (*) and day-of-week (*) must be ?, "
        "e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)",
    ),
    (
        "cron(0 12 ? * ? *)",
        "cron(0 12 ? * ? *): exactly one of day-of-month (?) and day-of-week (?) must be ?, "
        "e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)",
    ),
    ("cron(60 0 * * ? *)", "cron(60 0 * * ? *): minutes: 60 is out of range 0-59"),
    ("cron(0 24 * * ? *)", "cron(0 24 * * ? *): hours: 24 is out of range 0-23"),
    (
        "cron(0 0 ? * 0 *)",
        "cron(0 0 ? * 0 *): day-of-week: 0 is out of range 1-7 (1 = SUN ... 7 = SAT)",
    ),
    (
        "cron(0 0 1 FOO ? *)",
        "cron(0 0 1 FOO ? *): month: 'FOO' is not a value; use 1-12 or JAN-DEC",
    ),
    ("cron(0 0 1 1 ? 1969)", "cron(0 0 1 1 ? 1969): year: 1969 is out of range 1970-2199"),
    (
        "cron(0 0 ? * 3#1,6#3 *)",
        "cron(0 0 ? * 3#1,6#3 *): day-of-week '3#1,6#3': # takes one weekday and stands alone "
        "(3#1,6#3 is two expressions; EventBridge allows one)",
    ),
    (
        "cron(0 0 ? * 3#6 *)",
        "cron(0 0 ? * 3#6 *): day-of-week '3#6': the number after # is which occurrence in the "
        "month, 1 to 5 (3#2 is the second Tuesday)",
    ),
    (
        "cron(0 0 ? * */2 *)",
        "cron(0 0 ? * */2 *): day-of-week '*/2': EventBridge does not allow / in day-of-week; "
        "list the days instead, e.g. MON,WED,FRI",
    ),
    (
        "cron(0 0 1,L * ? *)",
        "cron(0 0 1,L * ? *): day-of-month '1,L': 'L' cannot be combined with other values "
        "here; day-of-month allows L or nW on its own",
    ),
    (
        "cron(0 0 32W * ? *)",
        "cron(0 0 32W * ? *): day-of-month '32W': W follows a single day from 1 to 31, as in "
        "15W (the weekday nearest the 15th)",
    ),
    (
        "cron(0 0 20-10 * ? *)",
        "cron(0 0 20-10 * ? *): day-of-month '20-10': the range runs backwards; split it in "
        "two, e.g. 20-31,1-10",
    ),
    (
        "cron(0 0 ? * FRI-MON *)",
        "cron(0 0 ? * FRI-MON *): day-of-week 'FRI-MON': the range runs backwards; split it in "
        "two, e.g. FRI-SAT,SUN-MON",
    ),
    (
        "cron(*/0 0 * * ? *)",
        "cron(*/0 0 * * ? *): minutes '*/0': the step after / must be a positive whole number",
    ),
    (
        "cron(? 0 * * ? *)",
        "cron(? 0 * * ? *): minutes: ? is only allowed in day-of-month and day-of-week",
    ),
    (
        "cron(0 0 30 2 ? *)",
        "cron(0 0 30 2 ? *) never fires: no date matches its day, month and year fields together",
    ),
    (
        "at(2030-01-01T00:00:00)",
        "one-time at(...) schedules are not supported; use a cron(...) with a year, e.g. "
        "cron(30 9 1 6 ? 2030)",
    ),
    (
        "every 5 minutes",
        "'every 5 minutes' is not a schedule expression; write rate(5 minutes) or "
        "cron(0 12 * * ? *)",
    ),
]


@pytest.mark.parametrize(("expression", "message"), INVALID)
def test_invalid_expressions_say_what_is_wrong(expression, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        parse_expression(expression)
    assert str(info.value) == message


def test_public_names_are_pinned_and_documented():
    import strum.schedule

    assert strum.schedule.__all__ == ["Cron", "Rate", "next_fire_times", "parse_expression"]
    for name in strum.schedule.__all__:
        assert getattr(strum.schedule, name).__doc__, name
