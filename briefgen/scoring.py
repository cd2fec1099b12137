"""Score text against a topic, with the same tokens the index uses.

Tokens. Text is tokenized by SQLite's own FTS5 tokenizer (``porter unicode61
remove_diacritics 2``, the index's), run on an in-memory table and read back through ``fts5vocab``. So Python-side
matching agrees with the index by construction: case folded, diacritics removed, split at
every character that is not a letter or digit, Porter-stemmed ("tariffs" = "tariff",
"trading" = "trade"). A term such as ``Japan-China``, ``self-defense`` or ``U.S.`` is the
phrase of its tokens (``japan china``), so it also matches "Japan, China"; there are no
wildcards.

Topic evidence of a text (a passage, or a whole document in ``benchmarks/eval_topics.py``)::

    evidence = sum over distinct matched terms t of  w_t * (1 + REPEAT_BONUS * ln(count_t))

A term with a space is a phrase (consecutive tokens). A phrase and its words are separate
terms, so "defense spending" also counts "defense" if that is a term too. Terms that stem
to the same tokens ("tariff", "tariffs") are one term with the largest weight. A text
qualifies when evidence >= ``min_score``, at least one ``require`` term occurs (when the
list is non-empty) and no ``exclude`` term occurs.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from briefgen.config import Topic

# The index's tokenizer (briefgen/index.py, passages_fts); tests check they agree.
TOKENIZE = "porter unicode61 remove_diacritics 2"

# Sublinear term frequency (1 + ln count): 1 occurrence = w, 2 = 1.69 w, 4 = 2.39 w, 10 = 3.30 w.
REPEAT_BONUS = 1.0

# What the tokenizer keeps of ASCII text (after lowercasing): every other character separates.
_ASCII_WORD = re.compile(r"[a-z0-9]+")
WORD_CACHE_MAX = 500_000  # distinct words remembered per tokenizer (about 50 MB at most)
_WORDS_PER_ROW = 1000  # one-token words sent to the tokenizer together, as one row
_ROWS_PER_ROUND = 20_000  # rows tokenized at once (bounds the in-memory table)
_WORDS: dict[str, dict[str, tuple[str, ...]]] = {}  # tokenizer → word → its stemmed tokens


class Analyzer:
    """Turn text into the index's stemmed tokens, using SQLite's FTS5 tokenizer itself.

    Every whitespace character is a separator for the tokenizer, so a text's tokens are the
    tokens of its whitespace-separated words, in order; in ASCII text the tokenizer only
    keeps runs of letters and digits and lowercases them, so those runs are its words. Words
    recur far more than texts do, so each distinct word goes through SQLite once (to be
    stemmed, and split if need be) and is remembered by every analyzer of the process
    (the topics of a brief share most of their words).
    """

    def __init__(self, tokenize: str = TOKENIZE) -> None:
        self._db = sqlite3.connect(":memory:")
        quoted = tokenize.replace("'", "''")
        # Contentless: only the tokens are needed, and 'delete-all' empties it at once.
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, content='', tokenize='{quoted}')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._words = _WORDS.setdefault(tokenize, {})

    def stems_many(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Return the stemmed tokens of each text, in order."""
        split = [
            _ASCII_WORD.findall(text.lower()) if text.isascii()
            # NUL would end the text early inside SQLite's tokenizer.
            else text.replace("\x00", " ").split()
            for text in texts
        ]
        words = self._words
        seen = set(chain.from_iterable(split))
        new = seen.difference(words)
        if len(words) + len(new) > WORD_CACHE_MAX:
            words.clear()  # a bounded memory for long-running processes (evaluation, scheduler)
            new = seen
        self._tokenize_words(sorted(new))
        return [tuple(chain.from_iterable(map(words.__getitem__, ws))) for ws in split]

    def _tokenize_words(self, batch: list[str]) -> None:
        """Tokenize words (no whitespace in them) through FTS5 and remember their stems.

        A word of ASCII letters and digits only (every word of an ASCII text) is one run of
        token characters, which the tokenizer turns into exactly one token; so such words
        share rows, space-separated, and a row's n-th token is its n-th word's. Any other word
        may give no token or several ("u.s.", "日本と中国"): it gets a row of its own.
        """
        simple = [w for w in batch if w.isascii() and w.isalnum()]
        others = [w for w in batch if not (w.isascii() and w.isalnum())]
        groups = [simple[i : i + _WORDS_PER_ROW] for i in range(0, len(simple), _WORDS_PER_ROW)]
        for group, row in zip(groups, self._tokenize_rows([" ".join(g) for g in groups])):
            if len(row) == len(group):
                self._words.update(zip(group, ((token,) for token in row)))
            else:  # cannot happen (see above); if it did, a row per word keeps it exact
                others += group
        for word, row in zip(others, self._tokenize_rows(others)):
            self._words[word] = tuple(row)

    def _tokenize_rows(self, rows: list[str]) -> list[list[str]]:
        """Return each row's tokens, in order, as the FTS5 tokenizer makes them."""
        out: list[list[str]] = []
        for start in range(0, len(rows), _ROWS_PER_ROUND):
            chunk = rows[start : start + _ROWS_PER_ROUND]
            with self._db:
                self._db.execute("INSERT INTO t(t) VALUES ('delete-all')")
                self._db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(chunk))
            found: list[dict[int, str]] = [{} for _ in chunk]
            for doc, offset, term in self._db.execute("SELECT doc, offset, term FROM v"):
                found[doc][offset] = term
            out += [[row[k] for k in sorted(row)] for row in found]
        return out

    def stems(self, text: str) -> tuple[str, ...]:
        """Return the stemmed tokens of one text."""
        return self.stems_many([text])[0]

    def close(self) -> None:
        """Release the in-memory database."""
        self._db.close()


def fts_phrase(text: str) -> str:
    """Quote user text as one FTS5 phrase; no character can break the query syntax."""
    # Inside "...", FTS5 only interprets the doubled quote; everything else goes to the
    # tokenizer, so AND, NEAR, *, ( ) and ^ are plain words or separators there.
    return '"' + text.replace("\x00", " ").replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class Term:
    """A topic term as written in the config, with its stemmed tokens and weight."""

    label: str
    stems: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """How a text matched a topic."""

    hits: tuple[tuple[Term, int], ...]  # (term, occurrences), in topic order
    evidence: float
    required: bool  # a require term occurs, or the topic has none
    excluded_by: str | None  # the exclude term found, if any

    def qualifies(self, min_score: float) -> bool:
        """Say whether the text belongs in the topic."""
        return self.required and self.excluded_by is None and self.evidence >= min_score

    @property
    def matched(self) -> tuple[str, ...]:
        """Return the labels of the matched terms, in topic order."""
        return tuple(term.label for term, _ in self.hits)


class CompiledTopic:
    """A topic's terms, require and exclude lists as stemmed token sequences."""

    def __init__(self, topic: Topic, analyzer: Analyzer) -> None:
        self.topic = topic
        self.analyzer = analyzer
        analyzer.stems_many([*topic.terms, *topic.require, *topic.exclude])  # one batch
        by_stems: dict[tuple[str, ...], Term] = {}
        for label, weight in topic.terms.items():
            stems = analyzer.stems(label)
            if not stems:
                continue  # nothing searchable in it (e.g. "***")
            old = by_stems.get(stems)
            if old is None or weight > old.weight:
                by_stems[stems] = Term(old.label if old else label, stems, float(weight))
        self.terms: tuple[Term, ...] = tuple(by_stems.values())
        self.require = tuple(
            Term(x, s, 0.0) for x in topic.require if (s := analyzer.stems(x))
        )
        self.exclude = tuple(
            Term(x, s, 0.0) for x in topic.exclude if (s := analyzer.stems(x))
        )
        # A text can only contain the terms whose first token it contains.
        self._first_tokens = frozenset(t.stems[0] for t in self.terms)

    def match_query(self) -> str:
        """Return the FTS5 MATCH expression retrieving the topic's candidates ("" = none)."""
        if not self.terms:
            return ""
        query = "(" + " OR ".join(fts_phrase(t.label) for t in self.terms) + ")"
        if self.require:
            query += " AND (" + " OR ".join(fts_phrase(t.label) for t in self.require) + ")"
        if self.exclude:
            query = "(" + query + ") NOT (" + " OR ".join(
                fts_phrase(t.label) for t in self.exclude
            ) + ")"
        return query

    def score(self, stems: Sequence[str]) -> Evidence:
        """Score one text's stemmed tokens against the topic."""
        counts = Counter(stems)
        hits: list[tuple[Term, int]] = []
        evidence = 0.0
        present = self._first_tokens.intersection(counts)
        for term in self.terms:
            if term.stems[0] not in present:
                continue
            count = _count(term.stems, stems, counts)
            if count:
                hits.append((term, count))
                evidence += term.weight * (1.0 + REPEAT_BONUS * math.log(count))
        required = not self.require or any(_count(t.stems, stems, counts) for t in self.require)
        excluded_by = next(
            (t.label for t in self.exclude if _count(t.stems, stems, counts)), None
        )
        return Evidence(tuple(hits), evidence, required, excluded_by)


def _count(phrase: tuple[str, ...], stems: Sequence[str], counts: Counter[str]) -> int:
    """Count the occurrences of a token sequence in a text (``counts``: its token counts)."""
    if len(phrase) == 1:
        return counts[phrase[0]]
    if not all(counts[stem] for stem in phrase):
        return 0
    n, found, i = len(phrase), 0, -1
    first = phrase[0]
    for _ in range(counts[first]):
        i = stems.index(first, i + 1)
        if tuple(stems[i : i + n]) == phrase:
            found += 1
    return found


def compile_topic(topic: Topic, analyzer: Analyzer | None = None) -> CompiledTopic:
    """Compile a topic for scoring (a fresh analyzer unless one is given)."""
    return CompiledTopic(topic, analyzer or Analyzer())


def score_texts(topic: Topic, texts: Iterable[str]) -> list[Evidence]:
    """Score several texts against a topic (convenience for tests and the evaluation)."""
    analyzer = Analyzer()
    try:
        compiled = CompiledTopic(topic, analyzer)
        return [compiled.score(s) for s in analyzer.stems_many(list(texts))]
    finally:
        analyzer.close()
