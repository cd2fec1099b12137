"""Output folder patterns: the fields a pattern may use (no format specs or conversions: a fill
character in ``{brief:/>5}`` makes an absolute path), whether it can climb out of its folder,
and the folders that two briefs, or two runs of one schedule, would share. ``briefgen.build``
and ``briefgen.schedule`` check each folder again after filling it in and resolving it."""

from __future__ import annotations

import posixpath
import re
import string
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

_BRIEF_FIELDS = {"brief", "date"}
# What a filled-in field can look like (brief names are `\w[\w.-]*`, see schema.Name).
_FIELD_SHAPES = {"date": r"\d{4}-\d{2}-\d{2}", "time": r"\d{4}"}
_SAMPLE_VALUES = {"date": "2001-02-03", "time": "0405"}


def brief_output_problem(pattern: str) -> str | None:
    """Return why ``pattern`` is not a usable brief output folder (``briefs.*.output``), or None."""
    problem = fields_problem(pattern, _BRIEF_FIELDS, "")
    if problem:
        return problem
    if not pattern.strip() or leaves_folder(pattern):
        return 'must be a folder inside the output folder, e.g. "{brief}"'
    return None


def fields_problem(pattern: str, allowed: set[str], prefix: str) -> str | None:
    """Refuse unknown fields, format specs and conversions: ``{brief:/>5}`` makes ``////x``."""
    lead = f"{prefix}: " if prefix else ""
    if any(not c.isprintable() for c in pattern):
        return f"{lead}control characters are not allowed in a folder name"
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return f"{lead}{exc}; write literal braces as {{{{ and }}}}"
    shown = ", ".join(f"{{{name}}}" for name in sorted(allowed))
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            return f"{lead}unknown field {{{name}}}; use {shown}"
        if spec or conversion:
            written = f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            return (
                f"{lead}{written}: format specs and conversions are not allowed in folder "
                f"names; write {{{name}}}"
            )
    return None


def leaves_folder(pattern: str) -> bool:
    """Say whether a pattern (fields known to be plain) can name a folder outside its parent."""
    # A filled-in field is a plain word, a date or a time: never a separator or "..".
    text = "".join(
        literal + ("x" if name is not None else "")
        for literal, name, _, _ in string.Formatter().parse(pattern)
    )
    parts = text.replace("\\", "/").split("/")
    return text.startswith(("/", "\\")) or ".." in parts


# --- folders two slots or two briefs would share ----------------------------------------------


class ScheduleLike(Protocol):
    """What the collision check reads of a ``Schedule``."""

    @property
    def cron(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def output(self) -> str: ...


class BriefLike(Protocol):
    """What the collision check reads of a ``BriefSpec``."""

    @property
    def output(self) -> str: ...

    @property
    def schedule(self) -> ScheduleLike | None: ...


ConfigPath = tuple[str | int, ...]


def output_collisions(briefs: Mapping[str, BriefLike]) -> list[tuple[ConfigPath, str]]:
    """Return (config path, message) for every output folder that two slots of one schedule,
    or two briefs, would share: the later build would overwrite the earlier one's files."""
    found: list[tuple[ConfigPath, str]] = []
    # (brief, where in the config, folder pattern with {brief} filled in, what it is)
    folders: list[tuple[str, ConfigPath, str, str]] = []
    for name, spec in briefs.items():
        folders.append((name, ("briefs", name, "output"), _fill_brief(spec.output, name), "output"))
        sched = spec.schedule
        if sched is None:
            continue
        at: ConfigPath = ("briefs", name, "schedule", "output")
        problem = _slot_collision(sched)
        if problem:
            found.append((at, problem))
        dated = _fill_brief(sched.output, name)
        folders.append((name, at, dated, "scheduled output"))
        folders.append((name, at, posixpath.dirname(dated) or ".", "`latest` link"))
    for i, (name, where, pattern, what) in enumerate(folders):
        for other, _, other_pattern, other_what in folders[:i]:
            if other == name or (what == "`latest` link") != (other_what == "`latest` link"):
                continue
            if _can_share(pattern, other_pattern):
                shared = "one `latest` link" if what == "`latest` link" else "one folder"
                found.append((where, (
                    f"briefs {other} and {name} would share {shared} "
                    f"({other_pattern!r}, {pattern!r}): one build would overwrite the other's; "
                    'put {brief} in the pattern, e.g. "{brief}/{date}"'
                )))
                break
    return found


def _slot_collision(sched: ScheduleLike) -> str | None:
    """Say if two slots of one schedule would fill in the same dated folder."""
    if "{time}" in sched.output:
        return None
    try:  # a bad cron or zone is reported by its own check
        start = datetime(2001, 1, 1, tzinfo=ZoneInfo(sched.timezone)) - timedelta(seconds=1)
        slots = CronSim(sched.cron, start)
        first, second = next(slots), next(slots)
    except (StopIteration, CronSimError, OverflowError, ValueError, LookupError):
        return None
    if first.date() != second.date():
        return None
    return (
        f'cron "{sched.cron}" runs more than once a day ({first:%H:%M} and {second:%H:%M}), '
        f"so its runs would share the folder {sched.output!r} and the later would replace the "
        'earlier; add {time} to the last folder, e.g. "{brief}/{date}-{time}"'
    )


def _fill_brief(pattern: str, name: str) -> str:
    """Fill in {brief} (keeping the other fields) and tidy the path: "./a//b/" is "a/b"."""
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        return pattern  # refused by the field checks already
    text = "".join(
        literal.replace("{", "{{").replace("}", "}}")
        + ("" if field is None else name if field == "brief" else f"{{{field}}}")
        for literal, field, _, _ in parsed
    )
    return posixpath.normpath(text.replace("\\", "/"))


def _can_share(a: str, b: str) -> bool:
    """Say whether two filled-in patterns can name the same folder on some date and time."""
    return bool(_shape(a).fullmatch(_sample(b)) or _shape(b).fullmatch(_sample(a)))


def _shape(pattern: str) -> re.Pattern[str]:
    out = []
    for literal, field, _, _ in string.Formatter().parse(pattern):
        out.append(re.escape(literal))
        if field is not None:
            out.append(_FIELD_SHAPES.get(field, re.escape(field)))
    return re.compile("".join(out))


def _sample(pattern: str) -> str:
    return "".join(
        literal + ("" if field is None else _SAMPLE_VALUES.get(field, field))
        for literal, field, _, _ in string.Formatter().parse(pattern)
    )
