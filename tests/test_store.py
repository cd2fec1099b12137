"""The Store contract, held against every backend (SQLite, and PostgreSQL on a throw-away
server started by the tests): incremental updates, queries, relevance, corpus facts.

Each test runs once per backend (the ``index_settings`` fixture of conftest.py); tests that
compare the backends with each other are at the end.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from indexdata import article, make_cfg, q, write_jsonl

from briefgen.config.load import load_config
from briefgen.config.schema import Config, LoadedConfig
from briefgen.corpus import files as corpus
from briefgen.errors import StoreError
from briefgen.index.backends import open_store
from briefgen.index.base import Phrase, TopicQuery
from briefgen.index.update import update_index
from briefgen.select.selection import select_topic

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def txt_corpus(tmp_path: Path, index_settings: dict[str, object]) -> LoadedConfig:
    """A folder corpus of three plain-text articles, indexed by each backend in turn."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, topic in (("alpha", "tariff"), ("beta", "alliance"), ("gamma", "semiconductor")):
        (folder / f"{name}.txt").write_text(article(topic), encoding="utf-8")
    return make_cfg(tmp_path, index=index_settings)


@pytest.fixture
def seeds_cfg(tmp_path: Path, index_settings: dict[str, object]) -> LoadedConfig:
    """The seeds, indexed by each backend in turn."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    data = {"corpus": {"path": "seeds", "metadata": "seeds/corpus.yaml"}, "topic_files": [],
            "index": index_settings}
    cfg = LoadedConfig(config=Config.model_validate(data), path=tmp_path / "config.yaml",
                       root=tmp_path, topics={})
    update_index(cfg, progress=False)
    return cfg


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the file names ``corpus.read_raw`` is asked to read."""
    calls: list[str] = []
    real = corpus.read_raw

    def spy(path: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(Path(path).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(corpus, "read_raw", spy)
    return calls


def count_cleans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the doc_ids ``corpus.make_document`` cleans."""
    calls: list[str] = []
    real = corpus.make_document

    def spy(**kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(str(kwargs["doc_id"]))
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(corpus, "make_document", spy)
    return calls


def search_ids(cfg: LoadedConfig, match: str) -> set[str]:
    with open_store(cfg) as ix:
        return {p.doc_id for p, _, _ in ix.search(q(match, limit=100))}


# --- incremental updates ------------------------------------------------------------------


def test_counts_for_add_update_unchanged_remove(txt_corpus: LoadedConfig) -> None:
    first = update_index(txt_corpus, progress=False)
    assert (first.added, first.updated, first.unchanged, first.removed) == (3, 0, 0, 0)
    assert first.passages == first.passages_total == 9
    assert first.documents_total == 3 and not first.skipped

    folder = txt_corpus.root / "corpus"
    (folder / "alpha.txt").write_text(article("tariff", 4), encoding="utf-8")
    (folder / "gamma.txt").unlink()
    (folder / "delta.txt").write_text(article("soybeans"), encoding="utf-8")
    second = update_index(txt_corpus, progress=False)
    assert (second.added, second.updated, second.unchanged, second.removed) == (1, 1, 1, 1)
    assert second.passages == 4 + 3
    assert second.documents_total == 3 and second.passages_total == 4 + 3 + 3


def test_unchanged_files_are_not_read(txt_corpus: LoadedConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    update_index(txt_corpus, progress=False)
    reads = count_reads(monkeypatch)
    (txt_corpus.root / "corpus" / "beta.txt").write_text(article("deterrence"), encoding="utf-8")
    summary = update_index(txt_corpus, progress=False)
    assert reads == ["beta.txt"]
    assert (summary.updated, summary.unchanged) == (1, 2)


def test_touched_but_identical_file_is_unchanged(txt_corpus: LoadedConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    update_index(txt_corpus, progress=False)
    path = txt_corpus.root / "corpus" / "alpha.txt"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    reads = count_reads(monkeypatch)
    summary = update_index(txt_corpus, progress=False)
    assert reads == []
    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 3)
    # The new mtime was recorded: the next run does not even hash the file.
    hashed: list[Path] = []
    from briefgen.index import plan  # where the plan hashes a file whose mtime changed

    monkeypatch.setattr(plan, "sha256_file", lambda p: hashed.append(p) or "")
    update_index(txt_corpus, progress=False)
    assert hashed == []


def test_deleted_file_disappears_from_search(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    assert search_ids(txt_corpus, "semiconductor") == {"gamma"}
    (txt_corpus.root / "corpus" / "gamma.txt").unlink()
    summary = update_index(txt_corpus, progress=False)
    assert summary.removed == 1
    assert search_ids(txt_corpus, "semiconductor") == set()
    with open_store(txt_corpus) as ix:
        assert ix.source("gamma") is None and ix.passages("gamma") == []


def test_jsonl_is_incremental_per_record(index_settings: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[dict[str, object]] = [
        {"id": f"r{i}", "title": f"Story {i}", "date": "2024-05-0" + str(i % 9 + 1),
         "text": article(f"topic{i}")}
        for i in range(8)
    ]
    path = tmp_path / "news.jsonl.gz"
    write_jsonl(path, records)
    cfg = make_cfg(tmp_path, "news.jsonl.gz", index=index_settings)
    assert update_index(cfg, progress=False).added == 8

    records[2]["text"] = article("reactor")  # changed text
    records[5]["title"] = "A corrected headline"  # changed metadata only
    del records[7]  # removed
    records.append({"id": "r99", "text": article("newcomer")})  # added
    write_jsonl(path, records)
    cleaned = count_cleans(monkeypatch)
    summary = update_index(cfg, progress=False)
    assert (summary.added, summary.updated, summary.unchanged, summary.removed) == (1, 2, 5, 1)
    assert sorted(cleaned) == ["r2", "r5", "r99"]  # unchanged records are not cleaned again
    assert search_ids(cfg, "reactor") == {"r2"} and search_ids(cfg, "topic7") == set()
    with open_store(cfg) as ix:
        assert ix.source("r5").meta.title == "A corrected headline"  # type: ignore[union-attr]


def test_doc_id_clash_renames_existing_document(index_settings: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / "corpus" / "a").mkdir(parents=True)
    (tmp_path / "corpus" / "a" / "story.txt").write_text(article("tariff"), encoding="utf-8")
    cfg = make_cfg(tmp_path, index=index_settings)
    update_index(cfg, progress=False)
    assert search_ids(cfg, "tariff") == {"story"}
    (tmp_path / "corpus" / "b").mkdir()
    (tmp_path / "corpus" / "b" / "story.txt").write_text(article("alliance"), encoding="utf-8")
    update_index(cfg, progress=False)
    assert search_ids(cfg, "tariff") == {"a/story"} and search_ids(cfg, "alliance") == {"b/story"}


def test_bad_files_are_skipped_and_reported_again_while_unchanged(txt_corpus: LoadedConfig) -> None:
    folder = txt_corpus.root / "corpus"
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "empty.txt").write_bytes(b"")
    warnings: list[str] = []
    summary = update_index(txt_corpus, progress=False, warn=warnings.append)
    assert summary.added == 3 and len(summary.skipped) == 2 and len(warnings) == 2
    assert any("image.txt" in w for w in warnings) and any("empty.txt" in w for w in warnings)
    again = update_index(txt_corpus, progress=False)
    assert again.skipped == summary.skipped  # --strict keeps failing while the file is there
    assert "skipped:" in again.format() and "image.txt" in again.format()


def test_file_over_size_cap_is_skipped(index_settings: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "big.txt").write_text(article("tariff", 40), encoding="utf-8")
    (tmp_path / "corpus" / "small.txt").write_text(article("alliance"), encoding="utf-8")
    summary = update_index(make_cfg(tmp_path, max_file_mb=0.001, index=index_settings), progress=False)
    assert summary.added == 1 and "big.txt" in summary.skipped[0]


def test_open_index_without_index_says_to_run_index(txt_corpus: LoadedConfig) -> None:
    with pytest.raises(StoreError, match="briefgen index"):
        open_store(txt_corpus)


def test_search_finds_takaichi_in_the_seeds(seeds_cfg: LoadedConfig) -> None:
    with open_store(seeds_cfg) as ix:
        hits = ix.search(q("Takaichi", limit=200))
        assert {p.doc_id for p, _, _ in hits} == {s.doc_id for s in ix.sources()}
        assert len(ix.sources()) == 5
        for passage, source, _ in hits:
            assert "takaichi" in passage.text.lower()
            assert source.source_path.startswith("seeds/")
            assert passage in ix.passages(passage.doc_id)


def test_search_stems_folds_diacritics_and_matches_phrases(
    seeds_cfg: LoadedConfig, index_settings: dict[str, object], tmp_path: Path
) -> None:
    with open_store(seeds_cfg) as ix:
        hits = ix.search(q('"Prime Minister"', limit=50))
        assert hits
        for passage, _, _ in hits:
            assert "prime minister" in " ".join(passage.text.lower().split())
        ix.search(q('"unbalanced', limit=5))  # quoted as a phrase: never a syntax error
    # Another corpus (in the same database for PostgreSQL: it replaces the seeds there).
    root = tmp_path / "other"
    (root / "corpus").mkdir(parents=True)
    (root / "corpus" / "talks.txt").write_text(
        "Negotiators were negotiating in Tōkyō about tariffs on steel.\n", encoding="utf-8")
    cfg = make_cfg(root, index=index_settings)
    update_index(cfg, progress=False)
    assert search_ids(cfg, "negotiated") == {"talks"}  # porter stemming
    assert search_ids(cfg, "tokyo") == {"talks"}  # diacritics removed
    assert search_ids(cfg, "steel tariffs") == set() and search_ids(
        cfg, "tariffs on steel"
    ) == {"talks"}


def test_bm25_prefers_denser_matches(index_settings: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    texts = {
        "dense": "Soybean exports rose. Soybean prices and soybean futures moved as soybean demand grew.",
        "sparse": "Officials discussed many subjects today, soybean among them, alongside steel and cars and "
                  "the wider question of how the economy would fare over the coming months of the year.",
        "none": "The parliament adjourned without a vote on the budget after a long debate.",
    }
    for name, text in texts.items():
        (tmp_path / "corpus" / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    cfg = make_cfg(tmp_path, index=index_settings)
    update_index(cfg, progress=False)
    with open_store(cfg) as ix:
        hits = ix.search(q("soybean", limit=10))
    assert [p.doc_id for p, _, _ in hits] == ["dense", "sparse"]
    assert hits[0][2] > hits[1][2] > 0


def test_search_date_window_and_snapshot_hash(index_settings: dict[str, object], tmp_path: Path) -> None:
    records = [
        {"id": "old", "date": "2020-01-15", "text": article("tariff")},
        {"id": "new", "date": "2024-03-01T09:00:00Z", "text": article("tariff")},
        {"id": "undated", "text": article("tariff")},
    ]
    write_jsonl(tmp_path / "news.jsonl.gz", records)
    cfg = make_cfg(tmp_path, "news.jsonl.gz", index=index_settings)
    update_index(cfg, progress=False)
    with open_store(cfg) as ix:

        def ids(**window: str) -> set[str]:
            return {p.doc_id for p, _, _ in ix.search(q("tariff", limit=50, **window))}

        assert ids() == {"old", "new", "undated"}
        assert ids(date_from="2024-01-01") == {"new"}
        assert ids(date_to="2023-12-31") == {"old"}
        assert ids(date_from="2024-03-01", date_to="2024-03-01") == {"new"}
        assert ix.date_summary() == (3, 2, "2020-01-15", "2024-03-01")
        # As of a day: later-dated documents are left out, undated ones stay.
        as_of = {p.doc_id for p, _, _ in ix.search(replace(q("tariff", limit=50), as_of="2023-06-30"))}
        assert as_of == {"old", "undated"}
        assert [ix.count_dated(*w) for w in [(None, None), ("2024-01-01", None),
                                             (None, "2024-03-01"), ("2020-01-16", "2024-02-29")]] == [2, 1, 2, 0]
        before = ix.snapshot_hash()
    records[0]["text"] = article("alliance")
    write_jsonl(tmp_path / "news.jsonl.gz", records)
    update_index(cfg, progress=False)
    with open_store(cfg) as ix:
        assert ix.snapshot_hash() != before and len(ix.snapshot_hash()) == 64




def test_phrases_without_tokens_match_nothing_as_fts5_does(seeds_cfg: LoadedConfig) -> None:
    def query(any_of: tuple[str, ...], require: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> TopicQuery:
        def phrases(texts: tuple[str, ...]) -> tuple[Phrase, ...]:
            return tuple(Phrase(t, ()) for t in texts)

        return TopicQuery(phrases(any_of), phrases(require), phrases(exclude), limit=500)

    with open_store(seeds_cfg) as ix:
        korea = {h.passage for h in ix.search(query(("Korea",)))}
        assert korea
        assert ix.search(query(("***",))) == []
        assert {h.passage for h in ix.search(query(("Korea", "***", '"')))} == korea
        assert ix.search(query(("Korea",), require=("***",))) == []
        assert {h.passage for h in ix.search(query(("Korea",), exclude=("***",)))} == korea


def test_require_exclude_and_limit(seeds_cfg: LoadedConfig) -> None:
    with open_store(seeds_cfg) as ix:
        japan = ix.search(q("Japan", limit=1000))
        both = ix.search(TopicQuery((Phrase("Japan", ()),), (Phrase("China", ()),), limit=1000))
        neither = ix.search(TopicQuery((Phrase("Japan", ()),), exclude=(Phrase("China", ()),), limit=1000))
        assert {h.passage for h in both} | {h.passage for h in neither} == {h.passage for h in japan}
        assert all("china" in h.passage.text.lower() for h in both)
        assert not any("china" in h.passage.text.lower() for h in neither)
        top = ix.search(q("Japan", limit=3))
        assert top == japan[:3]
        assert [h.relevance for h in japan] == sorted((h.relevance for h in japan), reverse=True)


# --- the backends agree -----------------------------------------------------------------------


@pytest.fixture
def both_seeds(tmp_path: Path, pg_url: str) -> tuple[LoadedConfig, LoadedConfig]:
    """The project's seeds and topics indexed by SQLite and by PostgreSQL."""
    from conftest import copy_project

    cfgs = []
    for settings in ({"backend": "sqlite"}, {"backend": "postgresql", "url": pg_url}):
        project = copy_project(tmp_path / str(settings["backend"]))
        config = project / "config.yaml"
        text = config.read_text(encoding="utf-8")
        lines = "".join(f"  {k}: {v}\n" for k, v in settings.items())
        config.write_text(text.replace("index:\n", "index:\n" + lines, 1), encoding="utf-8")
        cfg = load_config(config)
        update_index(cfg, progress=False)
        cfgs.append(cfg)
    return cfgs[0], cfgs[1]


QUERIES = [
    q("Takaichi"), q("trade", "tariffs", "supply chain", limit=7), q("Prime Minister", "Korea"),
    TopicQuery((Phrase("Japan", ()), Phrase("alliance", ())), (Phrase("China", ()),),
               (Phrase("Trump", ()),)),
    q("Japan", date_from="2026-01-01"), q("defense", "defence", "self-defense forces"),
]


def test_both_backends_find_the_same_passages_with_the_same_relevance(
    both_seeds: tuple[LoadedConfig, LoadedConfig],
) -> None:
    sqlite_cfg, pg_cfg = both_seeds
    with open_store(sqlite_cfg) as lite, open_store(pg_cfg) as pg:
        for query in QUERIES:
            a, b = lite.search(query), pg.search(query)
            assert [(h.passage, h.source) for h in a] == [(h.passage, h.source) for h in b], query
            assert [h.relevance for h in a] == pytest.approx([h.relevance for h in b], rel=1e-12)
        assert lite.sources() == pg.sources()
        assert lite.snapshot_hash() == pg.snapshot_hash()
        assert lite.date_summary() == pg.date_summary()
        assert lite.relevance_half == pg.relevance_half


def test_both_backends_select_the_same_passages_in_the_same_order(
    both_seeds: tuple[LoadedConfig, LoadedConfig],
) -> None:
    sqlite_cfg, pg_cfg = both_seeds
    assert sorted(sqlite_cfg.topics) == sorted(pg_cfg.topics) and sqlite_cfg.topics
    for key in sqlite_cfg.topics:
        a, b = select_topic(sqlite_cfg, key), select_topic(pg_cfg, key)
        assert a.passages, key
        assert [(s.passage, s.score, s.key_sentence) for s in a.passages] == [
            (s.passage, s.score, s.key_sentence) for s in b.passages], key


def test_doc_ids_sort_by_code_point_in_both_backends(
    tmp_path: Path, pg_url: str,
) -> None:
    # A database with a linguistic default collation would put "b" before "Z" and "é" near "e".
    records = [{"id": name, "date": "2024-01-0" + str(i + 1), "text": article("tariff")}
               for i, name in enumerate(["b", "Z", "é", "e", "A-1", "a_1", "10", "9"])]
    write_jsonl(tmp_path / "news.jsonl.gz", records)
    orders = []
    for name, settings in (("lite", {"backend": "sqlite"}), ("pg", {"backend": "postgresql", "url": pg_url})):
        root = tmp_path / name
        root.mkdir()
        shutil.copy(tmp_path / "news.jsonl.gz", root / "news.jsonl.gz")
        cfg = make_cfg(root, "news.jsonl.gz", index=settings)
        update_index(cfg, progress=False)
        with open_store(cfg) as ix:
            orders.append(([s.doc_id for s in ix.sources()], ix.snapshot_hash(),
                           [h.passage.doc_id for h in ix.search(q("tariff", date_from="2024-01-05"))]))
    assert orders[0] == orders[1]
    assert orders[0][0] == sorted(r["id"] for r in records)  # type: ignore[type-var]


def test_passages_of_several_documents(seeds_cfg: LoadedConfig) -> None:
    with open_store(seeds_cfg) as ix:
        ids = [s.doc_id for s in ix.sources()]
        found = ix.passages_of([ids[2], ids[0], "missing", ids[0]])
        assert list(found) == sorted([ids[0], ids[2]])
        assert all(found[d] == ix.passages(d) for d in found)


def test_phrases_match_only_adjacent_tokens_in_every_part_of_a_query(
    index_settings: dict[str, object], tmp_path: Path,
) -> None:
    (tmp_path / "corpus").mkdir()
    texts = {
        "adjacent": "The supply chain talks on chips went well.",
        "apart": "Chain stores cut supply of chips after the talks.",
        "neither": "The chips talks went well.",
    }
    for name, text in texts.items():
        (tmp_path / "corpus" / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    cfg = make_cfg(tmp_path, index=index_settings)
    update_index(cfg, progress=False)

    def found(any_of: str, require: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> set[str]:
        query = TopicQuery((Phrase(any_of, ()),), tuple(Phrase(t, ()) for t in require),
                           tuple(Phrase(t, ()) for t in exclude))
        with open_store(cfg) as ix:
            return {h.passage.doc_id for h in ix.search(query)}

    assert found("supply chain") == {"adjacent"}
    assert found("chips", require=("supply chain",)) == {"adjacent"}
    assert found("chips", exclude=("supply chain",)) == {"apart", "neither"}
    assert found("chips", exclude=("supply",)) == {"neither"}
