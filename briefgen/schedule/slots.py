"""Cron slots in a brief's time zone: validation, the latest slot, the next ones, dated folders.

A *slot* is one instant a cron expression names. Slots are computed with cronsim in the
brief's own zone (so "07:00 Asia/Tokyo" stays 07:00 across DST changes, and a 02:30 that a
spring-forward skips runs once at 03:00) and stored in UTC as ``YYYY-MM-DDTHH:MM:SSZ``
strings, which sort chronologically.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cronsim import CronSim

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

SLOT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DATE_RE = r"\d{4}-\d{2}-\d{2}"
_TIME_RE = r"\d{4}"


def format_slot(instant: datetime) -> str:
    """Return the stored form of a slot: UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    return instant.astimezone(UTC).strftime(SLOT_FORMAT)


def parse_slot(slot: str) -> datetime:
    """Return the aware UTC datetime of a stored slot string."""
    return datetime.strptime(slot, SLOT_FORMAT).replace(tzinfo=UTC)


def latest_slot(cron: str, zone: str, now: datetime) -> datetime | None:
    """Return the latest slot at or before ``now``, in the brief's zone (None if there is none)."""
    tz = ZoneInfo(zone)
    # cronsim's reverse iteration starts one second back; begin a second later so a slot
    # exactly at `now` counts as due.
    start = (now.replace(microsecond=0) + timedelta(seconds=1)).astimezone(tz)
    try:
        return next(CronSim(cron, start, reverse=True))
    except StopIteration:
        return None


def slots_after(cron: str, zone: str, after: datetime) -> Iterator[datetime]:
    """Yield the slots strictly after ``after``, in the brief's zone, oldest first."""
    iterator = CronSim(cron, after.replace(microsecond=0).astimezone(ZoneInfo(zone)))
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return


def slots_between(
    cron: str, zone: str, after: datetime, before: datetime, *, cap: int
) -> tuple[list[datetime], bool]:
    """Return the newest ``cap`` slots strictly between two instants (oldest first) and
    whether there were more.

    Walks backwards from ``before`` so that a machine that was off for a year with an
    every-minute schedule costs ``cap`` steps, not half a million.
    """
    iterator = CronSim(cron, before.astimezone(ZoneInfo(zone)), reverse=True)
    found: list[datetime] = []
    while True:
        try:
            slot = next(iterator)
        except StopIteration:
            return found[::-1], False
        if slot <= after:
            return found[::-1], False
        if len(found) == cap:
            return found[::-1], True
        found.append(slot)


def dated_folder(pattern: str, brief: str, slot_local: datetime) -> str:
    """Fill in an output pattern for one slot (the slot's date and time in the brief's zone)."""
    return pattern.format(
        brief=brief, date=slot_local.strftime("%Y-%m-%d"), time=slot_local.strftime("%H%M")
    )


def dated_path(cfg: LoadedConfig, brief: str, slot_local: datetime) -> str:
    """Return the folder a scheduled run of ``slot_local`` writes, relative to the project root."""
    sched = cfg.config.briefs[brief].schedule
    assert sched is not None, f"{brief} has no schedule"
    folder = cfg.resolve(cfg.config.output.dir) / dated_folder(sched.output, brief, slot_local)
    return cfg.relative(folder)


def dated_name_regex(pattern: str) -> re.Pattern[str]:
    """Return a regex matching the names of the dated folders a pattern makes (its last part)."""
    last = pattern.replace("\\", "/").split("/")[-1]
    out = []
    for literal, field, _, _ in string.Formatter().parse(last):
        out.append(re.escape(literal))
        if field == "date":
            out.append(_DATE_RE)
        elif field == "time":
            out.append(_TIME_RE)
    return re.compile("".join(out) + r"\Z")


def local_time(instant: datetime) -> str:
    """Show an instant as the schedule does: "2025-03-10 Mon 07:00 JST"."""
    return instant.strftime("%Y-%m-%d %a %H:%M %Z")
