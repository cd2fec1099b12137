"""Checks of brief settings beyond what one field's type says: cron expressions, time zones,
dated-output patterns (run by the schema; each returns why a value is unusable, or None), and
the email attachments a brief can give (run by the loader, which knows where each key is)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from briefgen.config.folders import fields_problem, leaves_folder
from briefgen.config.yamlread import Problem, YamlDoc
from briefgen.deliver import EmailSettings
from briefgen.outputs import DEFAULT_FORMATS, OUTPUTS

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
    """Return why ``pattern`` is not a usable dated-output pattern (``schedule.output``), or None."""
    problem = fields_problem(pattern, _PATTERN_FIELDS, f"output pattern {pattern!r}")
    if problem:
        return problem
    if leaves_folder(pattern):
        return f"output pattern {pattern!r} must stay inside the output folder"
    last = pattern.replace("\\", "/").split("/")[-1]
    if "{date}" not in last or "{brief}" in last:
        return (
            f"output pattern {pattern!r}: the last folder must contain {{date}} (and not "
            '{brief}), e.g. "{brief}/{date}", so runs get dated folders beside a `latest` link'
        )
    if last.index("{date}") > last.find("{time}") >= 0:
        return f"output pattern {pattern!r}: put {{date}} before {{time}} so folders sort by age"
    return None


def attach_problems(doc: YamlDoc, name: str, brief: dict[str, Any]) -> list[Problem]:
    """Report each email attachment of brief ``name`` that the brief does not write.

    ``brief`` is the brief's raw mapping; anything malformed, or a format that does not exist,
    is left to the schema to report.
    """
    formats = brief.get("formats", list(DEFAULT_FORMATS))
    deliver = brief.get("deliver")
    email = deliver.get("email") if isinstance(deliver, dict) else None
    if not isinstance(formats, list) or not isinstance(email, dict):
        return []
    written = [f for f in formats if isinstance(f, str)]
    shown = ", ".join(written)
    at = ("briefs", name, "deliver", "email")
    if "attach" not in email:
        default = EmailSettings.model_fields["attach"].get_default(call_default_factory=True)
        missing = [f for f in default if f not in written]
        if not missing:
            return []
        message = (
            f"attaches {', '.join(missing)} by default, which this brief does not write "
            f"(formats: {shown}); add {missing[0]} to its formats, or set attach: to some of "
            "them (or [])"
        )
        return [doc.problem(at, message, key=True)]
    attach = email.get("attach")
    if not isinstance(attach, list):
        return []
    return [
        doc.problem(
            (*at, "attach", i),
            f"this brief does not write {fmt} (formats: {shown}); add it to the brief's "
            "formats or attach one of those",
        )
        for i, fmt in enumerate(attach)
        if isinstance(fmt, str) and fmt in OUTPUTS and fmt not in written
    ]
