"""How a brief names what it quotes: source labels, citation notes, dates, excerpts."""

from __future__ import annotations

import re
from pathlib import Path

from briefgen.models import Source

SENTENCE_MAX_CHARS = 320  # a key point keeps a sentence up to this long whole
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
# A sentence ends at . ! ? (optionally followed by a closing quote) and a space.
_SENTENCE_END = re.compile(r"[.!?][\"”’']?(?= )")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def long_date(value: str | None) -> str:
    """Format an ISO date as "March 12, 2026"; other strings pass unchanged."""
    if not value:
        return ""
    m = _ISO_DATE.match(value)
    if not m:
        return value
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        return value
    return f"{_MONTHS[month - 1]} {day}, {year}"


def source_label(source: Source, *, max_chars: int | None = None) -> str:
    """Name a source as a reader would: its outlet, else its title, else its file name."""
    meta = source.meta
    if meta.outlet:
        return meta.outlet
    if meta.title:
        return shorten(meta.title, max_chars) if max_chars else meta.title
    return Path(source.source_path).name


def shorten(text: str, max_chars: int) -> str:
    """Cut text at a word boundary to at most ``max_chars`` characters, marking the cut with "…"."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars].rstrip(" ,;:") + "…"


def citation_note(source: Source, ordinal: int) -> str:
    """Return the Chicago-like note "Outlet, “Title,” date, ¶ n." leaving out what is unknown."""
    meta = source.meta
    parts: list[str] = []
    if meta.outlet:
        parts.append(meta.outlet)
    # A note needs something to name the work: the title, else the file it came from.
    parts.append(f"“{meta.title}”" if meta.title else Path(source.source_path).name)
    if meta.date:
        parts.append(long_date(meta.date))
    parts.append(f"¶ {ordinal}")
    note = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.endswith("”") and not last:
            note += part[:-1] + ",” "  # Chicago puts the comma inside the closing quote
        else:
            note += part + ("." if last else ", ")
    return note


def excerpt(text: str, *, start: int = 0, min_chars: int = 60, max_chars: int = 240) -> str:
    """Return the sentence(s) of a passage from ``start`` on, verbatim, with "…" for each cut.

    From the start of the passage, that is its opening sentence(s); from a later sentence,
    the excerpt begins with "…". A single sentence up to ``SENTENCE_MAX_CHARS`` is kept whole
    rather than cut mid-sentence.
    """
    if start > 0:
        return "…" + excerpt(text[start:], min_chars=min_chars, max_chars=max_chars)
    first = _SENTENCE_END.search(text)
    first_end = first.end() if first else len(text)
    if max_chars < first_end <= SENTENCE_MAX_CHARS:
        return text[:first_end]
    if len(text) <= max_chars:
        end = None
        for m in _SENTENCE_END.finditer(text):
            if m.end() >= min_chars:
                end = m.end()
                break
        return text if end is None else text[:end]
    for m in _SENTENCE_END.finditer(text):
        if min_chars <= m.end() <= max_chars:
            return text[: m.end()]
        if m.end() > max_chars:
            break
    return shorten(text, max_chars)
