"""Say what a YAML syntax error means in plain English (the parser's words are jargon)."""

from __future__ import annotations

import yaml


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
