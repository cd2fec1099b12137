"""The analyzer's tokens: word by word (and cached) they equal SQLite's FTS5 tokenizer on whole texts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefgen.index.sqlite import analyzer as scoring
from briefgen.index.sqlite.analyzer import FtsAnalyzer
from briefgen.index.sqlite.schema import TOKENIZE

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TRICKY = ["Japan\u2013China", "U.S.-led", "a\u00a0b\u2003c\u2028d\u1680e", "x\x00y z", "tab\tnew\nline",
          "caf\u00e9 na\u00efve e\u0301", "\ufeffBOM", "İstanbul ǅ ß ﬁ", "日本と中国", "a\u200bb", "",
          "   ", "snake_case and kebab-case", "TARIFFS, tariffs; Tariff's", "\x1c\x1d\x85sep"]


def fts5_tokens(texts: list[str]) -> list[tuple[str, ...]]:
    """The reference: each whole text through an FTS5 table, read back in order."""
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZE}')")
    con.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    con.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)",
                    ((i + 1, text.replace("\x00", " ")) for i, text in enumerate(texts)))
    out: list[list[str]] = [[] for _ in texts]
    for doc, term in con.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
        out[doc - 1].append(term)
    return [tuple(tokens) for tokens in out]


def test_analyzer_matches_fts5_on_the_seeds_and_tricky_text() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + TRICKY
    texts += [line for text in texts for line in text.splitlines()]
    analyzer = FtsAnalyzer()
    assert analyzer.stems_many(texts) == fts5_tokens(texts)
    assert analyzer.stems_many(texts) == fts5_tokens(texts)  # again, from the word cache


@given(st.lists(st.text(alphabet=st.sampled_from(
    list("aBz09 .,-'\t\n\x00_") + ["é", "\u0301", "ß", "İ", "\u00a0", "\u2028", "日", "\u200b", "Ω"]
)), max_size=5))
def test_analyzer_matches_fts5_on_any_text(texts: list[str]) -> None:
    assert FtsAnalyzer().stems_many(texts) == fts5_tokens(texts)


def many_words() -> list[str]:
    """Texts with thousands of distinct words, ASCII and not, most of them unseen."""
    seeds = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    words = sorted(set(seeds.split())) + [f"w{i}x" for i in range(2500)]
    words += ["Tariffs", "TRADING", "a" * 300, "0", "42nd", "co-op", "u.s.", "日本と中国", "naïve"]
    return [" ".join(words[i : i + 37]) for i in range(0, len(words), 37)] + TRICKY


def test_words_tokenized_in_shared_rows_match_fts5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "_WORDS", {})  # every word goes through the tokenizer
    texts = many_words()
    assert FtsAnalyzer().stems_many(texts) == fts5_tokens(texts)


def test_a_shared_row_that_does_not_add_up_falls_back_to_a_row_per_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scoring, "_WORDS", {})
    real = FtsAnalyzer._tokenize_rows

    def lose_a_token(self: FtsAnalyzer, rows: list[str]) -> list[list[str]]:
        return [
            tokens[:-1] if " " in row else tokens for row, tokens in zip(rows, real(self, rows))
        ]

    monkeypatch.setattr(FtsAnalyzer, "_tokenize_rows", lose_a_token)
    texts = many_words()
    assert FtsAnalyzer().stems_many(texts) == fts5_tokens(texts)
