"""Checks of schedule settings that the config schema runs: cron expressions, time zones,
dated-output patterns. Each returns why a value is unusable, or None."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

_PATTERN_FIELDS = {"brief", "date", "time"}


def cron_problem(expr: str) -> str | None:
    """Return why ``expr`` is not a valid five-field cron expression, or None."""
    fields = expr.split()
    if len(fields) != 5:
        return (
            f"cron expression {expr!r} has {len(fields)} field(s); use five: "
            'minute hour day-of-month month day-of-week, e.g. "0 7 * * 1-5"'
        )
    try:
        next(CronSim(expr, datetime(2000, 1, 1, tzinfo=UTC)))
    except CronSimError as exc:
        return f"invalid cron expression {expr!r}: {exc}"
    except StopIteration:
        return f"cron expression {expr!r} never matches a date"
    return None


def timezone_problem(name: str) -> str | None:
    """Return why ``name`` is not an IANA time zone, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}; use an IANA name such as 'Asia/Tokyo' or 'UTC'"
    return None


def output_pattern_problem(pattern: str) -> str | None:
    """Return why ``pattern`` is not a usable dated-output pattern, or None."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        return f"output pattern {pattern!r}: {exc}"
    unknown = names - _PATTERN_FIELDS
    if unknown:
        return f"output pattern {pattern!r}: unknown field {{{min(unknown)}}}; use {{brief}}, {{date}}, {{time}}"
    parts = pattern.replace("\\", "/").split("/")
    if pattern.startswith("/") or ".." in parts:
        return f"output pattern {pattern!r} must stay inside the output folder"
    last = parts[-1]
    if "{date}" not in last or "{brief}" in last:
        return (
            f"output pattern {pattern!r}: the last folder must contain {{date}} (and not "
            '{brief}), e.g. "{brief}/{date}", so runs get dated folders beside a `latest` link'
        )
    if last.index("{date}") > last.find("{time}") >= 0:
        return f"output pattern {pattern!r}: put {{date}} before {{time}} so folders sort by age"
    return None
