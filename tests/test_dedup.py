"""Near-duplicate groups built lazily, and the lazy selection, equal grouping everything first."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefgen.config.load import load_config
from briefgen.config.schema import Topic
from briefgen.index.backends import open_store
from briefgen.index.sqlite.analyzer import FtsAnalyzer
from briefgen.index.sqlite.store import SqliteStore
from briefgen.index.update import update_index
from briefgen.models import ScoredPassage
from briefgen.select.dedup import (
    NearDuplicateGroups,
    content_sets,
    group_near_duplicates,
    is_near_duplicate,
)
from briefgen.select.scoring import CompiledTopic
from briefgen.select.selection import scored_candidates, select_passages
from briefgen.select.spread import SOURCE_DECAY

WORDS = [f"w{i}" for i in range(12)]


def eager_groups(sets: list[frozenset[str]]) -> list[list[int]]:
    """Every item against every earlier leader (the definition)."""
    groups: list[list[int]] = []
    for i, s in enumerate(sets):
        for g in groups:
            if is_near_duplicate(sets[g[0]], s):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


@given(st.lists(st.frozensets(st.sampled_from(WORDS), max_size=12), max_size=25),
       st.integers(0, 6))
def test_lazy_groups_equal_eager_groups(sets: list[frozenset[str]], stop_after: int) -> None:
    expected = eager_groups(sets)
    assert group_near_duplicates(sets) == expected
    lazy = NearDuplicateGroups(sets)
    for _ in range(stop_after):  # stop early, then complete the groups of some leaders
        lazy.next_leader()
    wanted = lazy.leaders[::2]
    lazy.complete(wanted)
    by_leader = {g[0]: g[1:] for g in expected}
    assert lazy.leaders == [g[0] for g in expected][: len(lazy.leaders)]
    for leader in wanted:
        assert lazy.members[leader] == by_leader[leader]


@pytest.fixture(scope="module")
def index(project_module: Path) -> SqliteStore:
    cfg = load_config(project_module / "config.yaml")
    update_index(cfg, progress=False, warn=lambda m: None)
    with open_store(cfg) as opened:
        yield opened  # type: ignore[misc]


@pytest.fixture(scope="module")
def project_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = Path(__file__).resolve().parent.parent
    dest = tmp_path_factory.mktemp("dedup") / "project"
    dest.mkdir()
    shutil.copy2(root / "config.yaml", dest / "config.yaml")
    for name in ("seeds", "topics"):
        if (root / name).exists():
            shutil.copytree(root / name, dest / name)
    return dest


def eager_selection(topic: Topic, index: SqliteStore, wanted: int) -> list[tuple[str, int, tuple]]:
    """Group all candidates, then pick greedily over all leaders (the documented steps 3-4)."""
    analyzer = FtsAnalyzer()
    candidates = scored_candidates(CompiledTopic(topic, analyzer), index, None)
    groups = group_near_duplicates(content_sets([c.passage.text for c in candidates], analyzer))
    leaders = [candidates[g[0]].scored(tuple(candidates[i].scored() for i in g[1:]))
               for g in groups]
    used: Counter[str] = Counter()
    pool, picked = list(leaders), []
    while pool and len(picked) < wanted:
        pool = [sp for sp in pool if used[sp.source.doc_id] < topic.max_per_source]
        if not pool:
            break
        best = min(pool, key=lambda sp: (-sp.score * SOURCE_DECAY ** used[sp.source.doc_id],
                                         sp.passage.doc_id, sp.passage.ordinal))
        picked.append(best)
        used[best.source.doc_id] += 1
        pool.remove(best)
    picked.sort(key=lambda sp: (-sp.score, sp.passage.doc_id, sp.passage.ordinal))
    return [key(sp) for sp in picked]


def key(sp: ScoredPassage) -> tuple[str, int, tuple]:
    return (sp.passage.doc_id, sp.passage.ordinal,
            tuple((c.passage.doc_id, c.passage.ordinal) for c in sp.corroborated_by))


@pytest.mark.parametrize("per_source", [1, 2, 4])
@pytest.mark.parametrize("wanted", [1, 3, 8, 40])
@pytest.mark.parametrize("terms", [
    {"Takaichi": 2, "Japan": 1}, {"defense": 2, "military": 2, "China": 1}, {"coalition": 3},
])
def test_lazy_selection_equals_grouping_everything_first(
    index: SqliteStore, terms: dict[str, float], wanted: int, per_source: int
) -> None:
    topic = Topic(title="t", terms=terms, min_score=1, max_passages=wanted,
                  max_per_source=per_source)
    lazy = select_passages(topic, index, key="t")
    assert [key(sp) for sp in lazy.passages] == eager_selection(topic, index, wanted)
