"""Say in plain English what is wrong with a value read from YAML; raise all problems at once.

Shared by the config loader (``configload``) and the corpus metadata file (``metadata``), so a
mistake reads the same wherever it is made.
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from briefgen.config.yamlread import Problem
from briefgen.errors import ConfigError
from briefgen.names import printable

MAX_PROBLEMS = 100  # beyond this the rest is noise from one root cause


def raise_problems(problems: list[Problem], files: list[str]) -> None:
    """Raise one ``ConfigError`` holding every problem, sorted by file and position.

    ``files`` gives the order of the files (the first one names the "... more" line); does
    nothing when there are no problems.
    """
    if not problems:
        return
    order = {name: i for i, name in reversed(list(enumerate(files)))}
    ordered = sorted(problems, key=lambda p: (order.get(p.file, len(files)), p.file, p.line, p.col))
    lines = list(dict.fromkeys(p.format() for p in ordered))
    if len(lines) > MAX_PROBLEMS:
        hidden = len(lines) - MAX_PROBLEMS
        lines = lines[:MAX_PROBLEMS] + [f"{files[0]}: ... and {hidden} more problems"]
    raise ConfigError(lines[0], lines)


def did_you_mean(word: str, choices: set[str] | list[str] | tuple[str, ...], what: str) -> str:
    """Return "; did you mean 'x'?" or "; known <what>: a, b" (or "" when there are none)."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    if close:
        return f"; did you mean '{close[0]}'?"
    if choices:
        return f"; known {what}: " + ", ".join(sorted(choices))
    return f"; no {what} are defined"


def wrong_type(tp: Any, meta: list[Any], value: Any) -> str:
    """Say that ``value`` is not a ``tp`` (with constraints ``meta``) and how to fix that."""
    message = describe_type(tp, meta)
    if tp is str and isinstance(value, (int, float, bool, dt.date)):
        message += "; put the value in quotes"
    elif tp is str and _is_placeholder(value):
        # Unquoted `{brief}` is a YAML mapping with one empty key, not a pattern.
        return f'{message}; quote it: "{{{next(iter(value))}}}"'
    elif get_origin(tp) is Literal and isinstance(value, str):
        close = difflib.get_close_matches(value, [str(a) for a in get_args(tp)], n=1)
        if close:
            return f"{message} (got '{value}'; did you mean '{close[0]}'?)"
    return f"{message} (got {describe_value(value)})"


def describe_type(tp: Any, meta: list[Any]) -> str:
    """Say in plain English what a value of type ``tp`` must be."""
    gt = next((m.gt for m in meta if getattr(m, "gt", None) is not None), None)
    ge = next((m.ge for m in meta if getattr(m, "ge", None) is not None), None)
    if get_origin(tp) is Literal:
        return "must be one of: " + ", ".join(str(a) for a in get_args(tp))
    if tp is int or tp is float:
        noun = "integer" if tp is int else "number"
        if gt == 0:
            return f"must be a positive {noun}"
        if ge == 0:
            return f"must be a positive {noun} or 0"
        return f"must be {'an' if tp is int else 'a'} {noun}"
    if tp is str:
        return "must be text"
    if tp is dt.date:
        return "must be a date like 2025-01-31"
    if get_origin(tp) is list:
        return "must be a list, e.g. [a, b] or one '- item' per line"
    if get_origin(tp) is dict:
        return "must be a mapping of 'name: value' entries"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "must be a mapping of settings ('key: value' lines)"
    return "has the wrong type"


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and None in value.values()


def describe_value(value: Any) -> str:
    """Describe a value from the file briefly, as the user wrote it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}, which YAML reads from yes/no/on/off/true/false"
    if isinstance(value, str):  # escaped: a problem is one line (a value may hold "\n")
        return '"' + printable(value if len(value) <= 40 else value[:37] + "...") + '"'
    if isinstance(value, (list, dict)):
        return kind_of(value)
    return str(value)


def kind_of(value: Any) -> str:
    """Name the kind of a YAML value: "a list", "a mapping", "text", "nothing", ..."""
    return {list: "a list", dict: "a mapping", str: "text", type(None): "nothing"}.get(
        type(value), f"a single value ({value})"
    )
