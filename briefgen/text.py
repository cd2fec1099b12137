"""Text rules every stage shares: the one normalization and the one sentence splitter.

:func:`normalize` is the one documented text transformation: every passage ``p`` of a document
with decoded source text ``raw`` satisfies ``p.text == normalize(raw[p.start:p.end])``, so a
quote can always be found again in its source. :func:`sentence_ends` / :func:`sentence_spans`
serve passage splitting, key sentences and key-point excerpts alike; they do not end a sentence
after an initial or a common abbreviation ("U.S.", "Jan.", "No. 10").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable


# Characters normalize() deletes: control characters that are not whitespace (Cc) and
# invisible format characters (Cf: zero-width space/joiners, bidi marks, BOM, soft hyphen).
def _invisible_codes() -> list[int]:
    # Outside the first two planes, format characters live only in plane 14 (tags);
    # scanning just those keeps the import fast.
    candidates = [*range(0x20000), *range(0xE0000, 0xE1000)]
    return [
        c
        for c in candidates
        if unicodedata.category(chr(c)) in ("Cc", "Cf") and not chr(c).isspace()
    ]


def _char_class(codes: list[int], extra: str = "") -> str:
    ranges: list[list[int]] = []
    for c in codes:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    # Ranges, not single characters: the regex engine scans a short range list much faster.
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + extra + "]"


_INVISIBLE_CODES = _invisible_codes()


_INVISIBLE = re.compile(_char_class(_INVISIBLE_CODES))


_INVISIBLE_CHARS = frozenset(map(chr, _INVISIBLE_CODES))


# Screens for _INVISIBLE, many times faster: a class of characters below U+10000 alone is
# a constant-time lookup, while any character beyond makes the engine walk a range list.
# So: the invisible characters below U+10000, or any character above (then the exact
# class decides).
_MAYBE_INVISIBLE = re.compile(
    _char_class([c for c in _INVISIBLE_CODES if c < 0x10000], "\\U00010000-\\U0010ffff")
)


_ASCII_INVISIBLE = re.compile(_char_class([c for c in _INVISIBLE_CODES if c < 0x80]))


_ASCII_INVISIBLE_BYTES = bytes(c for c in _INVISIBLE_CODES if c < 0x80)


def normalize(s: str) -> str:
    """Return ``s`` in NFC with invisible controls removed and whitespace runs collapsed."""
    # Invisible characters go first: a zero-width joiner between a letter and a combining
    # mark would otherwise block composition and make normalize() not idempotent.
    # Each step runs only when a quick check says it would change something.
    if s.isascii():  # ASCII is already NFC
        if _ASCII_INVISIBLE.search(s):
            s = _ASCII_INVISIBLE.sub("", s)
    else:
        if _MAYBE_INVISIBLE.search(s):
            s = _INVISIBLE.sub("", s)
        if not unicodedata.is_normalized("NFC", s):
            s = unicodedata.normalize("NFC", s)
    return " ".join(s.split())


def collapse_whitespace(s: str) -> str:
    """Return ``s`` with whitespace runs collapsed: all normalize() does to plain text."""
    return " ".join(s.split())


def is_plain(text: str) -> bool:
    """Tell whether ``text`` is ASCII without control characters.

    normalize() only collapses whitespace in plain text, and in every slice of it.
    """
    if not text.isascii():
        return False
    data = text.encode("ascii")  # bytes.translate deletes far faster than a regex searches
    return len(data.translate(None, _ASCII_INVISIBLE_BYTES)) == len(data)


def normalizer_for(text: str) -> Callable[[str], str]:
    """Return :func:`normalize`, or a faster equivalent for slices of ``text`` if it is plain."""
    return collapse_whitespace if is_plain(text) else normalize


def is_blank(s: str) -> bool:
    """Return True if ``s`` holds nothing but whitespace and invisible characters."""
    return not _INVISIBLE.sub("", s).strip()


def tighten(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``text[start:end]`` past leading/trailing whitespace and invisible characters."""
    invisible = _INVISIBLE_CHARS
    while start < end and ((ch := text[start]).isspace() or ch in invisible):
        start += 1
    while end > start and ((ch := text[end - 1]).isspace() or ch in invisible):
        end -= 1
    return start, end


# A sentence ends with . ! ? or … (optionally closed by quotes/brackets) followed by
# whitespace and a capital, digit or opening quote. Initials ("U.S. President") and common
# abbreviations are not sentence ends.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sen",
        "rep",
        "gov",
        "gen",
        "col",
        "lt",
        "sgt",
        "st",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "p.m",
        "a.m",
    ]
)


#: Abbreviations only when a number follows ("No. 10"): otherwise ordinary words ("said no.").
_BEFORE_NUMBERS = frozenset(["no", "art", "nos", "vol", "p", "pp"])


def sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Return the offsets just after each sentence end inside ``text[start:end]``."""
    ends = []
    for m in _SENTENCE_END.finditer(text, start, end):
        stop = m.start()
        if text[stop] == ".":  # only a full stop can close an abbreviation or an initial
            word_start = stop
            while word_start > start and not text[word_start - 1].isspace():
                word_start -= 1
            word = text[word_start:stop].lower().rstrip(".")
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            if word in _BEFORE_NUMBERS and text[m.end():].lstrip()[:1].isdigit():
                continue  # "No. 10", "Art. 9"; but "Seoul said no. Then…" ends there
        ends.append(m.end())
    return ends


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of each sentence of a passage text, spaces between left out."""
    spans, start = [], 0
    for end in [*sentence_ends(text, 0, len(text)), len(text)]:
        while start < end and text[start].isspace():
            start += 1
        if start < end:
            spans.append((start, end))
        start = end
    return spans
