"""Select the passages of a topic: retrieve, score, merge near-duplicates, cap, spread.

Steps (``select_passages``):

1. Retrieve candidates from the index with one FTS5 MATCH expression built from the topic:
   ``("t1" OR "t2 phrase" ...) AND ("require" ...) NOT ("exclude" ...)``. Every term is
   quoted as an FTS5 string, so quotes, brackets, ``AND``/``NEAR``/``*`` in a topic file are
   plain text; ``Japan-China`` becomes the phrase "japan china". Up to ``CANDIDATES``
   passages come back, best BM25 first. With a date window only dated sources are kept:
   an undated article cannot be shown to fall inside the window.
2. Score each candidate in Python with ``briefgen.scoring`` (same tokens and stems as the
   index). ``min_score``, ``require`` and ``exclude`` apply to the topic *evidence*::

       evidence = sum over distinct matched terms t of w_t * (1 + REPEAT_BONUS * ln(count_t))
       score    = evidence + bm25 / (bm25 + BM25_HALF)

   The BM25 part (0 to 1) never lifts a passage over ``min_score``; it orders passages
   with equal evidence, preferring short passages dense in topic terms.
3. Merge near-duplicates (``briefgen.dedup``): in score order, a passage that restates a
   better one is recorded in that one's ``corroborated_by`` instead of being shown.
4. Pick up to ``max_passages`` (``limit`` replaces it when given) greedily: at each step the
   passage with the highest ``score * SOURCE_DECAY ** (passages already taken from its
   source)``, never more than ``max_per_source`` from one source. The picks are listed by
   score. Every tie is broken by (doc_id, ordinal), so output is deterministic.
5. For each pick, find the sentence that states the topic best (most evidence; the earliest
   of equals): ``ScoredPassage.key_sentence``, where the brief's key point quotes from.

Steps 3 and 4 run together, lazily: near-duplicate groups are formed in score order only as
far as the picking needs (a passage not yet grouped scores at most the next candidate, so
once that is below the best pick's discounted score, no later passage can win), and then
the remaining candidates are compared with the leaders up to the last pick to complete the
picked passages' ``corroborated_by``. The result is the same as grouping every candidate
first; it costs a few leaders per candidate instead of all of them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import textwrap
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from briefgen.dedup import NearDuplicateGroups, content_stem_sets
from briefgen.errors import ConfigError
from briefgen.models import Passage, ScoredPassage, Source, TopicSelection
from briefgen.passages import sentence_spans
from briefgen.scoring import Analyzer, CompiledTopic, Evidence

if TYPE_CHECKING:
    from briefgen.config import LoadedConfig, Topic
    from briefgen.index import Index

CANDIDATES = 1000  # passages retrieved by BM25 before Python scoring
BM25_HALF = 5.0  # the BM25 value that adds 0.5 to the score
SOURCE_DECAY = 0.7  # each passage already taken from a source scales its others by this


@dataclass(frozen=True, slots=True)
class _Candidate:
    passage: Passage
    source: Source
    evidence: Evidence
    bm25: float
    stems: tuple[str, ...]  # the passage's tokens, for near-duplicate detection

    @property
    def score(self) -> float:
        return self.evidence.evidence + bm25_bonus(self.bm25)

    @property
    def key(self) -> tuple[float, str, int]:
        return (-self.score, self.passage.doc_id, self.passage.ordinal)

    def scored(
        self, corroborated_by: tuple[ScoredPassage, ...] = (), key_sentence: int = 0
    ) -> ScoredPassage:
        return ScoredPassage(
            self.passage, self.source, self.score, self.evidence.matched, corroborated_by,
            key_sentence,
        )


def bm25_bonus(bm25: float) -> float:
    """Map BM25 relevance (0 to ∞) to the 0-to-1 part of a passage's score."""
    bm25 = max(bm25, 0.0)
    return bm25 / (bm25 + BM25_HALF)


def find_topic(cfg: LoadedConfig, topic_key: str) -> Topic:
    """Return a configured topic, or raise ConfigError with a did-you-mean hint."""
    topic = cfg.topics.get(topic_key)
    if topic is not None:
        return topic
    known = sorted(cfg.topics)
    close = difflib.get_close_matches(topic_key, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listing = ", ".join(known) if known else "none; add one under topics: or with --topic-file"
    raise ConfigError(f"{cfg.path.name}: unknown topic '{topic_key}'{hint}; topics: {listing}")


def date_window(
    topic: Topic, as_of: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """Return the (from, to) dates a topic allows, both inclusive; None = open."""
    start, end = topic.date_from, topic.date_to
    if topic.within_days is not None:
        day = as_of or dt.date.today()
        recent = day - dt.timedelta(days=topic.within_days)
        start = recent if start is None else max(start, recent)
        end = day if end is None else min(end, day)
    return start, end


def select_topic(
    cfg: LoadedConfig,
    topic_key: str,
    *,
    limit: int | None = None,
    as_of: dt.date | None = None,
    index: Index | None = None,
) -> TopicSelection:
    """Select the passages of a configured topic (opening the index if none is given)."""
    topic = find_topic(cfg, topic_key)
    if index is not None:
        return select_passages(topic, index, key=topic_key, limit=limit, as_of=as_of)
    from briefgen.index import open_index

    with open_index(cfg) as opened:
        return select_passages(topic, opened, key=topic_key, limit=limit, as_of=as_of)


def select_passages(
    topic: Topic,
    index: Index,
    *,
    key: str,
    limit: int | None = None,
    as_of: dt.date | None = None,
) -> TopicSelection:
    """Select a topic's passages from the index: scored, merged, capped and spread."""
    analyzer = Analyzer()
    try:
        compiled = CompiledTopic(topic, analyzer)
        candidates = _candidates(compiled, index, as_of)
        groups = NearDuplicateGroups(content_stem_sets([c.stems for c in candidates], analyzer))
        wanted = topic.max_passages if limit is None else limit
        picked = _spread(candidates, groups, wanted, topic.max_per_source)
        groups.complete(picked)
        return TopicSelection(key, topic.title, topic.description, tuple(
            candidates[i].scored(
                tuple(candidates[j].scored() for j in groups.members[i]),
                key_sentence(compiled, candidates[i].passage.text),
            )
            for i in picked
        ))
    finally:
        analyzer.close()


def key_sentence(compiled: CompiledTopic, text: str) -> int:
    """Return where the sentence of ``text`` that best states the topic begins.

    That is the sentence with the most topic evidence; of equals, the earliest, so a passage
    whose opening sentence is as strong as any other keeps its opening (the brief's key
    points quote from there).
    """
    spans = sentence_spans(text)
    if len(spans) < 2:
        return 0
    stems = compiled.analyzer.stems_many([text[start:end] for start, end in spans])
    evidence = [compiled.score(s).evidence for s in stems]
    best = max(range(len(spans)), key=lambda i: (evidence[i], -i))
    return spans[best][0] if best else 0


def _candidates(compiled: CompiledTopic, index: Index, as_of: dt.date | None) -> list[_Candidate]:
    """Retrieve and score the passages that qualify for the topic, best first."""
    match = compiled.match_query()
    if not match:
        return []
    start, end = date_window(compiled.topic, as_of)
    if start is not None and end is not None and start > end:
        return []
    hits = index.search(
        match,
        limit=CANDIDATES,
        date_from=start.isoformat() if start else None,
        date_to=end.isoformat() if end else None,
    )
    texts = [passage.text for passage, _, _ in hits]
    out = []
    for (passage, source, bm25), stems in zip(hits, compiled.analyzer.stems_many(texts)):
        evidence = compiled.score(stems)
        if evidence.qualifies(compiled.topic.min_score):
            out.append(_Candidate(passage, source, evidence, bm25, stems))
    out.sort(key=lambda c: c.key)
    return out


def _spread(
    candidates: list[_Candidate], groups: NearDuplicateGroups, wanted: int, per_source: int
) -> list[int]:
    """Pick group leaders greedily, discounting sources already used; return them by score.

    ``candidates`` are best first and ``groups`` finds their leaders in that order, as far
    as needed: a leader not found yet scores at most the next ungrouped candidate, and its
    discounted score is no higher, so it cannot beat a pick worth more than that.
    """
    used: Counter[str] = Counter()

    def rank(i: int) -> tuple[float, str, int]:
        c = candidates[i]
        return (-c.score * SOURCE_DECAY ** used[c.source.doc_id], c.passage.doc_id,
                c.passage.ordinal)

    pool: list[int] = []
    picked: list[int] = []
    while len(picked) < wanted:
        pool = [i for i in pool if used[candidates[i].source.doc_id] < per_source]
        best = min(pool, key=rank, default=None)
        while groups.classified < len(candidates) and (
            best is None or candidates[groups.classified].score >= -rank(best)[0]
        ):
            leader = groups.next_leader()
            if leader is None:
                break
            if used[candidates[leader].source.doc_id] < per_source:
                pool.append(leader)
                if best is None or rank(leader) < rank(best):
                    best = leader
        if best is None:
            break
        picked.append(best)
        used[candidates[best].source.doc_id] += 1
        pool.remove(best)
    return sorted(picked)  # candidates are in score order, ties broken by (doc_id, ordinal)


def selection_to_json(selection: TopicSelection, cfg: LoadedConfig) -> dict[str, Any]:
    """Return the ``select --json`` object for a selection."""
    return {
        "topic": selection.topic,
        "passages": [
            {
                "doc_id": sp.passage.doc_id,
                "source_path": sp.source.source_path,
                "start": sp.passage.start,
                "end": sp.passage.end,
                "text": sp.passage.text,
                "score": round(sp.score, 4),
                "matched": list(sp.matched),
            }
            for sp in selection.passages
        ],
    }


def format_selection(selection: TopicSelection, cfg: LoadedConfig, *, explain: bool) -> str:
    """Return a selection as text for a person; with ``explain``, say why each was chosen."""
    count = len(selection.passages)
    lines = [f"{selection.title} [{selection.topic}]: {count} passage{'s' * (count != 1)}"]
    if selection.description:
        lines.append(selection.description)
    if not selection.passages:
        lines.append("(nothing in the corpus scores above this topic's min_score)")
    topic = cfg.topics.get(selection.topic)
    explainer = _Explainer(topic) if explain and topic is not None else None
    try:
        for n, sp in enumerate(selection.passages, 1):
            p = sp.passage
            lines.append("")
            lines.append(
                f"{n}. {p.doc_id} ¶{p.ordinal}  score {sp.score:.2f}  "
                f"({sp.source.source_path}:{p.start}-{p.end})"
            )
            lines.extend(textwrap.wrap(p.text, 88, initial_indent="   ", subsequent_indent="   "))
            if explainer is not None:
                lines.extend(explainer.explain(sp))
            elif sp.corroborated_by:
                lines.append(f"   also said in: {_where(sp.corroborated_by)}")
    finally:
        if explainer is not None:
            explainer.close()
    return "\n".join(lines)


def _where(passages: tuple[ScoredPassage, ...]) -> str:
    return ", ".join(f"{c.passage.doc_id} ¶{c.passage.ordinal}" for c in passages)


class _Explainer:
    """Recompute a selected passage's evidence to show the terms, weights and BM25."""

    def __init__(self, topic: Topic) -> None:
        self.analyzer = Analyzer()
        self.compiled = CompiledTopic(topic, self.analyzer)

    def explain(self, sp: ScoredPassage) -> list[str]:
        evidence = self.compiled.score(self.analyzer.stems(sp.passage.text))
        terms = ", ".join(
            f"{term.label} ({term.weight:g}{f' ×{count}' if count > 1 else ''})"
            for term, count in evidence.hits
        )
        bonus = min(max(sp.score - evidence.evidence, 0.0), 0.999999)
        bm25 = BM25_HALF * bonus / (1 - bonus)  # the inverse of bm25_bonus()
        out = [
            f"   matched: {terms}",
            (f"   evidence {evidence.evidence:.2f} (min_score {self.compiled.topic.min_score:g})"
            f" + BM25 {bm25:.2f} → {bonus:.2f} = score {sp.score:.2f}"),
        ]
        if sp.corroborated_by:
            out.append(f"   near-duplicates merged: {_where(sp.corroborated_by)}")
        return out

    def close(self) -> None:
        self.analyzer.close()
