"""Improve a topic from evidence: ``briefgen topic fit`` and ``briefgen topic suggest``.

``fit_topic`` cross-validates and fits a topic on labelled articles (``briefgen.select.fit``) and
writes the proposed topic beside the file that defines it, never over it: ``topics/x.yaml`` →
``topics/x.yaml.proposed``; a topic defined in config.yaml → ``<key>.topic.yaml.proposed`` in
the project folder. ``suggest_terms`` lists words and phrases over-represented in the topic's
selected passages compared with the whole corpus, for a person to accept or not.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from briefgen._fs import write_bytes_atomic
from briefgen.index.backends import open_store
from briefgen.select.fit import Counts, as_is, collect_features, cross_validate, fit, read_labels
from briefgen.select.selection import find_topic, select_passages

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

#: Stems that are never suggested: function words and reporting verbs.
_DULL = frozenset(
    ["the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "as", "is", "are", "was", "were", "be", "been", "has", "have", "had", "that", "this", "it", "its", "their", "his", "her", "he", "she", "they", "we", "you", "i", "not", "but", "said", "says", "say", "also", "would", "will", "could", "can", "may", "after", "before", "about", "over", "more", "than", "which", "who", "what", "when", "where", "there", "one", "two", "new", "year", "last", "first", "us", "mr", "ms"]
)


@dataclass(frozen=True)
class FitReport:
    """What ``topic fit`` found: held-out scores before and after, and the proposed file."""

    topic: str
    labelled: int
    positives: int
    before: Counts
    after: Counts
    proposed: Path
    changes: dict[str, Any]


def proposed_path(cfg: LoadedConfig, key: str) -> Path:
    """Return where the proposed version of a topic is written (never its own file)."""
    source = cfg.topic_sources.get(key)
    if source is not None and source.resolve() != cfg.path.resolve():
        return source.with_name(source.name + ".proposed")
    return cfg.root / f"{key}.topic.yaml.proposed"


def fit_topic(cfg: LoadedConfig, key: str, labels_path: Path, *, fit_weights: bool = True) -> FitReport:
    """Cross-validate and fit a topic on labelled articles; write the proposed topic file."""
    topic = find_topic(cfg, key)
    labels = read_labels(labels_path)
    with open_store(cfg) as store:
        features = collect_features(topic, store, labels)
    before = as_is(features, topic)
    after = cross_validate(features, fit_weights=fit_weights, semantic=topic.semantic)
    params = fit(features, np.ones(len(features.docs), dtype=bool), fit_weights=fit_weights,
                 semantic=topic.semantic)
    terms = {label: round(float(w), 2) for label, w in zip(features.terms, params.weights, strict=True)}
    changes: dict[str, Any] = {
        "context_weight": round(params.context, 3),
        "semantic_weight": round(params.semantic, 3),
        "min_score": round(params.min_score - 1e-6, 3) if math.isfinite(params.min_score) else topic.min_score,
    }
    data = topic.model_dump(mode="json", exclude_defaults=True)
    data.update(changes)
    data["terms"] = {t: w for t, w in terms.items() if w > 0}
    dropped = sorted(t for t, w in terms.items() if w == 0)
    header = (f"# Proposed by `briefgen topic fit {key} --labels {labels_path.name}`: held-out F1 "
              f"{before.f1:.3f} as written -> {after.f1:.3f} fitted ({len(features.docs)} labelled "
              "articles, 5-fold cross-validation).\n# Review it, then copy what you accept into the "
              "topic's own definition.\n")
    if dropped:
        header += f"# Terms fitted to weight 0 (left out): {', '.join(dropped)}\n"
    path = proposed_path(cfg, key)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    write_bytes_atomic(path, (header + body).encode("utf-8"))
    return FitReport(key, len(features.docs), int(features.labels.sum()), before, after, path,
                     changes)


def format_fit(report: FitReport) -> str:
    """Return a fit report for a person."""

    def row(name: str, c: Counts) -> str:
        return f"  {name:<22} P {c.precision:.3f}  R {c.recall:.3f}  F1 {c.f1:.3f}"

    lines = [
        f"{report.topic}: {report.labelled} labelled articles, {report.positives} positive",
        row("as written:", report.before),
        row("fitted (held-out):", report.after),
        "  proposed: " + ", ".join(f"{k} {v:g}" for k, v in report.changes.items()),
        f"wrote {report.proposed} (your topic is unchanged; review and copy what you accept)",
    ]
    return "\n".join(lines)


def suggest_terms(cfg: LoadedConfig, key: str, *, count: int = 25) -> list[tuple[str, int, int, float]]:
    """Return (word, in selected passages, in the corpus sample, ratio) over-represented terms."""
    topic = find_topic(cfg, key)
    with open_store(cfg) as store:
        selection = select_passages(topic, store, key=key, limit=500)
        analyzer = store.analyzer()
        try:
            known = {s for term in topic.terms for s in analyzer.stems(term)}
            inside: Counter[str] = Counter()
            words: dict[str, Counter[str]] = {}
            selected = [p for sp in selection.passages for p in (sp, *sp.corroborated_by)]
            for sp in selected:
                tokens = sp.passage.text.split()
                seen: set[str] = set()
                for word, stems in zip(tokens, analyzer.stems_many(tokens), strict=True):
                    for stem in stems:
                        words.setdefault(stem, Counter())[word.strip(".,;:\"'()[]“”‘’").lower()] += 1
                        seen.add(stem)
                inside.update(seen)  # passages containing the stem, as for the background
            background: Counter[str] = Counter()
            background_passages = 0
            sources = store.sources()
            sample = [s.doc_id for s in sources[:: max(1, len(sources) // 2000)]]
            for passages in store.passages_of(sample).values():
                background_passages += len(passages)
                for stems in analyzer.stems_many([p.text for p in passages]):
                    background.update(set(stems))
        finally:
            analyzer.close()
    # Shares of passages containing the stem: among the selected ones, and in a corpus sample.
    total_in = len(selected) or 1
    total_bg = background_passages or 1
    scored = []
    for stem, n in inside.items():
        if n < 3 or stem in known or stem in _DULL or stem.isdigit() or len(stem) < 3:
            continue
        ratio = (n / total_in) / ((background[stem] + 1) / total_bg)
        if ratio > 1.5:
            scored.append((words[stem].most_common(1)[0][0] or stem, n, background[stem], ratio))
    scored.sort(key=lambda x: (-x[3] * math.log(1 + x[1]), x[0]))
    return scored[:count]


def format_suggestions(key: str, rows: list[tuple[str, int, int, float]]) -> str:
    """Return suggested terms as a table for a person."""
    if not rows:
        return f"{key}: nothing stands out in the selected passages (is the corpus indexed?)"
    lines = [f"{key}: terms over-represented in its selected passages (not yet in the topic)",
             f"  {'term':<24} {'selected':>8} {'corpus':>8} {'ratio':>7}"]
    lines += [f"  {w:<24} {n:>8} {b:>8} {r:>7.1f}" for w, n, b, r in rows]
    lines.append("add the ones that mean the topic to its terms (weight 1-3), then check with "
                 "`briefgen select TOPIC --explain`")
    return "\n".join(lines)
