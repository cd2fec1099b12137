"""The SQLite store's write side: its writer, and opening the file for an update.

``SqliteWriter`` implements :class:`briefgen.index.base.StoreWriter` over the schema in
``briefgen.index.sqlite.schema``; :func:`open_for_update` creates the file, or rebuilds one
written by another schema version, under the update lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from briefgen._fs import exclusive_lock
from briefgen.errors import IndexBusyError
from briefgen.index.base import DocumentRows, FileRecord, chunks_of
from briefgen.index.sqlite.schema import (
    APPLICATION_ID,
    CORPUS_FACTS_KEY,
    SCHEMA_VERSION,
    connect,
    create_schema,
    foreign_file_error,
    foreign_file_problem,
    index_error,
    schema_version,
    store_corpus_facts,
)


class SqliteWriter:
    """The write side of the store: documents, passages and file records, in batches.

    The caller owns transactions (``begin()``/``commit()``) so that a batch of documents is
    committed at once and a crash never leaves half a document behind.
    """

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self._next_doc = int(con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM documents").fetchone()[0])
        self._next_passage = int(
            con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM passages").fetchone()[0]
        )

    def begin(self) -> None:
        """Start a write transaction (taking the write lock now, not at the first insert)."""
        self.con.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the current transaction."""
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the current transaction, if any."""
        if self.con.in_transaction:
            self.con.execute("ROLLBACK")

    def setting(self, key: str) -> str | None:
        """Return a stored setting (e.g. the corpus settings fingerprint)."""
        row = self.con.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting."""
        self.con.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value))

    def _drop_corpus_facts(self) -> None:
        """Forget the stored corpus facts: ``documents`` is about to change (same transaction)."""
        self.con.execute("DELETE FROM settings WHERE key = ?", (CORPUS_FACTS_KEY,))

    def clear(self) -> None:
        """Delete every document, passage and file record (the schema stays)."""
        self._drop_corpus_facts()
        self.con.execute("INSERT INTO passages_fts(passages_fts) VALUES ('delete-all')")
        self.con.execute("DELETE FROM passages")
        self.con.execute("DELETE FROM documents")
        self.con.execute("DELETE FROM files")

    def files(self) -> dict[str, FileRecord]:
        """Return every file record: path → (size, mtime_ns, sha256, warnings)."""
        return {
            path: (size, mtime_ns, sha, json.loads(warnings))
            for path, size, mtime_ns, sha, warnings in self.con.execute(
                "SELECT path, size, mtime_ns, sha256, warnings FROM files"
            )
        }

    def set_file(self, path: str, size: int, mtime_ns: int, sha256: str, warnings: Sequence[str]) -> None:
        """Record that ``path`` is indexed as of this size, mtime and content hash."""
        self.con.execute(
            "INSERT OR REPLACE INTO files(path, size, mtime_ns, sha256, warnings) VALUES (?, ?, ?, ?, ?)",
            (path, size, mtime_ns, sha256, json.dumps(list(warnings), ensure_ascii=False)),
        )

    def delete_file(self, path: str) -> int:
        """Forget a file and every document read from it; return how many documents went."""
        ids = [row[0] for row in self.con.execute("SELECT id FROM documents WHERE source_path = ?", (path,))]
        self.delete_documents(ids)
        self.con.execute("DELETE FROM files WHERE path = ?", (path,))
        return len(ids)

    def documents_of(self, source_path: str) -> dict[str, tuple[int, str, str]]:
        """Return the documents read from ``source_path``: doc_id → (row id, sha256, meta key)."""
        return {
            doc_id: (row_id, sha, key)
            for row_id, doc_id, sha, key in self.con.execute(
                "SELECT id, doc_id, sha256, meta_key FROM documents WHERE source_path = ?",
                (source_path,),
            )
        }

    def document_owner(self, doc_id: str) -> str | None:
        """Return the source_path a doc_id is indexed from, if it is indexed."""
        row = self.con.execute("SELECT source_path FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return None if row is None else str(row[0])

    def document_row(self, doc_id: str) -> int:
        """Return the row id of an indexed doc_id."""
        return int(self.con.execute("SELECT id FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()[0])

    def delete_documents(self, ids: Iterable[int]) -> None:
        """Delete documents (by row id) with their passages and full-text entries."""
        ids = list(ids)
        if ids:
            self._drop_corpus_facts()
        for chunk in chunks_of(ids, 500):
            marks = ",".join("?" * len(chunk))
            # External-content FTS5 needs the old text to remove its terms, so the 'delete'
            # command must run before the passages rows go.
            self.con.execute(
                "INSERT INTO passages_fts(passages_fts, rowid, text) "
                f"SELECT 'delete', id, text FROM passages WHERE doc IN ({marks})",
                chunk,
            )
            self.con.execute(f"DELETE FROM passages WHERE doc IN ({marks})", chunk)
            self.con.execute(f"DELETE FROM documents WHERE id IN ({marks})", chunk)

    def documents_by_source(self, *, with_doc_ids: bool) -> dict[str, tuple[int, str | None]]:
        """Return source_path → (documents, smallest doc_id if asked for, else None)."""
        # Without doc_ids the counts come from the source_path index alone: MIN(doc_id) would
        # read all 100,000 rows of a large JSONL corpus (~0.05 s every build) for nothing.
        sql = (
            "SELECT source_path, COUNT(*), MIN(doc_id) FROM documents GROUP BY source_path"
            if with_doc_ids
            else "SELECT source_path, COUNT(*), NULL FROM documents GROUP BY source_path"
        )
        return {rel: (int(n), doc_id) for rel, n, doc_id in self.con.execute(sql)}

    def has_documents(self) -> bool:
        """Say whether any document is indexed."""
        return bool(self.con.execute("SELECT EXISTS (SELECT 1 FROM documents)").fetchone()[0])

    def totals(self) -> tuple[int, int]:
        """Return (documents, passages) in the store."""
        row = self.con.execute(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM passages)"
        ).fetchone()
        return int(row[0]), int(row[1])

    def store_corpus_facts(self) -> None:
        """Compute and keep the snapshot hash and date summary (no transaction open)."""
        store_corpus_facts(self.con)

    def has_corpus_facts(self) -> bool:
        """Say whether the snapshot hash and date summary are stored (the index is settled)."""
        return self.setting(CORPUS_FACTS_KEY) is not None

    def add_rows(self, docs: Sequence[DocumentRows]) -> int:
        """Insert documents given as rows (``document_rows``); return the passages written."""
        doc_rows: list[tuple[Any, ...]] = []
        passage_rows: list[tuple[Any, ...]] = []
        first_passage = passage = self._next_passage
        doc = self._next_doc
        for values, passages in docs:
            doc_rows.append((doc, *values))
            for p in passages:
                passage_rows.append((passage, doc, *p))
                passage += 1
            doc += 1
        self._next_doc, self._next_passage = doc, passage
        if doc_rows:
            self._drop_corpus_facts()
        self.con.executemany(
            "INSERT INTO documents(id, doc_id, source_path, sha256, meta_key, title, outlet, "
            "author, date, url, kind, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            doc_rows,
        )
        self.con.executemany(
            'INSERT INTO passages(id, doc, ordinal, start, "end", section, text) '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            passage_rows,
        )
        if passage_rows:
            # One statement feeds the new rows to FTS5 without a second trip through Python.
            self.con.execute(
                "INSERT INTO passages_fts(rowid, text) SELECT id, text FROM passages WHERE id >= ?",
                (first_passage,),
            )
        return len(passage_rows)


@contextlib.contextmanager
def open_for_update(path: Path, notes: list[str], *, wait_s: float = 0.0) -> Iterator[SqliteWriter]:
    """Hold the update lock beside the index and yield a writer on it (closed on exit).

    Waits up to ``wait_s`` seconds for another update to finish, then raises IndexBusyError.
    """
    lock_path = path.with_name(path.name + ".lock")
    with contextlib.ExitStack() as stack:
        try:
            holder = stack.enter_context(exclusive_lock(lock_path, wait_s=wait_s))
        except OSError as exc:
            raise index_error(lock_path, exc) from exc
        if holder is not None:
            waited = f"waited {wait_s:g} s" if wait_s else "did not wait"
            raise IndexBusyError(
                f"{path}: another `briefgen index` is updating this index ({holder}); {waited} "
                "(index.lock_wait_seconds); try again when it has finished"
            )
        con = _connect_for_update(path, notes)
        try:
            yield SqliteWriter(con)
        except sqlite3.Error as exc:
            raise index_error(path, exc) from exc
        finally:
            con.close()


def _connect_for_update(path: Path, notes: list[str]) -> sqlite3.Connection:
    """Open the index for writing: create it, or rebuild it if it is from another schema.

    A file that is not a briefgen index (another application's database, any other file) is
    refused before SQLite touches it: it is never rebuilt.
    """
    problem = foreign_file_problem(path)
    if problem:
        raise foreign_file_error(path, problem)
    existed = path.exists()
    con = connect(path)
    try:
        version = schema_version(con)
    except sqlite3.DatabaseError as exc:
        version = -1
        notes.append(f"{path} was not a readable index ({exc}); rebuilt it from scratch")
    if existed and version not in (0, SCHEMA_VERSION):
        if version != -1:
            notes.append(
                f"{path} had schema version {version} (this briefgen uses {SCHEMA_VERSION}); "
                "rebuilt it from scratch"
            )
        con.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{path}{suffix}")
        con = connect(path)
        version = 0
    try:
        if version == 0:
            create_schema(con)
        elif con.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            con.execute(f"PRAGMA application_id={APPLICATION_ID}")  # made before files were marked
        # A larger page cache lets FTS5 merge segments with fewer page reads (capped ~200 MB).
        con.execute("PRAGMA cache_size=-200000")
    except sqlite3.Error as exc:
        con.close()
        raise index_error(path, exc) from exc
    return con
