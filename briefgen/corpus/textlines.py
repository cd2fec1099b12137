"""Text → content lines → blocks: where cleaning's line rules are applied.

A line is a tight span of the decoded text (no indentation, bullet glyph, Markdown hashes or
trailing blanks) with its normalized content. Lines are grouped into blocks: one line each
for scraped web text, blank-separated paragraphs for hard-wrapped text (wire copy, e-mail).
A text with no line break at all that is long enough to be an article was flattened by its
export (a CSV cell, some scrapers): its runs of two or more spaces (or tabs) are taken as the
line breaks, unless they are not paragraph breaks — two spaces after (nearly) every sentence
are a typist's habit, spaces in mid-sentence are padding.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from briefgen.text import collapse_whitespace, sentence_ends, tighten

# --- flattened text: paragraph breaks that survive only as runs of spaces -----------------
# Used only on text without line breaks. Not a paragraph break: the spaces of a wire dateline
# before its agency, "WASHINGTON  (Reuters) - ", or spaces inside parentheses (a parenthesis
# opened at most this many characters before and not closed yet).
_FLAT_BREAK = re.compile(r"(?:\s{2,}|\t)(?!\([A-Za-z][\w .&-]{1,30}\)\s*[-–—:])")
_PARENTHESIS_REACH = 300
_PARENTHESIS_IN_SENTENCE = re.compile(r"\([^()]{0,300}\)\s*[a-z,;]")
# Shorter one-line texts are a headline or a snippet, not a flattened article.
_FLAT_MIN_CHARS = 200
# A typist who puts two spaces after every sentence does so after nearly all of them; in the
# flattened news exports seen so far, at most two thirds of sentence ends have two spaces.
_TYPED_DOUBLE_SPACE_SHARE = 0.8

_FRONT_MATTER = re.compile(r"\ufeff?---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_BULLET_GLYPHS = "•·‣▪◦●-*–"
_BULLET = re.compile(r"[•·‣▪◦●\-*–]\s+")
_MD_HEADING = re.compile(r"#{1,6}\s+")
TERMINAL = tuple(".!:;,…\"”’'")


@dataclass(slots=True)
class Line:
    """One non-blank line of the text: its tight span and normalized content."""

    start: int  # content span: indentation, bullet glyph and trailing blanks excluded
    end: int
    indent: int
    bullet: bool
    md_heading: bool
    text: str  # normalize()d content


def front_matter_end(text: str) -> int:
    """Return the offset just after a leading ``---`` YAML front matter block (0 if none)."""
    m = _FRONT_MATTER.match(text)
    return m.end() if m else 0


def split_lines(
    text: str, offset: int, markdown: bool, norm: Callable[[str], str]
) -> list[Line | None]:
    """Split into content lines (``None`` for a blank line) with tight spans.

    ``norm`` is normalize(), or collapse_whitespace() if the text is plain.
    """
    if "\n" not in text and "\r" not in text and len(text) - offset >= _FLAT_MIN_CHARS:
        flat = _split_flattened(text, offset, markdown, norm)
        if flat is not None:
            return flat
    if norm is collapse_whitespace and "\r" not in text:
        return _split_plain_lines(text, offset, markdown)
    lines: list[Line | None] = []
    line_start = offset
    for newline in itertools.chain(_NEWLINE.finditer(text, offset), [None]):
        line_end = newline.start() if newline else len(text)
        start, end = tighten(text, line_start, line_end)
        if start >= end:
            lines.append(None)
        else:
            lines.append(_content_line(text, start, end, start - line_start, markdown, norm))
        if newline:
            line_start = newline.end()
    return lines


def _split_plain_lines(text: str, offset: int, markdown: bool) -> list[Line | None]:
    """Split like :func:`split_lines`, faster, text that is plain and has only ``\\n`` newlines.

    Plain text (``passages.is_plain``) has no invisible characters: a tight span is then
    the line stripped of whitespace, and normalizing it only collapses whitespace.
    """
    lines: list[Line | None] = []
    line_start = offset
    for line in text[offset:].split("\n"):
        content = line.lstrip()
        if content:
            start = line_start + len(line) - len(content)
            content = content.rstrip()
            end = start + len(content)
            if markdown or content[0] in _BULLET_GLYPHS:
                lines.append(
                    _content_line(
                        text, start, end, start - line_start, markdown, collapse_whitespace
                    )
                )
            else:
                lines.append(
                    Line(start, end, start - line_start, False, False, " ".join(content.split()))
                )
        else:
            lines.append(None)
        line_start += len(line) + 1
    return lines


def _split_flattened(
    text: str, offset: int, markdown: bool, norm: Callable[[str], str]
) -> list[Line | None] | None:
    """Split a text without line breaks at its runs of spaces, if they are paragraph breaks.

    Exports that flatten an article into one line (CSV cells, some scrapers) keep its former
    line breaks only as runs of two or more spaces (or a tab). Returns ``None`` when there are
    none, or when they are not paragraph breaks: a typist's two spaces after (nearly) every
    sentence, or spaces that fall in mid-sentence (justified or hard-wrapped text).
    """
    breaks = _paragraph_breaks(text, offset)
    if not breaks:
        return None
    ends = sentence_ends(text, offset, len(text))
    if len(ends) >= 2:
        at_break = {start for start, _ in breaks}
        if sum(e in at_break for e in ends) >= len(ends) * _TYPED_DOUBLE_SPACE_SHARE:
            return None  # the typist's sentence spacing, not paragraph breaks
    lines: list[Line | None] = []
    segment_start = offset
    for break_start, break_end in [*breaks, (len(text), len(text))]:
        start, end = tighten(text, segment_start, break_start)
        if start < end:
            lines.append(_content_line(text, start, end, 0, markdown, norm))
        segment_start = break_end
    if sum(ln is not None for ln in lines) < 2 or _is_hard_wrapped(lines):
        return None
    return lines


def _paragraph_breaks(text: str, offset: int) -> list[tuple[int, int]]:
    """Return the spans of the runs of spaces that may be paragraph breaks in a flattened text."""
    breaks: list[tuple[int, int]] = []
    segment_start = offset
    for m in _FLAT_BREAK.finditer(text, offset):
        before = max(segment_start, m.start() - _PARENTHESIS_REACH)
        if text.count("(", before, m.start()) > text.count(")", before, m.start()):
            continue  # inside parentheses: "(Editing by  Jane Roe)"
        last = text[m.start() - 1] if m.start() > offset else ""
        if text[m.end() : m.end() + 1].islower() or (
            (last.islower() or last == ",") and _PARENTHESIS_IN_SENTENCE.match(text, m.end())
        ):
            continue  # in mid-sentence: "4.5 billion euros  ($5.2 billion) in loans"
        breaks.append(m.span())
        segment_start = m.end()
    return breaks


def _content_line(
    text: str, start: int, end: int, indent: int, markdown: bool, norm: Callable[[str], str]
) -> Line | None:
    """Describe one non-blank line: bullet glyph or Markdown hashes are left outside its span."""
    bullet = md_heading = False
    b = _BULLET.match(text, start, end) if text[start] in _BULLET_GLYPHS else None
    if b:
        bullet = True
        start, end = tighten(text, b.end(), end)
    elif markdown and (h := _MD_HEADING.match(text, start, end)):
        md_heading = True
        start, end = tighten(text, h.end(), end)
        while end > start and text[end - 1] == "#":  # closing hashes: "## Title ##"
            end -= 1
        start, end = tighten(text, start, end)
    if start < end:
        return Line(start, end, indent, bullet, md_heading, norm(text[start:end]))
    return None


def _is_hard_wrapped(lines: list[Line | None]) -> bool:
    """Tell whether paragraphs are wrapped over several short lines (wire copy, e-mail).

    The sign is line breaks in mid-sentence: a line without closing punctuation followed,
    in the same paragraph, by a line that starts with a lower-case letter.
    """
    content = [ln for ln in lines if ln is not None]
    if len(content) < 2 or sorted(len(ln.text) for ln in content)[len(content) // 2] > 100:
        return False  # one paragraph per line: scraped web text
    pairs = mid_sentence = 0
    for first, second in itertools.pairwise(lines):
        if first is None or second is None or second.bullet:
            continue
        pairs += 1
        if not first.text.endswith(TERMINAL + ("?",)) and second.text[0].islower():
            mid_sentence += 1
    return pairs > 0 and mid_sentence >= pairs * 0.3


def group_lines(lines: list[Line | None]) -> list[list[Line]]:
    """Group lines into blocks: one line each, or blank-separated paragraphs if hard-wrapped."""
    if not _is_hard_wrapped(lines):
        return [[ln] for ln in lines if ln is not None]
    groups: list[list[Line]] = []
    current: list[Line] = []
    for ln in lines:
        if ln is None:
            if current:
                groups.append(current)
            current = []
            continue
        starts_block = ln.bullet or ln.md_heading or current and current[-1].md_heading
        if current and (starts_block or ln.indent > current[-1].indent + 1):
            groups.append(current)
            current = []
        current.append(ln)
    if current:
        groups.append(current)
    return groups
