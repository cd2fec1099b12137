"""Tokens as the SQLite index makes them: its own FTS5 tokenizer, run on an in-memory table.

Text is tokenized by SQLite's FTS5 tokenizer (``porter unicode61 remove_diacritics 2``, the
index's) and read back through ``fts5vocab``. So Python-side matching agrees with the index by
construction: case folded, diacritics removed, split at every character that is not a letter
or digit, Porter-stemmed ("tariffs" = "tariff", "trading" = "trade"). A term such as
``Japan-China``, ``self-defense`` or ``U.S.`` is the phrase of its tokens (``japan china``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from itertools import chain

from briefgen.index.sqlite.schema import TOKENIZE

# What the tokenizer keeps of ASCII text (after lowercasing): every other character separates.
_ASCII_WORD = re.compile(r"[a-z0-9]+")
WORD_CACHE_MAX = 500_000  # distinct words remembered per tokenizer (about 50 MB at most)
_WORDS_PER_ROW = 1000  # one-token words sent to the tokenizer together, as one row
_ROWS_PER_ROUND = 20_000  # rows tokenized at once (bounds the in-memory table)
_WORDS: dict[str, dict[str, tuple[str, ...]]] = {}  # tokenizer → word → its stemmed tokens


class FtsAnalyzer:
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
