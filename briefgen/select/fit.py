"""Fit a topic to labelled articles: term weights, context and semantic weights, min_score.

``briefgen topic fit TOPIC --labels FILE`` reads labels (CSV ``doc_id,label`` with 1/0; rows
``doc_id,start,end,label`` label one passage, and an article with a positive passage counts as
positive), scores every candidate passage of the labelled articles with the product's own
scorer (``select.selection.scored_candidates``: same retrieval, evidence, article context and
semantic similarity as ``select``), and searches the weights:

- an article's score is the best score of its passages: ``Σ_t w_t·(f_t(passage) + c·F_t(article))
  + s·similarity`` — linear in the term weights ``w``, so each candidate is kept as its
  per-term factors;
- ``context_weight`` ``c`` and ``semantic_weight`` ``s`` on a grid, ``min_score`` at the best F1
  threshold, term weights by coordinate ascent over a grid;
- k-fold cross-validation (seeded, stratified): each fold is scored by weights fitted on the
  others, so the reported P/R/F1 are held-out figures; the proposed topic is then fitted on all.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from briefgen.errors import ConfigError
from briefgen.select.context import article_texts
from briefgen.select.scoring import CompiledTopic
from briefgen.select.selection import scored_candidates

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from briefgen.config.schema import Topic
    from briefgen.index.base import Store

CONTEXT_GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.0, 4.0)
SEMANTIC_GRID = (0.0, 2.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0)
WEIGHT_GRID = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0)
FOLDS, SEED, ROUNDS = 5, 20261206, 2
RETRIEVE = 200_000


@dataclass(frozen=True)
class Features:
    """Every candidate passage of the labelled articles, as per-term factors."""

    terms: tuple[str, ...]  # column order
    weights: NDArray[np.float64]  # the topic's own weights
    passage: NDArray[np.float64]  # candidates × terms: 1 + ln(count) in the passage
    article: NDArray[np.float64]  # candidates × terms: summed over headline, lead, whole
    similarity: NDArray[np.float64]  # per candidate
    doc: NDArray[np.int64]  # per candidate: index into ``docs``
    docs: tuple[str, ...]
    labels: NDArray[np.bool_]  # per doc


@dataclass(frozen=True)
class Params:
    """A fitted topic: weights per term, context and semantic weights, min_score."""

    weights: NDArray[np.float64]
    context: float
    semantic: float
    min_score: float


@dataclass(frozen=True)
class Counts:
    """Selected, correct and positive articles: precision, recall, F1."""

    selected: int = 0
    correct: int = 0
    positives: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.selected + other.selected, self.correct + other.correct,
                      self.positives + other.positives)

    @property
    def precision(self) -> float:
        return self.correct / self.selected if self.selected else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.positives if self.positives else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def read_labels(path: Path) -> dict[str, bool]:
    """Read ``doc_id,label`` (or ``doc_id,start,end,label``) rows; a header row is allowed."""
    labels: dict[str, bool] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.reader(fh), 1):
                if not row or (n == 1 and row[-1].strip().lower() == "label"):
                    continue
                if len(row) not in (2, 4) or row[-1].strip() not in ("0", "1"):
                    raise ConfigError(f"{path}:{n}: expected doc_id,label or doc_id,start,end,label "
                                      "with label 1 or 0")
                labels[row[0].strip()] = labels.get(row[0].strip(), False) or row[-1].strip() == "1"
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the labels ({exc.strerror})") from exc
    if not any(labels.values()) or all(labels.values()):
        raise ConfigError(f"{path}: the labels need both positive (1) and negative (0) articles")
    return labels


def collect_features(topic: Topic, store: Store, labels: dict[str, bool]) -> Features:
    """Score every candidate passage of the labelled articles with the product's scorer."""
    probe = topic.model_copy(update={"min_score": 0.0, "context_weight": 0.0,
                                     "semantic_weight": 1.0 if topic.semantic else 0.0})
    analyzer = store.analyzer()
    try:
        compiled = CompiledTopic(probe, analyzer)
        candidates = [c for c in scored_candidates(compiled, store, None, retrieve=RETRIEVE)
                      if c.source.doc_id in labels]
        terms = tuple(t.label for t in compiled.terms)
        column = {label: i for i, label in enumerate(terms)}
        docs = tuple(sorted(labels))
        row_of = {d: i for i, d in enumerate(docs)}
        passage = np.zeros((len(candidates), len(terms)))
        for i, c in enumerate(candidates):
            for term, count in c.evidence.hits:
                passage[i, column[term.label]] = 1.0 + math.log(count)
        article = _article_factors(compiled, store, candidates, column)
        similarity = np.array([dict(c.parts).get("semantic", 0.0) for c in candidates])
        weights = np.array([t.weight for t in compiled.terms])
    finally:
        analyzer.close()
    return Features(terms, weights, passage, article, similarity,
                    np.array([row_of[c.source.doc_id] for c in candidates], dtype=np.int64),
                    docs, np.array([labels[d] for d in docs]))


def _article_factors(compiled: CompiledTopic, store: Store, candidates: Sequence[object],
                     column: dict[str, int]) -> NDArray[np.float64]:
    """Return each candidate's article factors (headline + lead + whole, per term)."""
    sources = {c.source.doc_id: c.source for c in candidates}  # type: ignore[attr-defined]
    passages = store.passages_of(sorted(sources))
    per_doc: dict[str, NDArray[np.float64]] = {}
    for doc_id, source in sources.items():
        texts = article_texts(source, [p.text for p in passages.get(doc_id, [])])
        row = np.zeros(len(column))
        for stems in compiled.analyzer.stems_many(texts):
            for term, count in compiled.score(stems).hits:
                row[column[term.label]] += 1.0 + math.log(count)
        per_doc[doc_id] = row
    return np.array([per_doc[c.source.doc_id] for c in candidates]).reshape(len(candidates), len(column))  # type: ignore[attr-defined]


def article_scores(f: Features, rows: NDArray[np.bool_] | None, weights: NDArray[np.float64],
                   context: float, semantic: float) -> NDArray[np.float64]:
    """Return every article's score (its best passage's), -inf for one without candidates."""
    scores = (f.passage + context * f.article) @ weights + semantic * f.similarity
    best = np.full(len(f.docs), -np.inf)
    np.maximum.at(best, f.doc, scores)
    return best if rows is None else best[rows]


def best_threshold(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> tuple[float, float]:
    """Return (F1, min_score) with the best F1 when articles scoring >= min_score are kept."""
    positives = int(labels.sum())
    order = np.argsort(-scores, kind="stable")
    ranked, gold = scores[order], labels[order]
    best = (0.0, math.inf)
    correct = 0
    for k in range(len(ranked)):
        if not np.isfinite(ranked[k]):
            break
        correct += int(gold[k])
        if k + 1 < len(ranked) and ranked[k + 1] == ranked[k]:
            continue  # a threshold cannot split equal scores
        f1 = 2 * correct / (k + 1 + positives) if k + 1 + positives else 0.0
        if f1 > best[0]:
            best = (f1, float(ranked[k]))
    return best


def counts(f: Features, rows: NDArray[np.bool_], p: Params) -> Counts:
    """Count selected, correct and positive articles among ``rows`` under ``p``."""
    chosen = article_scores(f, rows, p.weights, p.context, p.semantic) >= p.min_score
    gold = f.labels[rows]
    return Counts(int(chosen.sum()), int((chosen & gold).sum()), int(gold.sum()))


def fit(f: Features, rows: NDArray[np.bool_], *, fit_weights: bool = True,
        semantic: bool = True) -> Params:
    """Fit context and semantic weights, term weights and min_score on ``rows``."""
    labels = f.labels[rows]

    def grid(weights: NDArray[np.float64]) -> tuple[float, Params]:
        best = (-1.0, Params(weights, 0.0, 0.0, math.inf))
        for c in CONTEXT_GRID:
            for s in SEMANTIC_GRID if semantic else (0.0,):
                f1, t = best_threshold(article_scores(f, rows, weights, c, s), labels)
                if f1 > best[0]:
                    best = (f1, Params(weights, c, s, t))
        return best

    score, params = grid(f.weights.copy())
    if not fit_weights:
        return params
    for _ in range(ROUNDS):
        weights = params.weights.copy()
        for j in range(len(f.terms)):
            for value in WEIGHT_GRID:
                trial = weights.copy()
                trial[j] = value
                f1, t = best_threshold(article_scores(f, rows, trial, params.context, params.semantic), labels)
                if f1 > score + 1e-9:
                    score, weights = f1, trial
                    params = Params(trial, params.context, params.semantic, t)
        score, params = grid(params.weights)
    return params


def folds(labels: NDArray[np.bool_], k: int = FOLDS, seed: int = SEED) -> list[NDArray[np.bool_]]:
    """Return k held-out masks, stratified by label, seeded."""
    rng = random.Random(seed)
    assignment = np.zeros(len(labels), dtype=np.int64)
    for value in (True, False):
        idx = [i for i in range(len(labels)) if bool(labels[i]) == value]
        rng.shuffle(idx)
        for n, i in enumerate(idx):
            assignment[i] = n % k
    return [assignment == fold for fold in range(k)]


def cross_validate(f: Features, *, fit_weights: bool = True, semantic: bool = True) -> Counts:
    """Return held-out counts: each fold scored with parameters fitted on the other folds."""
    total = Counts()
    for held in folds(f.labels):
        params = fit(f, ~held, fit_weights=fit_weights, semantic=semantic)
        total += counts(f, held, params)
    return total


def as_is(f: Features, topic: Topic) -> Counts:
    """Return the counts of the topic as written, on every labelled article."""
    params = Params(f.weights, topic.context_weight,
                    topic.semantic_weight if topic.semantic else 0.0, topic.min_score)
    return counts(f, np.ones(len(f.docs), dtype=bool), params)
