"""Bylines and datelines: kept out of passages, read as metadata.

A byline ("By Aiko Tanaka", "BY JANE ROE AND JOHN DOE") is a block of its own: cleaning leaves
it out and the names become the article's author when nothing better says who wrote it. A
dateline opens a paragraph ("TOKYO (Reuters) - ", "Tokyo, February 10 (ANI): ",
"MOSCOW, March 17. /TASS/. ", "MADRID — ", "(CNN)"): it stays outside the paragraph's span,
and the agency it names becomes the outlet, its date (when it has a year) the article's date,
again only when nothing better says so. A dateline without an agency ("MADRID — ") is only
looked for at the start of an article, where a capitalised word and a dash cannot be a
sentence that merely starts with an acronym.
"""

from __future__ import annotations

import re

from briefgen.corpus.metadata import normalize_date

MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)

# --- prefixes that stay outside a paragraph's span ----------------------------------------
LEADING_PREFIX = re.compile(
    r"date:?\s+\d{4}-\d{2}-\d{2}(?:[T ][\d:]+)?\s+"  # a scraped "date 2026-03-12" field
    # a wire dateline: "SAN FRANCISCO/NEW YORK  (Reuters) - ", "TOKYO, Feb 10 (AP) — "
    r"|[A-Z][A-Z.'’-]+(?:[\s/][A-Z][A-Z.'’-]+)*(?:,\s*[A-Z][A-Za-z.]+(?:\s+[A-Z][A-Za-z.]+)*)?"
    rf"(?:,?\s+(?i:{MONTH})\.?\s+\d{{1,2}})?\s*\([A-Za-z][\w .&-]{{1,30}}\)\s*[-–—:]{{1,2}}\s+"
    # "Tokyo, February 10 (ANI): "
    rf"|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*,\s+(?i:{MONTH})\.?\s+\d{{1,2}}(?:,\s+\d{{4}})?\s*(?:\([A-Z]+\))?\s*[-–—:]\s+"
    # an agency between slashes: "MOSCOW, March 17. /TASS/. ", "NEW YORK, May 2, 2017 /PRNewswire/ -- "
    rf"|[A-Z][A-Z.'’-]+(?:[\s/-][A-Z][A-Z.'’-]+)*,\s+(?i:{MONTH})\.?\s+\d{{1,2}}(?:,\s+\d{{4}})?[.,]?"
    r"\s*/[A-Za-z][\w .&-]{1,30}/\.?(?:\s*[-–—]{1,2})?\s+",
)
# Only at the start of an article: a place in capitals and a dash ("MADRID — ",
# "BUFFALO, N.Y. — ", "BERLIN -- "), or an agency alone ("(Reuters) — ", "(CNN)").
OPENING_DATELINE = re.compile(
    r"[A-Z][A-Z.'’-]+(?:[\s/][A-Z][A-Z.'’-]+){0,3}(?:,\s*[A-Z][A-Za-z.]{1,12}(?:\s+[A-Z][A-Za-z.]{1,12})?)?"
    r"\s*(?:—|–|--?)\s+(?=[A-Z\"“‘'])"
    r"|\((?:[A-Z]{2,6}|Reuters|Bloomberg|Xinhua|Kyodo|Yonhap|Interfax)\)\s*(?:[-–—:]{1,2}\s*)?(?=[A-Z\"“‘'])",
)
# How many of an article's first paragraphs may open with such a dateline (a standfirst may
# come before the first paragraph of the story).
OPENING_PARAGRAPHS = 2

_AGENCY = re.compile(r"\(([A-Za-z][\w .&-]{1,30})\)|/([A-Za-z][\w .&-]{1,30})/")
_NAMED_DATE = re.compile(rf"(?i:{MONTH})\.?\s+\d{{1,2}},?\s+\d{{4}}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# "By Aiko Tanaka", "By Jane Roe and John Doe", "BY JANE ROE, JOHN DOE", "By Jane Roe, Reuters".
_NAME = r"(?:[A-Z][\w'’.-]*|(?:de|van|von|der|da|di|al|el|bin)\b)"
_PERSON = rf"{_NAME}(?:\s+{_NAME}){{0,4}}"
_BYLINE = re.compile(
    rf"(?i:by)\s+(?P<names>{_PERSON}(?:\s*(?:,|&|\band\b|(?-i:AND))\s*{_PERSON}){{0,3}})"
    r"(?:\s*[|,·•]\s*[\w&.' -]{1,40})?\.?",
)
BYLINE_MAX_WORDS = 16


def byline_author(norm: str, words: int) -> str | None:
    """Return the names a byline block gives ("By Jane Roe and John Doe" → "Jane Roe, John Doe")."""
    if words > BYLINE_MAX_WORDS or not norm[:3].lower().startswith("by "):
        return None
    m = _BYLINE.fullmatch(norm)
    if m is None:
        return None
    names = [n.strip() for n in re.split(r"\s*(?:,|&|\band\b|\bAND\b)\s*", m.group("names")) if n.strip()]
    if not names:
        return None
    if all(n.isupper() for n in names):  # "BY JANE ROE": set in capitals by the page
        names = [n.title() for n in names]
    return ", ".join(names)


def dateline_facts(prefix: str) -> tuple[str | None, str | None]:
    """Return the agency (outlet) and the date (ISO, only with a year) a dateline states."""
    agency = None
    if m := _AGENCY.search(prefix):
        agency = (m.group(1) or m.group(2)).strip()
    date = None
    if m := _ISO_DATE.search(prefix):
        date = normalize_date(m.group(0))
    elif m := _NAMED_DATE.search(prefix):
        date = normalize_date(" ".join(m.group(0).replace(".", "").replace(",", " ").split()))
    return agency, date
