"""The corpus facts (snapshot hash, date range) the indexer stores for every build to read."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from indexdata import article, make_cfg, write_jsonl

from briefgen.config.schema import LoadedConfig
from briefgen.index.backends import open_store
from briefgen.index.sqlite.schema import (
    CORPUS_FACTS_KEY,
    connect,
    date_summary_of,
    snapshot_hash_of,
    store_corpus_facts,
)
from briefgen.index.sqlite.store import index_path
from briefgen.index.sqlite.writer import SqliteWriter
from briefgen.index.update import update_index


def fresh_facts(cfg: LoadedConfig) -> dict[str, object]:
    """The corpus facts computed afresh from the documents table, as the indexer stores them."""
    con = sqlite3.connect(index_path(cfg))
    try:
        return {"snapshot_hash": snapshot_hash_of(con), "date_summary": list(date_summary_of(con))}
    finally:
        con.close()


def stored_facts(cfg: LoadedConfig) -> object:
    con = sqlite3.connect(index_path(cfg))
    try:
        row = con.execute("SELECT value FROM settings WHERE key = ?", (CORPUS_FACTS_KEY,)).fetchone()
    finally:
        con.close()
    return None if row is None else json.loads(row[0])


def test_stored_corpus_facts_follow_every_change_of_the_corpus(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "alpha.txt").write_text(article("tariff"), encoding="utf-8")
    records: list[dict[str, object]] = [
        {"id": "old", "date": "2020-01-15", "text": article("tariff")},
        {"id": "new", "date": "2024-03-01", "text": article("alliance")},
    ]
    write_jsonl(folder / "news.jsonl.gz", records)
    cfg = make_cfg(tmp_path)
    seen = []

    def update() -> None:
        update_index(cfg, progress=False)
        facts = stored_facts(cfg)
        assert facts == fresh_facts(cfg)  # what a build prints is what the corpus is now
        with open_store(cfg) as ix:
            assert [ix.snapshot_hash(), list(ix.date_summary())] == [
                facts["snapshot_hash"], facts["date_summary"]]  # type: ignore[index]
        seen.append(facts)

    update()
    records[0]["text"] = article("semiconductor")  # a changed text: a new snapshot
    write_jsonl(folder / "news.jsonl.gz", records)
    update()
    records[1]["date"] = "2025-06-30"  # metadata only: the same snapshot, a new date range
    write_jsonl(folder / "news.jsonl.gz", records)
    update()
    (folder / "alpha.txt").unlink()  # a removed file
    update()
    (folder / "beta.txt").write_text(article("alliance"), encoding="utf-8")  # an added one
    update()
    update()  # nothing changed: nothing recomputed, the same facts
    hashes = [facts["snapshot_hash"] for facts in seen]  # type: ignore[index]
    assert len(set(hashes[:2] + hashes[3:5])) == 4 and hashes[2] == hashes[1]
    assert seen[3]["date_summary"] == [2, 2, "2020-01-15", "2025-06-30"]  # type: ignore[index]
    assert seen[5] == seen[4]


def test_every_change_to_documents_drops_the_stored_facts_in_its_transaction(
    txt_corpus: LoadedConfig,
) -> None:
    update_index(txt_corpus, progress=False)
    con = connect(index_path(txt_corpus))
    writer = SqliteWriter(con)
    doc_row = (
        ("extra", "corpus/extra.txt", "0" * 64, "", None, None, None, None, None, None, "[]"),
        [(1, 0, 5, None, "hello")],
    )
    first_id = con.execute("SELECT MIN(id) FROM documents").fetchone()[0]
    changes = {
        "add_rows": lambda: writer.add_rows([doc_row]),
        "delete_documents": lambda: writer.delete_documents([first_id]),
        "delete_file": lambda: writer.delete_file("corpus/beta.txt"),
        "clear": writer.clear,
    }
    try:
        for name, change in changes.items():
            assert stored_facts(txt_corpus) is not None
            writer.begin()
            change()
            assert con.execute("SELECT 1 FROM settings WHERE key = ?",
                               (CORPUS_FACTS_KEY,)).fetchone() is None, name
            writer.rollback()  # rolled back with the change: still exact
            assert stored_facts(txt_corpus) == fresh_facts(txt_corpus), name
        writer.begin()
        writer.delete_documents([first_id])
        writer.commit()
        assert stored_facts(txt_corpus) is None
        store_corpus_facts(con)
        assert stored_facts(txt_corpus) == fresh_facts(txt_corpus)
    finally:
        con.close()


def test_without_stored_facts_the_index_computes_them(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    expected = fresh_facts(txt_corpus)
    for value in (None, "not json", "[1, 2]", '{"snapshot_hash": 7}'):
        con = sqlite3.connect(index_path(txt_corpus))
        with con:
            con.execute("DELETE FROM settings WHERE key = ?", (CORPUS_FACTS_KEY,))
            if value is not None:
                con.execute("INSERT INTO settings VALUES (?, ?)", (CORPUS_FACTS_KEY, value))
        con.close()
        with open_store(txt_corpus) as ix:
            assert ix.snapshot_hash() == expected["snapshot_hash"], value
            assert list(ix.date_summary()) == expected["date_summary"], value

