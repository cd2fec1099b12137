"""Text search values as the PostgreSQL store writes and reads them, and BM25 as FTS5 computes it.

The tokens are made in Python by the SQLite index's own tokenizer (``FtsAnalyzer``: FTS5's
``porter unicode61 remove_diacritics 2``), so both backends match the very same tokens; they are
stored as a ``tsvector`` written literally (``'tariff':3,17 'japan':5``), which PostgreSQL takes
as is (no parser, no dictionary), and queried with phrase ``tsquery`` literals (``'a' <-> 'b'``).

What PostgreSQL cannot hold, and so differs from SQLite (documented in docs/scaling.md):
positions above 16,383 are stored as 16,383, at most 256 positions per token are kept and a
token longer than 2,046 bytes is left out of the tsvector; a paragraph that long or that
repetitive is far beyond what the passage splitter makes of news text.

Relevance is FTS5's ``bm25()`` (k1 = 1.2, b = 0.75), computed here in the same floating-point
operations, in the same order, from the same counts (rows, tokens, rows per phrase, phrase
occurrences per row), so that ``Hit.relevance`` is the number SQLite gives.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

MAX_POSITION = 16383  # PostgreSQL stores a larger position as this one
MAX_POSITIONS = 256  # per token in one tsvector
MAX_LEXEME_BYTES = 2046
MAX_TSVECTOR_CHARS = 900_000  # PostgreSQL's limit is 1 MB of tsvector; stay below it

K1, B = 1.2, 0.75  # FTS5's bm25 constants


def quote(token: str) -> str:
    """Return a token as a quoted tsvector/tsquery lexeme."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_text(tokens: Sequence[str]) -> str:
    """Return the tsvector literal of a text's tokens (positions from 1, in order)."""
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens, 1):
        positions.setdefault(token, []).append(i)
    parts = []
    size = 0
    for token, where in positions.items():
        if len(token.encode()) > MAX_LEXEME_BYTES:
            continue
        if where[-1] > MAX_POSITION:
            where = sorted({min(p, MAX_POSITION) for p in where})
        part = quote(token) + ":" + ",".join(map(str, where[:MAX_POSITIONS]))
        size += len(part) + 1
        if size > MAX_TSVECTOR_CHARS:
            break  # a pathological text: its last tokens are not searchable
        parts.append(part)
    return " ".join(parts)


def searchable(tokens: Sequence[str], tsvector: str) -> set[str]:
    """Return the distinct tokens that ``tsvector_text(tokens)`` (``tsvector``) holds."""
    distinct = set(tokens)
    if len(tsvector) < MAX_TSVECTOR_CHARS // 2 and all(
        len(t) <= MAX_LEXEME_BYTES // 4 for t in distinct
    ):
        return distinct  # nothing can have been left out
    return {t for t in distinct if len(t.encode()) <= MAX_LEXEME_BYTES and quote(t) + ":" in tsvector}


def phrase_query(tokens: Sequence[str]) -> str:
    """Return a tsquery matching the tokens consecutively."""
    return " <-> ".join(quote(t) for t in tokens)


def any_query(phrases: Sequence[Sequence[str]]) -> str:
    """Return a tsquery matching any of the phrases."""
    return " | ".join(f"({phrase_query(p)})" for p in phrases)


def match_query(
    any_of: Sequence[Sequence[str]], require: Sequence[Sequence[str]], exclude: Sequence[Sequence[str]]
) -> str:
    """Return the tsquery of a search: any of ``any_of``, one of ``require``, none of ``exclude``."""
    query = f"({any_query(any_of)})"
    if require:
        query += f" & ({any_query(require)})"
    if exclude:
        query += f" & !({any_query(exclude)})"
    return query


# One entry of a tsvector's text form: 'lexeme':1A,5A (quotes doubled, backslashes escaped).
_ENTRY = re.compile(r"'((?:[^'\\]|''|\\.)*)'(?::([0-9A-D,]+))?")
_WEIGHT = str.maketrans("", "", "ABCD")


def positions_of(tsvector: str) -> dict[str, list[int]]:
    """Parse a tsvector's text form into token → positions."""
    out = {}
    for lexeme, where in _ENTRY.findall(tsvector):
        token = lexeme.replace("''", "'")
        if "\\" in token:
            token = re.sub(r"\\(.)", r"\1", token)
        out[token] = [int(p) for p in where.translate(_WEIGHT).split(",")] if where else []
    return out


def phrase_count(phrase: Sequence[str], positions: dict[str, list[int]]) -> int:
    """Count the places the phrase starts at (overlapping ones too, as FTS5 counts them)."""
    first = positions.get(phrase[0])
    if not first:
        return 0
    if len(phrase) == 1:
        return len(first)
    rest = []
    for token in phrase[1:]:
        where = positions.get(token)
        if not where:
            return 0
        rest.append(set(where))
    return sum(all(p + k in rest[k - 1] for k in range(1, len(phrase))) for p in first)


def idf(rows: int, hits: int) -> float:
    """Return FTS5's inverse document frequency of a phrase found in ``hits`` of ``rows`` rows."""
    value = math.log((rows - hits + 0.5) / (hits + 0.5))
    return value if value > 0.0 else 1e-6


def bm25(freqs: Sequence[int], idfs: Sequence[float], tokens: int, avgdl: float) -> float:
    """Return FTS5's bm25 of a row (positive: higher is better), phrase by phrase in query order."""
    score = 0.0
    length = float(tokens)
    for freq, weight in zip(freqs, idfs, strict=True):
        f = float(freq)
        score += weight * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * length / avgdl)))
    return score


class Bm25Scorer:
    """FTS5's bm25 of rows for one query, from each row's positions of the query's tokens.

    Equal to ``bm25`` over every phrase (a phrase absent from a row adds exactly 0.0 to the
    sum, so only the phrases present are added, still in query order), but a row costs only
    the phrases that start with one of its tokens: most rows of a 50-term topic hold two or three.
    """

    def __init__(self, phrases: Sequence[Sequence[str]], idfs: Sequence[float], avgdl: float) -> None:
        self._phrases = [tuple(p) for p in phrases]
        self._idfs = list(idfs)
        self._avgdl = avgdl
        self._starting: dict[str, list[int]] = {}
        for i, phrase in enumerate(self._phrases):
            self._starting.setdefault(phrase[0], []).append(i)

    def score(self, tsvector: str, tokens: int) -> float:
        """Return the bm25 of a row given its query tokens' positions (a tsvector's text)."""
        raw = {}  # token → its positions as written ("3A,17A"): parsed only when a phrase needs them
        for lexeme, where in _ENTRY.findall(tsvector):
            if "'" in lexeme or "\\" in lexeme:
                lexeme = re.sub(r"\\(.)", r"\1", lexeme.replace("''", "'"))
            raw[lexeme] = where
        found = sorted(i for token in raw for i in self._starting.get(token, ()))
        score = 0.0
        norm = K1 * (1 - B + B * float(tokens) / self._avgdl)
        parsed: dict[str, list[int]] = {}
        for i in found:
            phrase = self._phrases[i]
            if len(phrase) == 1:
                f = float(raw[phrase[0]].count(",") + 1)
            else:
                if any(t not in raw for t in phrase):
                    continue
                for t in phrase:
                    if t not in parsed:
                        parsed[t] = [int(p) for p in raw[t].translate(_WEIGHT).split(",")]
                f = float(phrase_count(phrase, parsed))
                if not f:
                    continue
            score += self._idfs[i] * ((f * (K1 + 1.0)) / (f + norm))
        return score
