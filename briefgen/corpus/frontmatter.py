"""YAML front matter of Markdown articles, read with the limits of the config reader.

An article is not trusted input: a 415-byte alias bomb expanded by ``yaml.safe_load`` took
15 s and 3.7 GB, and 100,000 nested brackets raised RecursionError out of the whole run. Here
the block goes through ``briefgen.config.yamlread`` (size, nesting depth and alias expansion
limited, no tags), and every metadata value is cut to a bounded length. Any failure skips the
one article with one reason (``SkippedInput``).
"""

from __future__ import annotations

import re
from typing import Any

from briefgen.config.yamlread import MAX_FILE_BYTES, FileFatal, Problem, read_yaml_text
from briefgen.corpus.decode import SkippedInput
from briefgen.corpus.metadata import meta_from_fields
from briefgen.corpus.textlines import front_matter_end
from briefgen.models import SourceMeta

#: Front matter larger than this is refused (the config files' limit).
MAX_FRONT_MATTER_BYTES = MAX_FILE_BYTES
#: A metadata value (title, author list joined, ...) is cut to this many characters.
MAX_FIELD_CHARS = 2000

_OPENING = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_CLOSING = re.compile(r"---[ \t]*(?:\r?\n)?\Z")


def front_matter_meta(text: str) -> SourceMeta:
    """Read the metadata in a Markdown file's YAML front matter (raises SkippedInput if broken)."""
    if not _OPENING.match(text):
        return SourceMeta()
    end = front_matter_end(text)
    if end == 0:
        raise SkippedInput(
            "line 1: front matter opened with --- but never closed; add a closing --- line"
        )
    block = _CLOSING.sub("", _OPENING.sub("", text[:end]))
    size = len(block.encode("utf-8", "surrogatepass"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise SkippedInput(
            f"front matter is {size / 1e6:.1f} MB, over the {MAX_FRONT_MATTER_BYTES // 1_000_000} MB "
            "limit; shorten it"
        )
    try:
        data = read_yaml_text(block, "front matter", [])
    except FileFatal as exc:
        raise SkippedInput(f"{_where(exc.problem)}broken front matter ({exc.problem.message}); "
                           "fix the YAML") from None
    if data.data is None:
        return SourceMeta()
    if not isinstance(data.data, dict):
        raise SkippedInput("line 2: front matter must be a mapping (title: ..., date: ...)")
    return meta_from_fields({key: _bounded(value) for key, value in data.data.items()})


def _where(problem: Problem) -> str:
    """Return "line N: " in the article (the block starts on line 2, after ``---``)."""
    return f"line {problem.line + 1}: " if problem.line else ""


def _bounded(value: Any) -> Any:
    """Cut a text, or a list of texts, to at most ``MAX_FIELD_CHARS`` characters in all."""
    if isinstance(value, str):
        return value[:MAX_FIELD_CHARS]
    if not isinstance(value, list):
        return value
    kept: list[str] = []
    left = MAX_FIELD_CHARS
    for item in value:
        if left <= 0:
            break
        text = item if isinstance(item, str) else _scalar_text(item)
        kept.append(text[:left])
        left -= len(kept[-1]) + 2  # the ", " the author list is joined with
    return kept


def _scalar_text(item: Any) -> str:
    """Return a list item as text; nested lists and mappings are not metadata."""
    if isinstance(item, (list, dict)):
        return ""
    return str(item)
