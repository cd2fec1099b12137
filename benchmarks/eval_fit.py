"""How far a topic config's tuning on train carries to unseen stories (``make eval`` helper).

Two checks, both on the ModApte *train* split only, so they say what tuning can promise
before the test split is looked at:

* ``cross_validate``: min_score chosen for best F1 on one random half of train, F1 measured
  on the other half; both ways, repeated. This is the F1 to expect from a config tuned the
  way the shipped ones were.
* ``fit_weights`` (``eval_topics.py --fit``): the term weights themselves searched on one
  half (coordinate ascent over a grid, min_score re-chosen at each step), scored on the
  other. If fitted weights do no better than the hand-written ones on the held-out half,
  the hand weights are already as good as this kind of rule gets on these labels.

A story's evidence is linear in the weights (``scoring``: Σ w_t · (1 + ln count_t), summed
here over whole story, lead and headline), so each story is kept as its per-term factors.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

FOLD_REPEATS = 5
FOLD_SEED = 1987
WEIGHT_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
FIT_ROUNDS = 3

Factors = dict[int, float]  # term index → Σ over fields of (1 + ln count)


def best_threshold(evidence: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """Return (F1, min_score) with the best F1 when stories with evidence >= min_score are kept.

    Only evidence values that occur are candidate thresholds, and a story with no evidence
    is never selected.
    """
    positives = sum(labels)
    ranked = sorted(((e, g) for e, g in zip(evidence, labels) if e > 0), key=lambda x: -x[0])
    best = (0.0, math.inf)
    correct = 0
    for k, (value, gold) in enumerate(ranked, 1):
        correct += gold
        if k < len(ranked) and ranked[k][0] == value:
            continue  # a threshold cannot split equal evidence
        f1 = 2 * correct / (k + positives) if k + positives else 0.0
        if f1 > best[0]:
            best = (f1, value)
    return best


def f1_at(evidence: Sequence[float], labels: Sequence[bool], min_score: float) -> float:
    """Return the F1 of keeping the stories with evidence >= min_score (and > 0)."""
    chosen = [e > 0 and e >= min_score for e in evidence]
    selected, positives = sum(chosen), sum(labels)
    correct = sum(c and g for c, g in zip(chosen, labels))
    return 2 * correct / (selected + positives) if selected + positives else 0.0


def halves(n: int) -> list[tuple[list[int], list[int]]]:
    """Return the (tune, held-out) index pairs: random halves, both ways, FOLD_REPEATS times."""
    rng = random.Random(FOLD_SEED)
    order = list(range(n))
    pairs = []
    for _ in range(FOLD_REPEATS):
        rng.shuffle(order)
        a, b = sorted(order[::2]), sorted(order[1::2])
        pairs += [(a, b), (b, a)]
    return pairs


def cross_validate(evidence: Sequence[float], labels: Sequence[bool]) -> float:
    """Return the mean held-out F1 of choosing min_score on the other half of the stories."""
    scores = []
    for tune, held in halves(len(labels)):
        _, min_score = best_threshold([evidence[i] for i in tune], [labels[i] for i in tune])
        scores.append(f1_at([evidence[i] for i in held], [labels[i] for i in held], min_score))
    return sum(scores) / len(scores)


def story_evidence(factors: Sequence[Factors], allowed: Sequence[bool],
                   weights: Sequence[float]) -> list[float]:
    """Return each story's evidence under the given term weights (0 when require/exclude fail)."""
    return [
        sum(weights[j] * f for j, f in fs.items()) if ok else 0.0
        for fs, ok in zip(factors, allowed)
    ]


def fit_weights(factors: Sequence[Factors], allowed: Sequence[bool], labels: Sequence[bool],
                weights: Sequence[float]) -> list[float]:
    """Search term weights for the best F1 (min_score re-chosen for each candidate)."""
    w = list(weights)
    evidence = story_evidence(factors, allowed, w)
    stories_with = [[i for i, fs in enumerate(factors) if j in fs and allowed[i]]
                    for j in range(len(w))]
    current = best_threshold(evidence, labels)[0]
    for _ in range(FIT_ROUNDS):
        improved = False
        for j, touched in enumerate(stories_with):
            for value in WEIGHT_GRID:
                delta = value - w[j]
                if not touched or delta == 0:
                    continue
                for i in touched:
                    evidence[i] += delta * factors[i][j]
                f1 = best_threshold(evidence, labels)[0]
                if f1 > current + 1e-9:
                    current, w[j], improved = f1, value, True
                else:
                    for i in touched:
                        evidence[i] -= delta * factors[i][j]
        if not improved:
            break
    return w


def fit_report(factors: Sequence[Factors], allowed: Sequence[bool], labels: Sequence[bool],
               weights: Sequence[float]) -> tuple[float, float]:
    """Return (held-out F1 of the hand weights, held-out F1 of weights fitted on the other half)."""
    hand, fitted = [], []
    for tune, held in halves(len(labels)):
        sub = ([factors[i] for i in tune], [allowed[i] for i in tune], [labels[i] for i in tune])
        held_labels = [labels[i] for i in held]
        held_f, held_a = [factors[i] for i in held], [allowed[i] for i in held]
        for ws, out in ((list(weights), hand), (fit_weights(*sub, weights), fitted)):
            _, min_score = best_threshold(story_evidence(*sub[:2], ws), sub[2])
            out.append(f1_at(story_evidence(held_f, held_a, ws), held_labels, min_score))
    return sum(hand) / len(hand), sum(fitted) / len(fitted)
