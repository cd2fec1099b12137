"""Select the passages of a topic: retrieve, score, merge near-duplicates, cap, spread.

Steps (``select_passages``):

1. Retrieve candidates from the store with one backend-neutral ``TopicQuery`` (any term,
   one ``require`` term, no ``exclude`` term; ``Japan-China`` is the phrase "japan china").
   Up to ``CANDIDATES`` passages come back, most relevant first. With a date window only
   dated sources are kept: an undated article cannot be shown to fall inside the window.
   With ``as_of`` (the corpus as it stood that day), sources dated after it are left out and
   undated ones kept.
2. Score each candidate in Python with ``briefgen.select.scoring`` (same tokens and stems as the
   index). ``min_score``, ``require`` and ``exclude`` apply to the topic *evidence*::

       evidence = sum over distinct matched terms t of w_t * (1 + REPEAT_BONUS * ln(count_t))
       score    = evidence + relevance / (relevance + store.relevance_half)

   The BM25 part (0 to 1) never lifts a passage over ``min_score``; it orders passages
   with equal evidence, preferring short passages dense in topic terms.
3. Merge near-duplicates (``briefgen.select.dedup``): in score order, a passage that restates a
   better one is recorded in that one's ``corroborated_by`` instead of being shown.
4. Pick up to ``max_passages`` (``limit`` replaces it when given) greedily (``briefgen.select.spread``): at each step the
   passage with the highest ``score * SOURCE_DECAY ** (passages already taken from its
   source)``, never more than ``max_per_source`` from one source. The picks are listed by
   score. Every tie is broken by (doc_id, ordinal), so output is deterministic.
5. For each pick, find the sentence that states the topic best (one with a ``require`` term
   first, then the most evidence; the earliest of equals): ``ScoredPassage.key_sentence``,
   where the brief's key point quotes from.

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
from typing import TYPE_CHECKING

from briefgen.errors import ConfigError
from briefgen.index.backends import open_store
from briefgen.models import TopicSelection
from briefgen.select.context import NO_EVIDENCE, article_evidence
from briefgen.select.dedup import NearDuplicateGroups, content_stem_sets
from briefgen.select.scoring import CompiledTopic
from briefgen.select.semantic import semantic_enabled, semantic_similarity
from briefgen.select.spread import Candidate, spread
from briefgen.text import sentence_spans

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig, Topic
    from briefgen.index.base import Store

CANDIDATES = 1000  # passages retrieved by the store before Python scoring
#: For a brief's section (no --limit): how many of the candidates with the most term evidence
#: get the article-context and semantic parts, the costly ones (tokenizing, embedding). A
#: section shows a handful of passages; `select --limit` and `topic fit` score every candidate.
ENRICHED = 300


def find_topic(cfg: LoadedConfig, topic_key: str) -> Topic:
    """Return a configured topic, or raise ConfigError with a did-you-mean hint."""
    topic = cfg.topics.get(topic_key)
    if topic is not None:
        return topic
    known = sorted(cfg.topics)
    close = difflib.get_close_matches(topic_key, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listing = ", ".join(known) if known else "none; add one under topics: or with --topic-file"
    raise ConfigError(
        f"{cfg.path.name}: unknown topic '{topic_key}'{hint}; known topics: {listing}"
        + ("; `briefgen topics` describes them" if known else "")
    )


def date_window(
    topic: Topic, as_of: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """Return the (from, to) dates a topic allows, both inclusive; None = open."""
    start, end = topic.date_from, topic.date_to
    if topic.within_days is not None:
        day = as_of or dt.date.today()
        # Clamped: `--as-of 0001-01-01` with within_days must not overflow the calendar.
        recent = dt.date.fromordinal(max(1, day.toordinal() - topic.within_days))
        start = recent if start is None else max(start, recent)
        end = day if end is None else min(end, day)
    return start, end


def windowed(topic: Topic, *, since: dt.date | None = None, within_days: int | None = None) -> Topic:
    """Narrow a topic's date window to a run's ``--since`` / ``--within-days`` (the narrower wins)."""
    update: dict[str, object] = {}
    if within_days is not None:
        update["within_days"] = min(within_days, topic.within_days or within_days)
    if since is not None:
        update["date_from"] = max(since, topic.date_from or since)
    return topic.model_copy(update=update) if update else topic


def select_topic(
    cfg: LoadedConfig,
    topic_key: str,
    *,
    limit: int | None = None,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    within_days: int | None = None,
    store: Store | None = None,
) -> TopicSelection:
    """Select the passages of a configured topic (opening the store if none is given).

    ``as_of``: the corpus as it stood that day (sources dated later left out); ``since`` and
    ``within_days`` narrow the topic's own date window for this run.
    """
    topic = windowed(find_topic(cfg, topic_key), since=since, within_days=within_days)
    if store is not None:
        return select_passages(topic, store, key=topic_key, limit=limit, as_of=as_of)
    with open_store(cfg) as opened:
        return select_passages(topic, opened, key=topic_key, limit=limit, as_of=as_of)


def select_passages(
    topic: Topic,
    store: Store,
    *,
    key: str,
    limit: int | None = None,
    as_of: dt.date | None = None,
) -> TopicSelection:
    """Select a topic's passages from the store: scored, merged, capped and spread.

    Without ``limit``: exactly what the brief's section shows (``max_passages``, at most
    ``max_per_source`` from one article). With ``limit``: up to that many passages above the
    threshold, near-duplicates merged, without the per-source cap (``select --limit``).
    """
    analyzer = store.analyzer()
    try:
        compiled = CompiledTopic(topic, analyzer)
        retrieve, enrich = (CANDIDATES, ENRICHED) if limit is None else (max(CANDIDATES, limit), None)
        candidates = scored_candidates(compiled, store, as_of, retrieve=retrieve, enrich=enrich)
        groups = NearDuplicateGroups(content_stem_sets([c.stems for c in candidates], analyzer))
        wanted, per_source = (
            (topic.max_passages, topic.max_per_source) if limit is None else (limit, limit)
        )
        picked = spread(candidates, groups, wanted, per_source)
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

    That is a sentence holding a ``require`` term (when the topic has them) with the most
    topic evidence; of equals, the earliest, so a passage whose opening sentence is as strong
    as any other keeps its opening (the brief's key points quote from there).
    """
    spans = sentence_spans(text)
    if len(spans) < 2:
        return 0
    stems = compiled.analyzer.stems_many([text[start:end] for start, end in spans])
    scores = [compiled.score(s) for s in stems]
    best = max(range(len(spans)), key=lambda i: (
        scores[i].required and scores[i].evidence > 0, scores[i].evidence, -i))
    return spans[best][0] if best else 0


def scored_candidates(
    compiled: CompiledTopic,
    store: Store,
    as_of: dt.date | None,
    *,
    retrieve: int = CANDIDATES,
    enrich: int | None = None,
) -> list[Candidate]:
    """Retrieve and score the passages that qualify for the topic, best first.

    ``enrich``: only the best this many candidates by term evidence get the article-context and
    semantic parts (the others must qualify on their terms); None: every candidate.
    """
    start, end = date_window(compiled.topic, as_of)
    if start is not None and end is not None and start > end:
        return []
    hits = store.search(compiled.query(
        date_from=start.isoformat() if start else None,
        date_to=end.isoformat() if end else None,
        limit=retrieve,
        as_of=as_of.isoformat() if as_of else None,
    ))
    texts = [hit.passage.text for hit in hits]
    topic = compiled.topic
    scored = [(hit, stems, compiled.score(stems))
              for hit, stems in zip(hits, compiled.analyzer.stems_many(texts), strict=True)]
    scored = [(hit, stems, ev) for hit, stems, ev in scored if ev.required and ev.excluded_by is None]
    if enrich is not None and len(scored) > enrich:
        # Stable: of equal evidence, the store's more relevant hit first.
        scored.sort(key=lambda item: -item[2].evidence)
    rich = scored if enrich is None else scored[:enrich]
    context = (
        article_evidence(compiled, store, (hit.source for hit, _, _ in rich))
        if topic.context_weight else {}
    )
    similarity = (
        semantic_similarity(topic, [hit.passage.text for hit, _, _ in rich])
        if semantic_enabled(topic) else []
    )
    out = []
    for i, (hit, stems, evidence) in enumerate(scored):
        parts = [("evidence", evidence.evidence)]
        if topic.context_weight and i < len(rich):
            article = context.get(hit.source.doc_id, NO_EVIDENCE)
            parts.append(("context", topic.context_weight * article.total))
        if similarity and i < len(rich):
            parts.append(("semantic", topic.semantic_weight * similarity[i]))
        # The threshold applies to the topic signals; relevance only orders equals.
        if sum(value for _, value in parts) >= topic.min_score:
            parts.append(("relevance", relevance_bonus(hit.relevance, store.relevance_half)))
            out.append(Candidate(hit.passage, hit.source, evidence, tuple(parts), stems))
    out.sort(key=lambda c: c.key)
    return out


def relevance_bonus(relevance: float, half: float) -> float:
    """Map a store's relevance (0 to ∞) to the 0-to-1 part of a passage's score."""
    relevance = max(relevance, 0.0)
    return relevance / (relevance + half)
