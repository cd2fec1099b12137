"""Pick a topic's passages among scored candidates: near-duplicates merged, sources spread."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from briefgen.models import Passage, ScoredPassage, Source
from briefgen.select.dedup import NearDuplicateGroups
from briefgen.select.scoring import Evidence


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage that qualifies for a topic, with the parts of its score."""

    passage: Passage
    source: Source
    evidence: Evidence
    parts: tuple[tuple[str, float], ...]  # (signal, value) that add up to the score
    stems: tuple[str, ...]  # the passage's tokens, for near-duplicate detection

    @property
    def score(self) -> float:
        """Return the passage's score: the sum of its parts."""
        return sum(value for _, value in self.parts)

    @property
    def key(self) -> tuple[float, str, int]:
        """Return the sort key: best score first, ties by (doc_id, ordinal)."""
        return (-self.score, self.passage.doc_id, self.passage.ordinal)

    def scored(
        self, corroborated_by: tuple[ScoredPassage, ...] = (), key_sentence: int = 0
    ) -> ScoredPassage:
        """Return the candidate as a selected passage."""
        return ScoredPassage(
            self.passage, self.source, self.score, self.evidence.matched, corroborated_by,
            key_sentence,
            hits=tuple((term.label, term.weight, count) for term, count in self.evidence.hits),
            parts=self.parts,
        )


SOURCE_DECAY = 0.7  # each passage already taken from a source scales its others by this


def spread(
    candidates: list[Candidate], groups: NearDuplicateGroups, wanted: int, per_source: int
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
