"""Say what a YAML syntax error means in plain English (the parser's words are jargon).

A mis-indented line makes PyYAML say "mapping values are not allowed here" or "expected
<block end>, but found '<block mapping start>'", often at the line below the mistake. For
those errors :func:`explain` looks for the one line whose re-indentation makes the block
parse: that is the line indented differently from its siblings, and the message names it,
the sibling it should line up with, and the indentation to give it.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

import yaml

_KEY = re.compile(r"^(- )?((?:\"[^\"]*\"|'[^']*'|[^:#\s][^:#]*?)):(\s|$)")
_MAX_CANDIDATE_LINES = 40  # lines above the error tried as the mis-indented one
_MAX_LINES_PARSED = 400_000  # re-parsing a huge block for a better message stops here
_INDENT_ERRORS = ("mapping values are not allowed here", "expected <block end>")


def explain(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """Return the 1-based line, column and message for a syntax error in ``text``."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or ""
    if mark and "\t" not in text and problem.startswith(_INDENT_ERRORS):
        try:
            found = indentation_problem(text, mark.line)
        except Exception:  # noqa: BLE001 -- a better message is a nicety; the parser's stays
            found = None
        if found:
            return found
        if problem.startswith("mapping values") and _second_colon(text, mark.line, mark.column):
            return line, col, (
                "YAML syntax error: a second ': ' on this line; put the value in quotes, "
                'e.g. title: "Trade: the outlook"'
            )
    return line, col, syntax_message(exc)


def syntax_message(exc: yaml.MarkedYAMLError) -> str:
    """Return what a YAML syntax error means, for the ``file:line:col:`` line."""
    problem = exc.problem or "invalid YAML"
    if "'\\t'" in problem:
        return "YAML syntax error: a tab character; indent with spaces"
    if (
        exc.context
        and exc.context_mark
        and exc.problem_mark
        and (exc.context_mark.line != exc.problem_mark.line)
    ):
        return f"YAML syntax error: {problem} ({exc.context} at line {exc.context_mark.line + 1})"
    return f"YAML syntax error: {problem}" + (f" ({exc.context})" if exc.context else "")


def _second_colon(text: str, line: int, column: int) -> bool:
    """Whether the error is a ': ' after the key's own colon on the same line."""
    lines = text.split("\n")
    if line >= len(lines):
        return False
    match = _KEY.match(lines[line].lstrip())
    return match is not None and column > _indent(lines[line]) + match.end(2)


def indentation_problem(text: str, error_line: int) -> tuple[int, int, str] | None:
    """Find the line indented differently from its siblings near the 0-based ``error_line``.

    Returns its 1-based line and column and the message, or None when no single line's
    indentation explains the error (then the parser's own words are kept).
    """
    lines = text.split("\n")
    content = [i for i, s in enumerate(lines) if s.strip() and not s.lstrip().startswith("#")]
    if error_line >= len(lines) or not content:
        return None
    # The top-level block around the error: each such block parses on its own.
    start = max((i for i in content if i < error_line and _indent(lines[i]) == 0), default=0)
    end = min((i for i in content if i > error_line and _indent(lines[i]) == 0), default=len(lines))
    block = [i for i in content if start <= i < end]
    indents = sorted({_indent(lines[i]) for i in block})
    step = _usual_step(lines, content)
    best: tuple[tuple[int, ...], int, int] | None = None
    tried = [i for i in reversed(block) if i <= error_line][:_MAX_CANDIDATE_LINES]
    budget = _MAX_LINES_PARSED // (end - start + 1)
    for i in tried:
        for new in indents:
            if new == _indent(lines[i]):
                continue
            budget -= 1
            if budget < 0:
                return None
            fixed = lines[start:end]
            fixed[i - start] = " " * new + lines[i].lstrip()
            parsed_to = _parses_to(fixed)
            if parsed_to is not None and parsed_to + start <= error_line:
                continue  # still fails at or before the reported line
            parent = _parent(lines, block, i, new)
            siblings = _siblings(lines, block, i, new, parent)
            parent_indent = -step if parent is None else _indent(lines[parent])
            cur = _indent(lines[i])
            # Prefer, in turn: a block that parses; the lines under this one staying under it;
            # lining up with siblings; this file's usual indentation step; staying under the
            # key it was written under; the smallest move; the line nearest the error.
            score = (parsed_to is None, _keeps_children(lines, block, i, new), bool(siblings),
                     new - parent_indent == step, parent == _parent(lines, block, i, cur),
                     -abs(new - cur), -abs(error_line - i), i == error_line)
            if best is None or score > best[0]:
                best = (score, i, new)
    if best is None:
        return None
    _, i, new = best
    return i + 1, _indent(lines[i]) + 1, _message(lines, block, i, new)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _usual_step(lines: list[str], content: list[int]) -> int:
    """Return how far this file usually indents a block under its key (2 when it cannot tell)."""
    steps: Counter[int] = Counter()
    for a, b in itertools.pairwise(content):
        if lines[a].rstrip().endswith(":") and _indent(lines[b]) > _indent(lines[a]):
            steps[_indent(lines[b]) - _indent(lines[a])] += 1
    return steps.most_common(1)[0][0] if steps else 2


def _parses_to(block: list[str]) -> int | None:
    """Return the 0-based line of the block's first syntax error, or None if it parses."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for _ in yaml.parse("\n".join(block), Loader=loader):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return mark.line if mark else 0
    except yaml.YAMLError:
        return 0
    return None


def _parent(lines: list[str], block: list[int], i: int, indent: int) -> int | None:
    """Return the line a line at ``indent`` belongs under: the nearest less indented key
    without a value (``schedule:``) or list item (``- ...``) above it."""
    for j in reversed(block):
        if j < i and _indent(lines[j]) < indent and _opens_block(lines[j]):
            return j
    return None


def _keeps_children(lines: list[str], block: list[int], i: int, new: int) -> bool:
    """Whether the lines indented under line ``i`` would still be under it at ``new``."""
    cur = _indent(lines[i])
    for j in block[block.index(i) + 1 :]:
        if _indent(lines[j]) <= cur:
            return True
        if _indent(lines[j]) <= new:
            return False
    return True


def _opens_block(line: str) -> bool:
    stripped = line.split(" #", 1)[0].strip()
    return stripped.endswith(":") or stripped.startswith("- ") or stripped == "-"


def _siblings(
    lines: list[str], block: list[int], i: int, indent: int, parent: int | None
) -> list[int]:
    """Return the other lines at ``indent`` under the same parent, nearest first."""
    floor = -1 if parent is None else _indent(lines[parent])
    found = []
    for direction in (-1, 1):
        j = block.index(i) + direction
        while 0 <= j < len(block) and _indent(lines[block[j]]) > floor:
            if block[j] == parent:
                break
            if _indent(lines[block[j]]) == indent:
                found.append(block[j])
            j += direction
    return sorted(found, key=lambda j: (abs(j - i), j > i))


def _label(line: str) -> str:
    """Name a line as people see it: its key ("path:"), its item ("- a") or its start."""
    stripped = line.strip()
    match = _KEY.match(stripped)
    if match:
        return f'"{match.group(1) or ""}{match.group(2)}:"'
    return '"' + (stripped if len(stripped) <= 30 else stripped[:27] + "...") + '"'


def _spaces(n: int) -> str:
    return "at the left margin" if n == 0 else f"indented {n} space{'s' * (n != 1)}"


def _message(lines: list[str], block: list[int], i: int, new: int) -> str:
    line = lines[i]
    what = "items" if line.lstrip().startswith("- ") else "keys"
    parent = _parent(lines, block, i, new)
    siblings = _siblings(lines, block, i, new, parent)
    head = f"YAML indentation: {_label(line)} is {_spaces(_indent(line))}"
    if siblings:
        others = f"top-level {what}" if parent is None else f"{what} under {_label(lines[parent])}"
        j = siblings[0]
        return (f"{head}, but the other {others} are {_spaces(new)} "
                f"({_label(lines[j])}, line {j + 1}); line it up with them")
    if parent is None:
        return f"{head}; a top-level key starts at the left margin"
    return (f"{head}, which lines up with nothing around it; to put it under "
            f"{_label(lines[parent])} (line {parent + 1}), indent it {new} spaces")
