"""The embedded index: SQLite FTS5 (porter stemming, BM25) in ``.briefgen/index.sqlite``.

Implements :class:`briefgen.index.base.Store` (``SqliteStore``, the read side) and the backend
(``BACKEND``: open for reading, or for an update through ``briefgen.index.sqlite.writer``). A
:class:`~briefgen.index.base.TopicQuery` is compiled to one FTS5 MATCH expression in which every
term is quoted as an FTS5 string, so quotes, brackets, ``AND``/``NEAR``/``*`` in a topic file are
plain text. The table layout is in ``briefgen.index.sqlite.schema``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from briefgen.errors import StoreError
from briefgen.index.base import (
    DateSummary,
    Hit,
    Phrase,
    TopicQuery,
    chunks_of,
    passage_from_row,
    source_from_row,
)
from briefgen.index.sqlite.analyzer import FtsAnalyzer, fts_phrase
from briefgen.index.sqlite.schema import (
    CORPUS_FACTS_KEY,
    ISO_DATE_SQL,
    SCHEMA_VERSION,
    connect,
    date_summary_of,
    foreign_file_error,
    foreign_file_problem,
    index_error,
    schema_version,
    snapshot_hash_of,
)
from briefgen.index.sqlite.writer import SqliteWriter, open_for_update
from briefgen.models import Passage, Source

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

#: BM25 (as FTS5 computes it, positive) that the scorer maps to one half.
BM25_HALF = 5.0
#: Below this index size, forking selection workers costs more than it saves.
PARALLEL_MIN_INDEX_BYTES = 16_000_000


class SqliteStore:
    """Read-only queries over the SQLite index; use as a context manager or call ``close()``."""

    relevance_half = BM25_HALF

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self._con = con
        self.path = path
        self.location = str(path)

    def analyzer(self) -> FtsAnalyzer:
        """Return an analyzer using this index's own FTS5 tokenizer."""
        return FtsAnalyzer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def search(self, query: TopicQuery) -> list[Hit]:
        """Return the passages matching ``query``, most relevant (BM25, positive) first.

        With a date window, only documents with a date inside it (inclusive, compared on
        YYYY-MM-DD) are returned; undated documents cannot be placed in a window. With
        ``as_of``, documents dated after it are left out and undated ones kept.
        """
        match = match_expression(query)
        if not match:
            return []
        date_from, date_to, limit = query.date_from, query.date_to, query.limit
        where = ["passages_fts MATCH ?"]
        params: list[Any] = [match]
        if date_from is not None:
            where.append("substr(d.date, 1, 10) >= ?")
            params.append(date_from[:10])
        if date_to is not None:
            where.append("substr(d.date, 1, 10) <= ?")
            params.append(date_to[:10])
        if query.as_of is not None:
            where.append("(d.date IS NULL OR substr(d.date, 1, 10) <= ?)")
            params.append(query.as_of[:10])
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
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if not text.startswith("fts5:") and "no such column" not in text:
                raise index_error(self.path, exc) from exc  # locked, I/O, a damaged file
            # FTS5 refusing the MATCH expression (syntax, unknown column…).
            raise StoreError(
                f"bad search expression {match!r} ({text}); see the FTS5 query syntax: "
                "words, \"exact phrases\", OR, NOT, NEAR(…)"
            ) from exc
        return [Hit(passage_from_row(row, 0), source_from_row(row, 7), float(row[-1])) for row in rows]

    def source(self, doc_id: str) -> Source | None:
        """Return the indexed source with this doc_id, if any."""
        with self._reading():
            row = self._con.execute(
                f"SELECT {_SOURCE_COLS} FROM documents d WHERE d.doc_id = ?", (doc_id,)
            ).fetchone()
        return None if row is None else source_from_row(row, 0)

    def sources(self) -> list[Source]:
        """Return every indexed source, ordered by doc_id."""
        with self._reading():
            rows = self._con.execute(f"SELECT {_SOURCE_COLS} FROM documents d ORDER BY d.doc_id")
            return [source_from_row(row, 0) for row in rows]

    def passages(self, doc_id: str) -> list[Passage]:
        """Return a document's passages in order (empty if the document is not indexed)."""
        with self._reading():
            rows = self._con.execute(
                f"SELECT {_PASSAGE_COLS} FROM passages p JOIN documents d ON d.id = p.doc "
                "WHERE d.doc_id = ? ORDER BY p.ordinal",
                (doc_id,),
            )
            return [passage_from_row(row, 0) for row in rows]

    def passages_of(self, doc_ids: Sequence[str]) -> dict[str, list[Passage]]:
        """Return the passages of several documents, in order (absent ones are left out)."""
        found: dict[str, list[Passage]] = {}
        for chunk in chunks_of(sorted(set(doc_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._con.execute(
                f"SELECT {_PASSAGE_COLS} FROM documents d JOIN passages p ON p.doc = d.id "
                f"WHERE d.doc_id IN ({marks}) ORDER BY d.doc_id, p.ordinal",
                chunk,
            )
            for row in rows:
                found.setdefault(row[0], []).append(passage_from_row(row, 0))
        return found

    def snapshot_hash(self) -> str:
        """Return a sha256 over the sorted (doc_id, sha256) pairs: equal hashes, equal corpus.

        The value the indexer stored (:func:`store_corpus_facts`) if it is there, else computed.
        """
        with self._reading():
            stored = self._stored_facts().get("snapshot_hash")
            return stored if isinstance(stored, str) else snapshot_hash_of(self._con)

    def date_summary(self) -> DateSummary:
        """Return (sources, sources with an ISO date, earliest date, latest date).

        The value the indexer stored (:func:`store_corpus_facts`) if it is there, else computed.
        """
        with self._reading():
            stored = self._stored_facts().get("date_summary")
            if isinstance(stored, list) and len(stored) == 4:
                sources, dated, date_from, date_to = stored
                return int(sources), int(dated), date_from, date_to
            return date_summary_of(self._con)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn an SQLite error while reading (a damaged file) into one line saying what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            raise index_error(self.path, exc) from exc

    def count_dated(self, date_from: str | None, date_to: str | None) -> int:
        """Return how many sources have an ISO date inside ``[date_from, date_to]`` (inclusive)."""
        where = [ISO_DATE_SQL]
        params: list[str] = []
        if date_from is not None:
            where.append("substr(date, 1, 10) >= ?")
            params.append(date_from[:10])
        if date_to is not None:
            where.append("substr(date, 1, 10) <= ?")
            params.append(date_to[:10])
        sql = f"SELECT COUNT(*) FROM documents WHERE {' AND '.join(where)}"
        return int(self._con.execute(sql, params).fetchone()[0])

    def _stored_facts(self) -> dict[str, Any]:
        row = self._con.execute(
            "SELECT value FROM settings WHERE key = ?", (CORPUS_FACTS_KEY,)
        ).fetchone()
        try:
            facts = json.loads(row[0]) if row is not None else {}
        except ValueError:
            return {}  # unreadable: computed afresh instead
        return facts if isinstance(facts, dict) else {}



_PASSAGE_COLS = 'd.doc_id, p.ordinal, p.start, p."end", p.text, p.section, p.id'
_SOURCE_COLS = "d.doc_id, d.source_path, d.sha256, d.title, d.outlet, d.author, d.date, d.url, d.kind, d.warnings"


def open_store(cfg: LoadedConfig) -> SqliteStore:
    """Open the configured index for queries; raise ``StoreError`` if there is none yet."""
    path = index_path(cfg)
    if not path.is_file():
        raise StoreError(f"{path}: no index yet; run `briefgen index` first")
    problem = foreign_file_problem(path)
    if problem:
        raise foreign_file_error(path, problem)
    con = connect(path)
    try:
        version = schema_version(con)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise index_error(path, exc) from exc
    if version != SCHEMA_VERSION:
        con.close()
        raise StoreError(
            f"{path}: the index has schema version {version}, this briefgen needs "
            f"{SCHEMA_VERSION}; run `briefgen index` to rebuild it"
        )
    con.execute("PRAGMA query_only=1")
    return SqliteStore(con, path)


def match_expression(query: TopicQuery) -> str:
    """Compile a query to one FTS5 MATCH expression ("" when it can match nothing)."""
    if not query.any_of:
        return ""

    def any_of(phrases: Sequence[Phrase]) -> str:
        return "(" + " OR ".join(fts_phrase(p.text) for p in phrases) + ")"

    match = any_of(query.any_of)
    if query.require:
        match += " AND " + any_of(query.require)
    if query.exclude:
        match = "(" + match + ") NOT " + any_of(query.exclude)
    return match


def index_path(cfg: LoadedConfig) -> Path:
    """Return where the configured SQLite index lives."""
    return cfg.resolve(cfg.config.index.path)


class SqliteBackend:
    """The embedded backend: one SQLite file, a lock file beside it."""

    name = "sqlite"

    def open_store(self, cfg: LoadedConfig) -> SqliteStore:
        """Open the configured index for queries."""
        return open_store(cfg)

    @contextlib.contextmanager
    def writer(self, cfg: LoadedConfig, notes: list[str]) -> Iterator[SqliteWriter]:
        """Hold the update lock (waiting up to ``index.lock_wait_seconds`` for it) and yield a
        writer on the (created or rebuilt) index file."""
        wait_s = cfg.config.index.lock_wait_seconds
        with open_for_update(index_path(cfg), notes, wait_s=wait_s) as writer:
            yield writer

    @contextlib.contextmanager
    def unlocked_view(self, cfg: LoadedConfig) -> Iterator[SqliteWriter | None]:
        """Yield a read-only view of the index, without the update lock, to check whether it is
        current (None: no index of this schema yet; the update makes or rebuilds it)."""
        path = index_path(cfg)
        if not path.is_file() or foreign_file_problem(path):
            yield None
            return
        try:
            con = connect(path)
        except StoreError:
            yield None  # e.g. locked right now: the update waits for it properly
            return
        try:
            try:
                con.execute("PRAGMA query_only=1")
                view = SqliteWriter(con) if schema_version(con) == SCHEMA_VERSION else None
            except sqlite3.DatabaseError:
                view = None  # unreadable: the update under the lock reports or rebuilds it
            try:
                yield view
            except sqlite3.Error as exc:
                raise index_error(path, exc) from exc
        finally:
            con.close()

    def describe(self, cfg: LoadedConfig) -> str:
        """Return the index file's path."""
        return str(index_path(cfg))

    def parallel_selection(self, cfg: LoadedConfig) -> bool:
        """Say whether the index file is large enough for forked selection to pay off."""
        try:
            return index_path(cfg).stat().st_size >= PARALLEL_MIN_INDEX_BYTES
        except OSError:
            return False  # no index: opening it reports that, in this process


BACKEND = SqliteBackend()



