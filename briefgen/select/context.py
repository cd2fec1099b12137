"""Article context: how much a passage's whole article is about the topic.

A passage is read in its article. The article's evidence is the topic evidence (the scoring of
``briefgen.select.scoring``) of three texts, added up::

    article evidence = evidence(headline) + evidence(headline + lead) + evidence(whole article)

so a term counts once in the body, twice in the lead (first passage) and three times in the
headline: news states its subject in its headline and lead. A topic's ``context_weight`` scales
this into each of the article's passages' scores. Headline and lead are what the index holds:
the article's title and its first passage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from briefgen.select.scoring import CompiledTopic

if TYPE_CHECKING:
    from briefgen.index.base import Store
    from briefgen.models import Source


@dataclass(frozen=True, slots=True)
class ArticleEvidence:
    """The topic evidence of an article's headline, lead and whole text."""

    headline: float
    lead: float
    whole: float

    @property
    def total(self) -> float:
        """Return the article evidence: the three added up."""
        return self.headline + self.lead + self.whole


NO_EVIDENCE = ArticleEvidence(0.0, 0.0, 0.0)


def article_evidence(
    compiled: CompiledTopic, store: Store, sources: Iterable[Source]
) -> dict[str, ArticleEvidence]:
    """Return the article evidence of each source (by doc_id), from the store's passages."""
    by_id = {s.doc_id: s for s in sources}
    if not by_id:
        return {}
    passages = store.passages_of(sorted(by_id))
    texts: list[str] = []
    for doc_id, source in by_id.items():
        texts += article_texts(source, [p.text for p in passages.get(doc_id, [])])
    stems = compiled.analyzer.stems_many(texts)
    evidence = [compiled.score(s).evidence for s in stems]
    return {
        doc_id: ArticleEvidence(*evidence[3 * i : 3 * i + 3]) for i, doc_id in enumerate(by_id)
    }


def article_texts(source: Source, body: list[str]) -> list[str]:
    """Return an article's headline, headline + lead, and whole text (headline + passages)."""
    title = source.meta.title or ""
    return [title, f"{title}\n{body[0] if body else ''}", "\n".join([title, *body])]
