"""Score text against a topic, with the tokens of the store's own analyzer.

Tokens come from ``Store.analyzer()`` (for SQLite: FTS5's own tokenizer), so Python-side
matching agrees with retrieval by construction. A term such as ``Japan-China``,
``self-defense`` or ``U.S.`` is the phrase of its tokens (``japan china``), so it also matches
"Japan, China"; there are no wildcards.

Topic evidence of a text (a passage, a sentence, or a whole article)::

    evidence = sum over distinct matched terms t of  w_t * (1 + REPEAT_BONUS * ln(count_t))

A term with a space is a phrase (consecutive tokens). A phrase and its words are separate
terms, so "defense spending" also counts "defense" if that is a term too. Terms that stem
to the same tokens ("tariff", "tariffs") are one term with the largest weight. A text
qualifies when evidence >= ``min_score``, at least one ``require`` term occurs (when the
list is non-empty) and no ``exclude`` term occurs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from briefgen.config.schema import Topic
from briefgen.index.base import Analyzer, Phrase, TopicQuery

# Sublinear term frequency (1 + ln count): 1 occurrence = w, 2 = 1.69 w, 4 = 2.39 w, 10 = 3.30 w.
REPEAT_BONUS = 1.0


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

    def query(
        self,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 1000,
        as_of: str | None = None,
    ) -> TopicQuery:
        """Return the store query retrieving the topic's candidates."""

        def phrases(terms: tuple[Term, ...]) -> tuple[Phrase, ...]:
            return tuple(Phrase(t.label, t.stems) for t in terms)

        return TopicQuery(phrases(self.terms), phrases(self.require), phrases(self.exclude),
                          date_from, date_to, limit, as_of)

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


def score_texts(topic: Topic, texts: Iterable[str], analyzer: Analyzer) -> list[Evidence]:
    """Score several texts against a topic with a store's analyzer."""
    compiled = CompiledTopic(topic, analyzer)
    return [compiled.score(s) for s in analyzer.stems_many(list(texts))]
