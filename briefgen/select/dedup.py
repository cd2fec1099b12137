"""Find passages that say the same thing, so a section quotes each fact once.

Method: each passage becomes the *set* of its content stems — the index's tokens
(the store's analyzer: case-folded, stemmed) minus function words. Two
passages are near-duplicates when

    shared = |A ∩ B| >= MIN_SHARED  and  overlap = |A ∩ B| / min(|A|, |B|) >= MIN_OVERLAP

The overlap coefficient (not Jaccard) is used because repetition in news is usually a short
restatement of a longer paragraph (a summary bullet, a teaser, a lead repeated under the
headline); stemming makes "formed"/"formation", "doubling"/"double" count as the same word,
so paraphrases are caught, not only identical text. ``MIN_SHARED`` stops a short question
("What will Prime Minister Takaichi do with that power?") from matching anything that names
the same people.

Threshold, tuned on the seeds (seeds/002 restates its coalition, military-buildup and
China facts two or three times; 003 repeats its lead): restatements score 0.57–0.94
(002 ¶8/¶13 0.94, ¶2/¶5 0.84, 003 ¶1/¶2 0.83, 002 ¶3/¶7/¶12 0.71–0.73), while different
paragraphs on the same subject score at most 0.49 (003 ¶1/¶4 0.49, 002 ¶10 vs 004 ¶1 0.47,
001 ¶15/¶22 0.47). ``MIN_OVERLAP`` = 0.55 sits in that gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from briefgen.index.base import Analyzer

MIN_OVERLAP = 0.55
MIN_SHARED = 6

# Function words (before stemming; they are stemmed with the index's analyzer on use).
STOPWORDS = ["a", "about", "above", "after", "again", "against", "all", "also", "am", "amid", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "done", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me", "might", "more", "most", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "per", "said", "same", "say", "says", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "your"]


def content_sets(texts: Sequence[str], analyzer: Analyzer) -> list[frozenset[str]]:
    """Return each text's content stems (index tokens without function words)."""
    return content_stem_sets(analyzer.stems_many(texts), analyzer)


def content_stem_sets(
    token_lists: Iterable[Sequence[str]], analyzer: Analyzer
) -> list[frozenset[str]]:
    """Return the content stems of texts already tokenized by ``analyzer``."""
    stop = {stem for stems in analyzer.stems_many(STOPWORDS) for stem in stems}
    return [frozenset(stems).difference(stop) for stems in token_lists]


def overlap(a: frozenset[str], b: frozenset[str]) -> tuple[float, int]:
    """Return the overlap coefficient of two stem sets and how many stems they share."""
    if not a or not b:
        return 0.0, 0
    shared = len(a & b)
    return shared / min(len(a), len(b)), shared


def is_near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """Say whether two passages (as content stem sets) state the same thing."""
    # ``overlap()`` inlined: selection asks this ~5,000 times per topic.
    shared = len(a & b)
    return shared >= MIN_SHARED and shared / min(len(a), len(b)) >= MIN_OVERLAP


def group_near_duplicates(sets: Sequence[frozenset[str]]) -> list[list[int]]:
    """Group items (given best first) under the first earlier item they duplicate.

    Returns groups of indexes, each led by its best item, in the order of their leaders.
    An item is compared with group leaders only, so chains (A~B, B~C, but not A~C) do not
    pull unrelated statements together.
    """
    grouping = NearDuplicateGroups(sets)
    while grouping.next_leader() is not None:
        pass
    return [[leader, *grouping.members[leader]] for leader in grouping.leaders]


class NearDuplicateGroups:
    """``group_near_duplicates``, one leader at a time, for callers that need only the first few.

    ``next_leader()`` classifies items in order until it meets the next leader.
    ``members[leader]`` holds the items classified so far under it; ``complete(leaders)``
    adds the rest, so a caller that stops early still gets those leaders' exact groups.
    """

    def __init__(self, sets: Sequence[frozenset[str]]) -> None:
        self.sets = sets
        self.leaders: list[int] = []
        self.members: dict[int, list[int]] = {}
        self.classified = 0  # items 0 .. classified-1 are leaders or members

    def next_leader(self) -> int | None:
        """Classify items until one leads a new group; return it (None when none is left)."""
        while self.classified < len(self.sets):
            i = self.classified
            self.classified += 1
            leader = self._first_duplicated(i, self.leaders)
            if leader is None:
                self.leaders.append(i)
                self.members[i] = []
                return i
            self.members[leader].append(i)
        return None

    def complete(self, wanted: Sequence[int]) -> None:
        """Add every item not classified yet to its group, if a wanted leader leads it (call once).

        The leaders known so far are exactly the leaders before any unclassified item, so
        an item whose first duplicated leader is among them belongs to that group for good.
        """
        if not wanted:
            return
        last = max(self.leaders.index(w) for w in wanted)
        earlier = self.leaders[: last + 1]
        keep = set(wanted)
        for i in range(self.classified, len(self.sets)):
            leader = self._first_duplicated(i, earlier)
            if leader in keep:
                self.members[leader].append(i)

    def _first_duplicated(self, i: int, leaders: Sequence[int]) -> int | None:
        stems = self.sets[i]
        return next((j for j in leaders if is_near_duplicate(self.sets[j], stems)), None)
