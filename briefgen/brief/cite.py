"""How a brief names what it quotes: who said it, when, what kind of source; notes; excerpts.

A reader never sees a file name or a hash: a source is named by its outlet, else its author,
else a short form of its title, else by what is known of it ("Analysis, translated from
Japanese"). Its kind is said wherever it is not news reporting. Excerpts (the key points) are
whole sentences of a passage, cut by the one sentence splitter of ``briefgen.text``, with "…"
exactly where they start or stop inside the passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from briefgen.models import Source
from briefgen.text import sentence_spans

SENTENCE_MAX_CHARS = 320  # a key point keeps a sentence up to this long whole
SHORT_TITLE_MAX_CHARS = 70  # a title in an attribution line is cut to this (at a word)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

# What a reader is told about a source that is not news reporting, by corpus.yaml `kind`.
# News (and a source of unknown kind) carries no label.
NEWS_KINDS = frozenset({"news", "report", "reporting", "wire", "article"})
_KIND_LABELS = {
    "analysis": "Analysis",
    "opinion": "Opinion",
    "op-ed": "Opinion",
    "oped": "Opinion",
    "commentary": "Commentary",
    "editorial": "Editorial",
    "essay": "Essay",
    "column": "Column",
    "blog": "Blog post",
    "aggregator": "Aggregator summary",
    "summary": "Summary",
    "press release": "Press release",
    "press_release": "Press release",
    "press-release": "Press release",
    "official": "Official statement",
    "official statement": "Official statement",
    "statement": "Official statement",
    "transcript": "Transcript",
}
_AI_GENERATED = re.compile(r"\b(?:ai|machine|automatically)[\s-]generated\b|\bgenerated\s.{0,20}\bby\s+(?:an?\s+)?ai\b", re.IGNORECASE)
_TRANSLATED = re.compile(
    r"\b(?:originally\s+published\s+in|translated\s+from)\s+(?:the\s+)?([A-Z][a-z]+)\b", re.IGNORECASE
)


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


def is_news(kind: str | None) -> bool:
    """Tell whether a source of this kind reads as news reporting (unknown kinds do)."""
    return kind is None or kind.strip().lower() in NEWS_KINDS


def kind_label(source: Source) -> str | None:
    """Return what a reader is told about a source that is not news ("Analysis"), else None."""
    kind = source.meta.kind
    if is_news(kind):
        return None
    assert kind is not None
    label = _KIND_LABELS.get(kind.strip().lower(), kind.strip().capitalize())
    if label == "Aggregator summary" and any(_AI_GENERATED.search(w) for w in source.warnings):
        return "AI-generated summary"
    return label


def translated_from(source: Source) -> str | None:
    """Return the language a source says it was translated from ("Japanese"), if it says so."""
    for warning in source.warnings:
        if m := _TRANSLATED.search(warning):
            return m.group(1).capitalize()
    return None


def shorten(text: str, max_chars: int) -> str:
    """Cut text at a word boundary to at most ``max_chars`` characters, marking the cut with "…"."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars].rstrip(" ,;:") + "…"


def short_title(title: str) -> str:
    """Return a title's short form: the main title before a colon, else the title (cut if long)."""
    head, colon, _ = title.partition(": ")
    if colon and len(head.split()) >= 2:
        return head
    return shorten(title, SHORT_TITLE_MAX_CHARS)


def description(source: Source) -> str:
    """Describe a source without outlet, author or title by what is known of it."""
    what = kind_label(source) or "Untitled article"
    language = translated_from(source)
    return f"{what}, translated from {language}" if language else what


def reader_name(source: Source) -> str:
    """Name a source as a reader would: outlet, else author, else “short title”, else a description."""
    meta = source.meta
    if meta.outlet:
        return meta.outlet
    if meta.author:
        return meta.author
    if meta.title:
        return f"“{short_title(meta.title)}”"
    return description(source)


def attribution(source: Source) -> str:
    """Return the line under a quote: who, when, and what kind of source if not news.

    "ANI", "Nikkei Asia, March 10, 2026 (opinion)", "“Takaichi’s Bold Move” (aggregator
    summary)", "Analysis, translated from Japanese, March 12, 2026".
    """
    name = reader_name(source)
    if source.meta.date:
        date = long_date(source.meta.date)
        # Chicago puts the comma inside the closing quote: “Tariff Talk,” March 11, 2026
        if name.endswith(("?”", "!”")):
            name = f"{name} {date}"
        else:
            name = f"{name[:-1]},” {date}" if name.endswith("”") else f"{name}, {date}"
    label = kind_label(source)
    if label and not name.startswith(label):
        name += f" ({lower_first(label)})"
    return name


def lower_first(label: str) -> str:
    """Return a label to use inside a sentence: "Aggregator summary" → "aggregator summary"."""
    if len(label) > 1 and label[1].isupper():  # "AI-generated summary" stays as it is
        return label
    return label[:1].lower() + label[1:]


def citation_note(source: Source, ordinal: int) -> str:
    """Return the full note: Author, “Full Title,” Outlet, date, kind, ¶ n. (unknowns left out)."""
    meta = source.meta
    parts: list[str] = []
    if meta.author:
        parts.append(meta.author)
    if meta.title:
        parts.append(f"“{meta.title}”")
    if meta.outlet:
        parts.append(meta.outlet)
    if not meta.title and not meta.outlet and not meta.author:
        parts.append(description(source))
    if meta.date:
        parts.append(long_date(meta.date))
    label = kind_label(source)
    if label and not any(p.startswith(label) for p in parts):
        parts.append(lower_first(label))
    parts.append(f"¶ {ordinal}")
    return _join_note(parts)


def short_note(source: Source, ordinal: int, first: int) -> str:
    """Return the note of a passage cited again: "ANI, ¶ 7; see note 2."."""
    return f"{reader_name(source)}, ¶ {ordinal}; see note {first}."


def _join_note(parts: list[str]) -> str:
    note = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.endswith(("?”", "!”")) and not last:
            note += part + " "  # a title's own question or exclamation mark takes the comma's place
        elif part.endswith("”") and not last:
            note += part[:-1] + ",” "  # Chicago puts the comma inside the closing quote
        else:
            note += part + ("." if last else ", ")
    return note


# --- excerpts --------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_SUFFIXES = ("ing", "ies", "ied", "es", "ed", "s", "e", "y")


def _stem(token: str) -> str:
    """Cut a common English ending, so a term's word matches its inflections as a prefix."""
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def mentions(text: str, terms: Iterable[str]) -> bool:
    """Tell whether ``text`` contains one of ``terms`` (case-insensitive, word endings allowed).

    A lenient check that a sentence carries the evidence the selection found in its passage
    (the selection itself matches with the store's analyzer): a term's words must appear in
    order, each as the start of a word of the text.
    """
    words = _WORD.findall(text.casefold())
    for term in terms:
        stems = [_stem(t) for t in _WORD.findall(term.casefold())]
        if not stems:
            continue
        n = len(stems)
        for i in range(len(words) - n + 1):
            if all(words[i + k].startswith(stems[k]) for k in range(n)):
                return True
    return False


def excerpt_span(
    text: str, start: int = 0, *, min_chars: int = 60, max_chars: int = 240, keep: tuple[str, ...] = ()
) -> tuple[int, int]:
    """Return the (start, end) in ``text`` of the sentence(s) a key point quotes from ``start`` on.

    Whole sentences, until the excerpt has ``min_chars`` (without passing ``max_chars``); a
    first sentence up to ``SENTENCE_MAX_CHARS`` is kept whole. A longer one is cut at a word
    before ``max_chars``, unless that would lose every one of the ``keep`` terms.
    """
    ends = [end for _, end in sentence_spans(text) if end > start]
    if not ends:
        return start, len(text)
    first = ends[0]
    if first - start > SENTENCE_MAX_CHARS:
        cut = shorten(text[start:first], max_chars).removesuffix("…")
        if not keep or mentions(cut, keep):
            return start, start + len(cut)
        return start, first
    end = first
    for later in ends[1:]:
        if end - start >= min_chars or later - start > max_chars:
            break
        end = later
    return start, end


def marked(text: str, start: int, end: int) -> str:
    """Return ``text[start:end]`` with "…" where it starts or stops inside ``text``.

    After a sentence's closing punctuation the "…" is set apart by a space ("… Korea. …").
    """
    words = text[start:end]
    head = "…" if start > 0 else ""
    if end >= len(text):
        return head + words
    return head + words + (" …" if words.endswith((".", "!", "?", "”", '"', "’")) else "…")


def excerpt(text: str, *, start: int = 0, min_chars: int = 60, max_chars: int = 240) -> str:
    """Return the excerpt of a passage from ``start`` on, verbatim, "…" where it is cut."""
    return marked(text, *excerpt_span(text, start, min_chars=min_chars, max_chars=max_chars))
