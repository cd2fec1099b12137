"""The PostgreSQL store's write side: its writer, and opening the database for an update.

``PgWriter`` implements :class:`briefgen.index.base.StoreWriter` over the tables of
``briefgen.index.postgres.schema``. The caller owns transactions (``begin``/``commit``): a
document and its passages are committed together or not at all, and a killed writer's open
transaction is rolled back by the server. :func:`open_for_update` holds the update lock, a
PostgreSQL advisory lock that the server releases when the writer's session ends (so a killed
host never leaves it held); a second writer, on any host, waits for it (bounded), then finds
the index up to date.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import psycopg

from briefgen.errors import IndexBusyError
from briefgen.index.base import DocumentRows, FileRecord
from briefgen.index.postgres import schema
from briefgen.index.postgres.connection import (
    SCHEMA,
    Connection,
    connect,
    database_error,
    fetch_one,
    location,
    lock_holder,
    lock_key,
)
from briefgen.index.postgres.tsv import searchable, tsvector_text
from briefgen.index.sqlite.analyzer import FtsAnalyzer

S = SCHEMA
#: How long an update waits for another one (on this host or another) to finish, unless
#: ``index.lock_wait_seconds`` says otherwise.
LOCK_WAIT_S = 900
INDEX_LOCK = ("index",)


class PgWriter:
    """The write side of the PostgreSQL store: documents, passages and file records, in batches."""

    def __init__(self, con: Connection) -> None:
        self.con = con
        self._analyzer = FtsAnalyzer()
        row = fetch_one(
            con, f"SELECT (SELECT coalesce(max(id), 0) + 1 FROM {S}.documents), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {S}.passages)"
        )
        self._next_doc, self._next_passage = int(row[0]), int(row[1])
        self._changed = False  # documents changed in this run: statistics to refresh

    def begin(self) -> None:
        """Start a write transaction."""
        self.con.execute("BEGIN")

    def commit(self) -> None:
        """Commit the current transaction."""
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the current transaction, if any."""
        if self.con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):
                self.con.execute("ROLLBACK")

    def setting(self, key: str) -> str | None:
        """Return a stored setting."""
        return schema.setting(self.con, key)

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting."""
        schema.set_setting(self.con, key, value)

    def _drop_corpus_facts(self) -> None:
        """Forget the stored corpus facts: documents are about to change (same transaction)."""
        self._changed = True
        self.con.execute(f"DELETE FROM {S}.settings WHERE key = %s", (schema.CORPUS_FACTS_KEY,))

    def clear(self) -> None:
        """Delete every document, passage and file record (the tables stay)."""
        self._drop_corpus_facts()
        self.con.execute(f"TRUNCATE {S}.passages, {S}.documents, {S}.files, {S}.token_passages")

    def _count_tokens(self, delta: Counter[str], sign: int) -> None:
        """Add (or, with ``sign`` -1, take) passages per token to ``token_passages``."""
        if not delta:
            return
        with self.con.cursor() as cur:
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS token_delta (token text, passages integer) "
                        "ON COMMIT DELETE ROWS")
            cur.execute("TRUNCATE token_delta")
            with cur.copy("COPY token_delta (token, passages) FROM STDIN") as copy:
                for token, n in delta.items():
                    copy.write_row((token, sign * n))
            cur.execute(
                f"INSERT INTO {S}.token_passages (token, passages) SELECT token, passages "
                "FROM token_delta ON CONFLICT (token) DO UPDATE "
                f"SET passages = {S}.token_passages.passages + EXCLUDED.passages"
            )
            if sign < 0:
                cur.execute(f"DELETE FROM {S}.token_passages t USING token_delta d "
                            "WHERE t.token = d.token AND t.passages <= 0")

    def files(self) -> dict[str, FileRecord]:
        """Return every file record: path → (size, mtime_ns, sha256, warnings)."""
        rows = self.con.execute(f"SELECT path, size, mtime_ns, sha256, warnings FROM {S}.files")
        return {path: (size, mtime_ns, sha, json.loads(warnings))
                for path, size, mtime_ns, sha, warnings in rows}

    def set_file(self, path: str, size: int, mtime_ns: int, sha256: str, warnings: Sequence[str]) -> None:
        """Record that ``path`` is indexed as of this size, mtime and content hash."""
        self.con.execute(
            f"INSERT INTO {S}.files (path, size, mtime_ns, sha256, warnings) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (path) DO UPDATE SET size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, "
            "sha256 = EXCLUDED.sha256, warnings = EXCLUDED.warnings",
            (path, size, mtime_ns, sha256, json.dumps(list(warnings), ensure_ascii=False)),
        )

    def delete_file(self, path: str) -> int:
        """Forget a file and every document read from it; return how many documents went."""
        ids = [r[0] for r in self.con.execute(f"SELECT id FROM {S}.documents WHERE source_path = %s", (path,))]
        self.delete_documents(ids)
        self.con.execute(f"DELETE FROM {S}.files WHERE path = %s", (path,))
        return len(ids)

    def documents_of(self, source_path: str) -> dict[str, tuple[int, str, str]]:
        """Return the documents read from ``source_path``: doc_id → (row id, sha256, meta key)."""
        rows = self.con.execute(
            f"SELECT id, doc_id, sha256, meta_key FROM {S}.documents WHERE source_path = %s",
            (source_path,),
        )
        return {doc_id: (row_id, sha, key) for row_id, doc_id, sha, key in rows}

    def document_owner(self, doc_id: str) -> str | None:
        """Return the source_path a doc_id is indexed from, if it is indexed."""
        row = self.con.execute(f"SELECT source_path FROM {S}.documents WHERE doc_id = %s", (doc_id,)).fetchone()
        return None if row is None else str(row[0])

    def document_row(self, doc_id: str) -> int:
        """Return the row id of an indexed doc_id."""
        return int(fetch_one(self.con, f"SELECT id FROM {S}.documents WHERE doc_id = %s", (doc_id,))[0])

    def delete_documents(self, ids: Iterable[int]) -> None:
        """Delete documents (by row id) with their passages."""
        ids = list(ids)
        if not ids:
            return
        self._drop_corpus_facts()
        gone: Counter[str] = Counter()
        for (tokens,) in self.con.execute(
            f"SELECT tsvector_to_array(tsv) FROM {S}.passages WHERE doc = ANY(%s)", (ids,)
        ):
            gone.update(tokens)
        self._count_tokens(gone, -1)
        self.con.execute(f"DELETE FROM {S}.passages WHERE doc = ANY(%s)", (ids,))
        self.con.execute(f"DELETE FROM {S}.documents WHERE id = ANY(%s)", (ids,))

    def documents_by_source(self, *, with_doc_ids: bool) -> dict[str, tuple[int, str | None]]:
        """Return source_path → (documents, smallest doc_id if asked for, else None)."""
        smallest = "min(doc_id)" if with_doc_ids else "NULL"
        rows = self.con.execute(
            f"SELECT source_path, count(*), {smallest} FROM {S}.documents GROUP BY source_path"
        )
        return {rel: (int(n), doc_id) for rel, n, doc_id in rows}

    def has_documents(self) -> bool:
        """Say whether any document is indexed."""
        return bool(fetch_one(self.con, f"SELECT EXISTS (SELECT 1 FROM {S}.documents)")[0])

    def totals(self) -> tuple[int, int]:
        """Return (documents, passages) in the store (from the stored corpus facts if there)."""
        facts = schema.stored_facts(self.con)
        summary, passages = facts.get("date_summary"), facts.get("passage_totals")
        if isinstance(summary, list) and isinstance(passages, list) and summary and passages:
            return int(summary[0]), int(passages[0])  # counting 400,000 rows takes 0.1 s
        row = fetch_one(
            self.con,
            f"SELECT (SELECT count(*) FROM {S}.documents), (SELECT count(*) FROM {S}.passages)"
        )
        return int(row[0]), int(row[1])

    def store_corpus_facts(self) -> None:
        """Compute and keep the corpus facts; refresh the planner's statistics after changes."""
        if self._changed:
            # The GIN index's pending entries go into the index proper, for fast searches.
            self.con.execute(f"SELECT gin_clean_pending_list('{S}.passages_tsv'::regclass)")
            self.con.execute(f"ANALYZE {S}.documents, {S}.passages")
        schema.store_corpus_facts(self.con)

    def add_rows(self, docs: Sequence[DocumentRows]) -> int:
        """Insert documents given as rows (``document_rows``); return the passages written."""
        if not docs:
            return 0
        self._drop_corpus_facts()
        texts = [p[4] for _, passages in docs for p in passages]
        stemmed = self._analyzer.stems_many(texts)
        tokens = iter(stemmed)
        added: Counter[str] = Counter()
        doc = self._next_doc
        passage = self._next_passage
        with self.con.cursor() as cur:
            with cur.copy(
                f"COPY {S}.documents (id, doc_id, source_path, sha256, meta_key, title, outlet, "
                "author, date, url, kind, warnings) FROM STDIN"
            ) as copy:
                for i, (values, _) in enumerate(docs):
                    copy.write_row((doc + i, *values))
            with cur.copy(
                f'COPY {S}.passages (id, doc, ordinal, start, "end", section, text, ntok, tsv) '
                "FROM STDIN"
            ) as copy:
                for i, (_, passages) in enumerate(docs):
                    for p in passages:
                        toks = next(tokens)
                        text = tsvector_text(toks)
                        copy.write_row((passage, doc + i, *p, len(toks), text))
                        added.update(searchable(toks, text))
                        passage += 1
        self._count_tokens(added, 1)
        self._next_doc = doc + len(docs)
        written = passage - self._next_passage
        self._next_passage = passage
        return written

    def close(self) -> None:
        """Release the analyzer."""
        self._analyzer.close()


@contextlib.contextmanager
def open_for_update(url: str, notes: list[str], *, wait_s: float = LOCK_WAIT_S) -> Iterator[PgWriter]:
    """Hold the update lock (waiting up to ``wait_s`` for another update) and yield a writer."""
    where = location(url)
    con = connect(url, "index")
    try:
        key = lock_key(*INDEX_LOCK)
        if not fetch_one(con, "SELECT pg_try_advisory_lock(%s)", (key,))[0]:
            holder = lock_holder(con, key)
            if wait_s <= 0:
                raise IndexBusyError(
                    f"{where}: another `briefgen index` is updating this index ({holder}); did "
                    "not wait (index.lock_wait_seconds); try again when it has finished"
                )
            con.execute(f"SET lock_timeout = '{max(1, int(wait_s * 1000))}ms'")
            try:
                con.execute("SELECT pg_advisory_lock(%s)", (key,))
            except psycopg.errors.LockNotAvailable as exc:
                raise IndexBusyError(
                    f"{where}: another `briefgen index` is updating this index ({holder}); "
                    f"waited {wait_s:g} s (index.lock_wait_seconds); try again when it has finished"
                ) from exc
            con.execute("SET lock_timeout = 0")
            notes.append(f"waited for another update of the index to finish ({holder})")
        schema.create_index_tables(con, notes)
        writer = PgWriter(con)
        try:
            yield writer
        finally:
            writer.rollback()
            writer.close()
    except psycopg.Error as exc:
        raise database_error(where, exc) from exc
    finally:
        with contextlib.suppress(psycopg.Error):
            con.close()  # the session ends: the server releases the advisory lock
