"""Semantic relevance of passages to a topic, as one part of their score.

A topic with ``semantic_weight`` > 0 (and ``semantic`` not false) describes itself by its
``about`` sentences, its ``examples`` and its term list; each candidate passage's cosine
similarity to that description (``briefgen.select.embedding``: a small embedding model shipped
inside a PyPI wheel, loaded offline) times ``semantic_weight`` is added to its score.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from briefgen.select.embedding import SemanticScorer

if TYPE_CHECKING:
    from briefgen.config.schema import Topic


def semantic_enabled(topic: Topic) -> bool:
    """Say whether a topic's passages get a semantic part in their score."""
    return topic.semantic and topic.semantic_weight > 0


@functools.lru_cache(maxsize=64)
def _scorer(about: str, examples: tuple[str, ...], terms: tuple[str, ...]) -> SemanticScorer:
    return SemanticScorer(about, examples, terms)


def topic_scorer(topic: Topic) -> SemanticScorer:
    """Return the (cached) scorer of a topic's description."""
    return _scorer(topic.about, tuple(topic.examples), tuple(topic.terms))


def semantic_similarity(topic: Topic, texts: Sequence[str]) -> list[float]:
    """Return each text's similarity to the topic (cosine, -1 to 1)."""
    return topic_scorer(topic).similarity(texts) if texts else []
