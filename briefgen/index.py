"""The search index: SQLite FTS5 (porter stemming, BM25) in ``.briefgen/index.sqlite``.

``update_index()`` (in ``briefgen.indexer``, re-exported here) keeps it in step with the
corpus; ``open_index()`` gives the read side, ``Index``. The store stays behind these few
functions so that a server-backed store could replace it for corpora that outgrow one machine.

Layout (schema version in ``PRAGMA user_version``):

- ``files``: one row per corpus file — size, mtime_ns and sha256 for change detection, and
  the warnings it produced (re-reported while the file is unchanged, so ``--strict`` stays honest).
- ``documents``: one row per article — doc_id, source_path, sha256, metadata, warnings.
- ``passages``: the passage spans and texts; ``passages_fts`` is an *external-content* FTS5
  table over ``passages.text``, so every text is stored once (a plain FTS5 table would store
  it twice; a contentless one cannot delete rows on SQLite < 3.43).
- ``settings``: the corpus settings fingerprint and the *corpus facts* (snapshot hash and date
  range, see :func:`store_corpus_facts`): computed by the indexer, read by every build.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from briefgen.errors import IndexError_
from briefgen.models import Document, Passage, Source, SourceMeta

if TYPE_CHECKING:
    from briefgen.config import LoadedConfig
    from briefgen.indexer import IndexSummary, update_index

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY,          -- relative to the project root, POSIX separators
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    source_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    meta_key TEXT NOT NULL DEFAULT '',  -- hash of the metadata read with it (change detection)
    title TEXT, outlet TEXT, author TEXT, date TEXT, url TEXT, kind TEXT,
    warnings TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX documents_source_path ON documents(source_path);
CREATE INDEX documents_date ON documents(date);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    doc INTEGER NOT NULL,           -- documents.id
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    section TEXT,
    text TEXT NOT NULL
);
CREATE INDEX passages_doc ON passages(doc);
CREATE VIRTUAL TABLE passages_fts USING fts5(
    text, content='passages', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
"""

_META_COLUMNS = ("title", "outlet", "author", "date", "url", "kind")

#: The ``settings`` key of the stored corpus facts (:func:`store_corpus_facts`).
CORPUS_FACTS_KEY = "corpus_facts"


def index_path(cfg: LoadedConfig) -> Path:
    """Return where the configured index lives."""
    return cfg.resolve(cfg.config.index.path)


def connect(path: Path) -> sqlite3.Connection:
    """Open the index database with the settings every connection uses."""
    try:
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA journal_mode=WAL")
        # Under WAL, NORMAL loses at most the last commits on power loss, never consistency.
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=OFF")
    except sqlite3.Error as exc:
        raise index_error(path, exc) from exc
    return con


def index_error(path: Path, exc: BaseException) -> IndexError_:
    """Turn an SQLite or OS error about the index into a message that says what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return IndexError_(
            f"{path}: the index is locked by another process (is another `briefgen index` "
            "running?); try again when it has finished"
        )
    if "unable to open" in text or isinstance(exc, PermissionError) or "readonly" in text:
        return IndexError_(
            f"{path}: cannot write the index ({text}); check that {path.parent} is a writable "
            "folder or set index.path in config.yaml"
        )
    if "malformed" in text or "not a database" in text:
        return IndexError_(f"{path}: the index is damaged ({text}); delete it and run `briefgen index`")
    return IndexError_(f"{path}: {text}")


def schema_version(con: sqlite3.Connection) -> int:
    """Return the schema version stored in the database (0 for an empty database)."""
    return int(con.execute("PRAGMA user_version").fetchone()[0])


def create_schema(con: sqlite3.Connection) -> None:
    """Create the tables of an empty database and stamp the schema version."""
    con.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")


def snapshot_hash_of(con: sqlite3.Connection) -> str:
    """Return a sha256 over the sorted (doc_id, sha256) pairs: equal hashes, equal corpus."""
    digest = hashlib.sha256()
    for doc_id, sha in con.execute("SELECT doc_id, sha256 FROM documents ORDER BY doc_id"):
        digest.update(f"{doc_id}\t{sha}\n".encode())
    return digest.hexdigest()


def date_summary_of(con: sqlite3.Connection) -> tuple[int, int, str | None, str | None]:
    """Return (sources, sources with an ISO date, earliest date, latest date), in one query."""
    row = con.execute(
        "SELECT COUNT(*), COUNT(day), MIN(day), MAX(day) FROM (SELECT CASE WHEN date GLOB "
        "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN substr(date, 1, 10) END AS day "
        "FROM documents)"
    ).fetchone()
    return int(row[0]), int(row[1]), row[2], row[3]


def store_corpus_facts(con: sqlite3.Connection) -> None:
    """Compute and store the snapshot hash and date summary, unless they are stored already.

    Both scan every document (~0.15 s for 100,000), which every build would otherwise pay.
    They are computed with the very functions ``Index`` falls back on, inside a write
    transaction (no change can slip in between), and every ``IndexWriter`` method that
    changes ``documents`` deletes them in its own transaction (the only code that writes
    that table). So a stored value is what a fresh computation would give. Call with no
    transaction open.
    """
    key = (CORPUS_FACTS_KEY,)
    if con.execute("SELECT 1 FROM settings WHERE key = ?", key).fetchone() is not None:
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        facts = {"snapshot_hash": snapshot_hash_of(con), "date_summary": date_summary_of(con)}
        con.execute(
            "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)",
            (CORPUS_FACTS_KEY, json.dumps(facts, ensure_ascii=False)),
        )
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def meta_values(meta: SourceMeta) -> tuple[str | None, ...]:
    """Return the metadata columns of a source, in ``_META_COLUMNS`` order."""
    return (meta.title, meta.outlet, meta.author, meta.date, meta.url, meta.kind)


#: A document ready to insert: its ``documents`` values (without the row id) and the
#: (ordinal, start, end, section, text) of each passage. Plain tuples, so that worker
#: processes can build them and this process unpickles them cheaply.
DocumentRows = tuple[tuple[Any, ...], list[tuple[Any, ...]]]


def document_rows(doc: Document, meta_key: str) -> DocumentRows:
    """Return a document as the rows ``IndexWriter.add_rows`` inserts."""
    src = doc.source
    values = (src.doc_id, src.source_path, src.sha256, meta_key, *meta_values(src.meta),
              _warnings_json(src.warnings))
    return values, [(p.ordinal, p.start, p.end, p.section, p.text) for p in doc.passages]


class IndexWriter:
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

    def files(self) -> dict[str, tuple[int, int, str, list[str]]]:
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
        for chunk in _chunks(ids, 500):
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


class Index:
    """Read-only queries over the index; use as a context manager or call ``close()``."""

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self._con = con
        self.path = path

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def search(
        self,
        match: str,
        *,
        limit: int,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[tuple[Passage, Source, float]]:
        """Return the passages matching an FTS5 MATCH expression, most relevant first.

        The float is BM25 relevance, positive, higher is better. With a date window, only
        documents with a date inside it (inclusive, compared on YYYY-MM-DD) are returned;
        undated documents cannot be placed in a window and are left out.
        """
        where = ["passages_fts MATCH ?"]
        params: list[Any] = [match]
        if date_from is not None:
            where.append("substr(d.date, 1, 10) >= ?")
            params.append(date_from[:10])
        if date_to is not None:
            where.append("substr(d.date, 1, 10) <= ?")
            params.append(date_to[:10])
        params.append(limit)
        # Rank the matches first and read only the rows that make the cut: joining every
        # match to its passage (and its text) before sorting costs twice as much on a big index.
        dated = (
            " JOIN passages p ON p.id = passages_fts.rowid JOIN documents d ON d.id = p.doc"
            if len(where) > 1 else ""
        )
        sql = (
            f"SELECT {_PASSAGE_COLS}, {_SOURCE_COLS}, hits.relevance FROM ("
            "SELECT passages_fts.rowid AS id, -bm25(passages_fts) AS relevance "
            f"FROM passages_fts{dated} WHERE {' AND '.join(where)} "
            "ORDER BY bm25(passages_fts) LIMIT ?"
            ") AS hits JOIN passages p ON p.id = hits.id JOIN documents d ON d.id = p.doc "
            "ORDER BY hits.relevance DESC, p.id"
        )
        try:
            rows = self._con.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if any(word in text for word in ("locked", "busy", "disk", "I/O", "malformed")):
                raise index_error(self.path, exc) from exc
            # Anything else is FTS5 refusing the MATCH expression (syntax, unknown column…).
            raise IndexError_(
                f"bad search expression {match!r} ({text}); see the FTS5 query syntax: "
                "words, \"exact phrases\", OR, NOT, NEAR(…)"
            ) from exc
        return [(_passage(row, 0), _source(row, 7), float(row[-1])) for row in rows]

    def source(self, doc_id: str) -> Source | None:
        """Return the indexed source with this doc_id, if any."""
        row = self._con.execute(
            f"SELECT {_SOURCE_COLS} FROM documents d WHERE d.doc_id = ?", (doc_id,)
        ).fetchone()
        return None if row is None else _source(row, 0)

    def sources(self) -> list[Source]:
        """Return every indexed source, ordered by doc_id."""
        rows = self._con.execute(f"SELECT {_SOURCE_COLS} FROM documents d ORDER BY d.doc_id")
        return [_source(row, 0) for row in rows]

    def passages(self, doc_id: str) -> list[Passage]:
        """Return a document's passages in order (empty if the document is not indexed)."""
        rows = self._con.execute(
            f"SELECT {_PASSAGE_COLS} FROM passages p JOIN documents d ON d.id = p.doc "
            "WHERE d.doc_id = ? ORDER BY p.ordinal",
            (doc_id,),
        )
        return [_passage(row, 0) for row in rows]

    def snapshot_hash(self) -> str:
        """Return a sha256 over the sorted (doc_id, sha256) pairs: equal hashes, equal corpus.

        The value the indexer stored (:func:`store_corpus_facts`) if it is there, else computed.
        """
        stored = self._stored_facts().get("snapshot_hash")
        return stored if isinstance(stored, str) else snapshot_hash_of(self._con)

    def date_summary(self) -> tuple[int, int, str | None, str | None]:
        """Return (sources, sources with an ISO date, earliest date, latest date).

        The value the indexer stored (:func:`store_corpus_facts`) if it is there, else computed.
        """
        stored = self._stored_facts().get("date_summary")
        if isinstance(stored, list) and len(stored) == 4:
            sources, dated, date_from, date_to = stored
            return int(sources), int(dated), date_from, date_to
        return date_summary_of(self._con)

    def _stored_facts(self) -> dict[str, Any]:
        row = self._con.execute(
            "SELECT value FROM settings WHERE key = ?", (CORPUS_FACTS_KEY,)
        ).fetchone()
        try:
            facts = json.loads(row[0]) if row is not None else {}
        except ValueError:
            return {}  # unreadable: computed afresh instead
        return facts if isinstance(facts, dict) else {}

    def counts(self) -> tuple[int, int]:
        """Return (documents, passages) in the index."""
        docs = self._con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        passages = self._con.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return int(docs), int(passages)


_PASSAGE_COLS = 'd.doc_id, p.ordinal, p.start, p."end", p.text, p.section, p.id'
_SOURCE_COLS = "d.doc_id, d.source_path, d.sha256, d.title, d.outlet, d.author, d.date, d.url, d.kind, d.warnings"


def _passage(row: Sequence[Any], i: int) -> Passage:
    return Passage(
        doc_id=row[i], ordinal=row[i + 1], start=row[i + 2], end=row[i + 3], text=row[i + 4],
        section=row[i + 5],
    )


def _source(row: Sequence[Any], i: int) -> Source:
    return Source(
        doc_id=row[i],
        source_path=row[i + 1],
        sha256=row[i + 2],
        meta=SourceMeta(*row[i + 3 : i + 9]),
        warnings=() if row[i + 9] == "[]" else tuple(json.loads(row[i + 9])),
    )


def _warnings_json(warnings: Sequence[str]) -> str:
    return json.dumps(list(warnings), ensure_ascii=False) if warnings else "[]"


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def open_index(cfg: LoadedConfig) -> Index:
    """Open the configured index for queries; raise ``IndexError_`` if there is none yet."""
    path = index_path(cfg)
    if not path.is_file():
        raise IndexError_(f"{path}: no index yet; run `briefgen index` first")
    con = connect(path)
    try:
        version = schema_version(con)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise index_error(path, exc) from exc
    if version != SCHEMA_VERSION:
        con.close()
        raise IndexError_(
            f"{path}: the index has schema version {version}, this briefgen needs "
            f"{SCHEMA_VERSION}; run `briefgen index` to rebuild it"
        )
    con.execute("PRAGMA query_only=1")
    return Index(con, path)


def __getattr__(name: str) -> Any:
    """Re-export ``update_index`` and ``IndexSummary``, which live in ``briefgen.indexer``."""
    # Lazily, because briefgen.indexer imports this module.
    if name in ("update_index", "IndexSummary"):
        from briefgen import indexer

        return getattr(indexer, name)
    raise AttributeError(f"module 'briefgen.index' has no attribute {name!r}")


__all__ = ["SCHEMA_VERSION", "Index", "IndexSummary", "open_index", "update_index"]
