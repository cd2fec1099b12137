"""Text search values as the PostgreSQL store writes and reads them, and BM25 as FTS5 computes it.

The tokens are made in Python by the SQLite index's own tokenizer (``FtsAnalyzer``: FTS5's
``porter unicode61 remove_diacritics 2``), so both backends match the very same tokens; they are
stored as a ``tsvector`` written literally (``'tariff':3,17 'japan':5``), which PostgreSQL takes
as is (no parser, no dictionary). A search asks the GIN index for the rows holding every token
of a phrase (``candidate_query``, which it answers without reading positions) and checks the
phrases' adjacency on the rows' positions here (``Ranker``); phrase counts for bm25 use
``phrase_query`` (``'a' <-> 'b'``).

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


def candidate_query(
    any_of: Sequence[Sequence[str]], require: Sequence[Sequence[str]], exclude: Sequence[Sequence[str]]
) -> str:
    """Return a tsquery the GIN index answers exactly (no positions): every token of one of
    ``any_of`` and of one of ``require``, none of the single-word ``exclude``; a superset of the
    matches, which ``Ranker`` narrows to the phrases."""

    def anywhere(phrases: Sequence[Sequence[str]]) -> str:
        return " | ".join("(" + " & ".join(quote(t) for t in p) + ")" for p in phrases)

    query = f"({anywhere(any_of)})"
    if require:
        query += f" & ({anywhere(require)})"
    words = [p for p in exclude if len(p) == 1]
    if words:
        query += f" & !({anywhere(words)})"
    return query


# One entry of a tsvector's text form: 'lexeme':1A,5A (quotes doubled, backslashes escaped).
_ENTRY = re.compile(r"'((?:[^'\\]|''|\\.)*)'(?::([0-9A-D,]+))?")
_WEIGHT = str.maketrans("", "", "ABCD")


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


class Ranker:
    """Decide whether a row matches a search and give its bm25, from its query tokens' positions.

    The server finds the rows with the ``candidate_query`` (every token of a phrase, anywhere: the
    GIN index answers that exactly, without reading each row's positions); here each row's
    phrases are checked for adjacency (what ``<->`` would check, on the same positions),
    and the matches get FTS5's bm25: the phrases of ``any_of`` then ``require``, in query order.
    A phrase absent from a row adds exactly 0.0 to the sum, so only those present are added,
    and a row costs only the phrases that start with one of its tokens.
    """

    def __init__(
        self,
        any_of: Sequence[Sequence[str]],
        require: Sequence[Sequence[str]],
        exclude: Sequence[Sequence[str]],
        idfs: Sequence[float],
        avgdl: float,
    ) -> None:
        self._phrases = [tuple(p) for p in (*any_of, *require)]
        self._alternatives = len(any_of)
        self._requires = bool(require)
        self._exclude = [tuple(p) for p in exclude if len(p) > 1]  # single words: in the query
        self._idfs = list(idfs)
        self._avgdl = avgdl
        self._starting: dict[str, list[int]] = {}
        for i, phrase in enumerate(self._phrases):
            self._starting.setdefault(phrase[0], []).append(i)

    def score(self, tsvector: str, tokens: int) -> float | None:
        """Return the bm25 of a row, or None if it does not match (its positions as a tsvector)."""
        raw: dict[str, str] = {}  # token → its positions as written ("3A,17A"): parsed only when a phrase needs them
        for lexeme, where in _ENTRY.findall(tsvector):
            if "'" in lexeme or "\\" in lexeme:
                lexeme = re.sub(r"\\(.)", r"\1", lexeme.replace("''", "'"))
            raw[lexeme] = where
        parsed: dict[str, list[int]] = {}

        def count(phrase: tuple[str, ...]) -> int:
            if len(phrase) == 1:
                return raw[phrase[0]].count(",") + 1
            if any(t not in raw for t in phrase):
                return 0
            for t in phrase:
                if t not in parsed:
                    parsed[t] = [int(p) for p in raw[t].translate(_WEIGHT).split(",")]
            return phrase_count(phrase, parsed)

        found = [(i, f) for i in sorted(i for t in raw for i in self._starting.get(t, ()))
                 if (f := count(self._phrases[i]))]
        if not found or found[0][0] >= self._alternatives:
            return None  # none of the alternatives is there as a phrase
        if self._requires and found[-1][0] < self._alternatives:
            return None
        if any(count(p) for p in self._exclude if p[0] in raw):
            return None
        score = 0.0
        norm = K1 * (1 - B + B * float(tokens) / self._avgdl)
        for i, f in found:
            score += self._idfs[i] * ((f * (K1 + 1.0)) / (f + norm))
        return score
