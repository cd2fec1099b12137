"""The PostgreSQL index: tsvector + GIN in the ``briefgen`` schema of a shared database.

Implements :class:`briefgen.index.base.Store` (``PgStore``) and the backend (``BACKEND``). A
:class:`~briefgen.index.base.TopicQuery` becomes one ``tsquery`` of phrase literals made of the
analyzer's tokens (no PostgreSQL parser or dictionary touches them), so that the same passages
match as in SQLite; relevance is FTS5's bm25, computed from the same counts
(``briefgen.index.postgres.tsv``). Every read runs in one repeatable-read snapshot, so a search
never mixes two states of an index that another host is updating.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Self

import psycopg

from briefgen.errors import StoreError
from briefgen.index.base import DateSummary, Hit, TopicQuery, passage_from_row, source_from_row
from briefgen.index.postgres import schema, tsv
from briefgen.index.postgres.connection import (
    SCHEMA,
    Connection,
    connect,
    database_error,
    database_url,
    fetch_one,
    location,
)
from briefgen.index.postgres.writer import PgWriter, open_for_update
from briefgen.index.sqlite.analyzer import FtsAnalyzer
from briefgen.models import Passage, Source

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

S = SCHEMA
#: bm25 (as FTS5 computes it) that the scorer maps to one half: the SQLite backend's value.
BM25_HALF = 5.0

_PASSAGE_COLS = 'd.doc_id, p.ordinal, p.start, p."end", p.text, p.section'
_SOURCE_COLS = ("d.doc_id, d.source_path, d.sha256, d.title, d.outlet, d.author, d.date, d.url, "
                "d.kind, d.warnings")


class PgStore:
    """Read-only queries over the PostgreSQL index; use as a context manager or call ``close()``."""

    relevance_half = BM25_HALF

    def __init__(self, con: Connection, where: str) -> None:
        self._con = con
        self.location = where

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session."""
        with contextlib.suppress(psycopg.Error):
            self._con.close()

    def analyzer(self) -> FtsAnalyzer:
        """Return an analyzer that tokenizes as this index was written (FTS5's tokenizer)."""
        return FtsAnalyzer()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """Run the block in one read-only, repeatable-read transaction; errors in one line."""
        try:
            with self._con.transaction():
                yield self._con
        except psycopg.Error as exc:
            raise database_error(self.location, exc) from exc

    def search(self, query: TopicQuery) -> list[Hit]:
        """Return the passages matching ``query``, most relevant (FTS5's bm25) first."""
        analyzer = self.analyzer()
        try:
            texts = [p.text for p in (*query.any_of, *query.require, *query.exclude)]
            stems = iter(analyzer.stems_many(texts))
        finally:
            analyzer.close()
        any_of = [s for _ in query.any_of if (s := next(stems))]
        require = [s for _ in query.require if (s := next(stems))]
        exclude = [s for _ in query.exclude if (s := next(stems))]
        # As FTS5: an empty phrase matches nothing, and so is no alternative, requirement or
        # exclusion; a query left without alternatives (or requirements) matches nothing.
        if not any_of or (query.require and not require) or query.limit <= 0:
            return []
        with self._snapshot() as con:
            return self._search(con, query, any_of, require, exclude)

    def _search(
        self,
        con: Connection,
        query: TopicQuery,
        any_of: list[tuple[str, ...]],
        require: list[tuple[str, ...]],
        exclude: list[tuple[str, ...]],
    ) -> list[Hit]:
        scored = [*any_of, *require]  # excluded phrases never occur in a match: they add 0
        distinct = list(dict.fromkeys(scored))
        rows, tokens = self._totals(con)
        if not rows:
            return []
        # A word's passages are counted by the writer; a phrase's are counted here, one GIN
        # lookup each (a scalar subquery per phrase: counting them all over the union of
        # matches would read every matching tsvector once per phrase).
        words = [p[0] for p in distinct if len(p) == 1]
        phrases = [p for p in distinct if len(p) > 1]
        hits: dict[tuple[str, ...], int] = {(w,): 0 for w in words}
        if words:
            found = con.execute(f"SELECT token, passages FROM {S}.token_passages "
                                "WHERE token = ANY(%s)", (words,))
            hits.update(((token,), int(n)) for token, n in found)
        if phrases:
            counts = fetch_one(
                con,
                "SELECT " + ", ".join(f"(SELECT count(*) FROM {S}.passages WHERE tsv @@ %s::tsquery)"
                                      for _ in phrases),
                [tsv.phrase_query(p) for p in phrases],
            )
            hits.update(zip(phrases, (int(n) for n in counts), strict=True))
        idf = {p: tsv.idf(rows, hits[p]) for p in distinct}
        idfs = [idf[p] for p in scored]
        avgdl = float(tokens) / float(rows)
        where = ["p.tsv @@ %s::tsquery"]
        tokens_wanted = sorted({t for p in (*distinct, *exclude) for t in p})
        params: list[Any] = [tokens_wanted, tsv.candidate_query(any_of, require, exclude)]
        join = ""
        for bound, op in ((query.date_from, ">="), (query.date_to, "<=")):
            if bound is not None:
                join = f" JOIN {S}.documents d ON d.id = p.doc"
                where.append(f"substr(d.date, 1, 10) {op} %s")
                params.append(bound[:10])
        if query.as_of is not None:  # later-dated documents out, undated ones kept
            join = f" JOIN {S}.documents d ON d.id = p.doc"
            where.append("(d.date IS NULL OR substr(d.date, 1, 10) <= %s)")
            params.append(query.as_of[:10])
        ranker = tsv.Ranker(any_of, require, exclude, idfs, avgdl)
        # The planner prices a tsquery of fifty terms like one of a word and scans the whole
        # table; through the GIN index only the rows holding a query token are read (3-4x faster).
        con.execute("SET LOCAL enable_seqscan = off")
        # A broad topic matches half the table: memory for an exact bitmap (a lossy one makes
        # the server re-check every row of every page it covers).
        con.execute("SET LOCAL work_mem = '64MB'")
        with con.cursor() as cur:
            cur.execute(
                "SELECT p.id, p.ntok, ts_filter(setweight(p.tsv, 'A', %s::text[]), '{a}')::text "
                f"FROM {S}.passages p{join} WHERE {' AND '.join(where)}",
                params,
            )
            ranked = [(-score, pid) for pid, ntok, found in cur
                      if (score := ranker.score(found, ntok)) is not None]
        ranked.sort()
        best = {pid: -score for score, pid in ranked[: query.limit]}
        if not best:
            return []
        found_rows = con.execute(
            f"SELECT {_PASSAGE_COLS}, {_SOURCE_COLS}, p.id FROM {S}.passages p "
            f"JOIN {S}.documents d ON d.id = p.doc WHERE p.id = ANY(%s)",
            (list(best),),
        ).fetchall()
        found_rows.sort(key=lambda r: (-best[r[-1]], r[-1]))
        return [Hit(passage_from_row(r, 0), source_from_row(r, 6), best[r[-1]]) for r in found_rows]

    def _totals(self, con: Connection) -> tuple[int, int]:
        """Return (passages, tokens): stored by the indexer, else counted."""
        stored = schema.stored_facts(con).get("passage_totals")
        if isinstance(stored, list) and len(stored) == 2:
            return int(stored[0]), int(stored[1])
        return schema.passage_totals_of(con)

    def source(self, doc_id: str) -> Source | None:
        """Return the indexed source with this doc_id, if any."""
        with self._snapshot() as con:
            row = con.execute(f"SELECT {_SOURCE_COLS} FROM {S}.documents d WHERE d.doc_id = %s",
                              (doc_id,)).fetchone()
        return None if row is None else source_from_row(row, 0)

    def sources(self) -> list[Source]:
        """Return every indexed source, ordered by doc_id."""
        with self._snapshot() as con:
            rows = con.execute(f"SELECT {_SOURCE_COLS} FROM {S}.documents d ORDER BY d.doc_id").fetchall()
        return [source_from_row(row, 0) for row in rows]

    def passages(self, doc_id: str) -> list[Passage]:
        """Return a document's passages in order (empty if the document is not indexed)."""
        with self._snapshot() as con:
            rows = con.execute(
                f"SELECT {_PASSAGE_COLS} FROM {S}.passages p JOIN {S}.documents d ON d.id = p.doc "
                "WHERE d.doc_id = %s ORDER BY p.ordinal",
                (doc_id,),
            ).fetchall()
        return [passage_from_row(row, 0) for row in rows]

    def passages_of(self, doc_ids: Sequence[str]) -> dict[str, list[Passage]]:
        """Return the passages of several documents, in order (absent ones are left out)."""
        found: dict[str, list[Passage]] = {}
        with self._snapshot() as con:
            rows = con.execute(
                f"SELECT {_PASSAGE_COLS} FROM {S}.documents d JOIN {S}.passages p ON p.doc = d.id "
                "WHERE d.doc_id = ANY(%s) ORDER BY d.doc_id, p.ordinal",
                (sorted(set(doc_ids)),),
            ).fetchall()
        for row in rows:
            found.setdefault(row[0], []).append(passage_from_row(row, 0))
        return found

    def snapshot_hash(self) -> str:
        """Return a sha256 over the sorted (doc_id, sha256) pairs (stored by the indexer)."""
        with self._snapshot() as con:
            stored = schema.stored_facts(con).get("snapshot_hash")
            return stored if isinstance(stored, str) else schema.snapshot_hash_of(con)

    def count_dated(self, date_from: str | None, date_to: str | None) -> int:
        """Return how many sources have an ISO date inside ``[date_from, date_to]`` (inclusive)."""
        where = [schema.ISO_DATE_SQL]
        params = []
        for bound, op in ((date_from, ">="), (date_to, "<=")):
            if bound is not None:
                where.append(f"substr(date, 1, 10) {op} %s")
                params.append(bound[:10])
        with self._snapshot() as con:
            return int(fetch_one(con, f"SELECT count(*) FROM {S}.documents WHERE "
                                      + " AND ".join(where), params)[0])

    def date_summary(self) -> DateSummary:
        """Return (sources, sources with an ISO date, earliest date, latest date)."""
        with self._snapshot() as con:
            stored = schema.stored_facts(con).get("date_summary")
            if isinstance(stored, list) and len(stored) == 4:
                sources, dated, date_from, date_to = stored
                return int(sources), int(dated), date_from, date_to
            return schema.date_summary_of(con)


def open_store(cfg: LoadedConfig) -> PgStore:
    """Open the configured database for queries; raise StoreError if it holds no index yet."""
    url = database_url(cfg)
    where = location(url)
    con = connect(url, "read", autocommit=False)
    try:
        version = schema.index_version(con)
        con.rollback()
        con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        con.read_only = True
    except psycopg.Error as exc:
        con.close()
        raise database_error(where, exc) from exc
    if version == 0:
        con.close()
        raise StoreError(f"{where}: no index in this database yet; run `briefgen index` first")
    if version != schema.INDEX_SCHEMA_VERSION:
        con.close()
        raise StoreError(
            f"{where}: the index has schema version {version}, this briefgen needs "
            f"{schema.INDEX_SCHEMA_VERSION}; run `briefgen index` to rebuild it"
        )
    return PgStore(con, where)


class PgBackend:
    """The shared backend: one PostgreSQL database for every host."""

    name = "postgresql"

    def open_store(self, cfg: LoadedConfig) -> PgStore:
        """Open the configured index for queries."""
        return open_store(cfg)

    @contextlib.contextmanager
    def writer(self, cfg: LoadedConfig, notes: list[str]) -> Iterator[PgWriter]:
        """Hold the update lock and yield a writer on the (created or rebuilt) index tables."""
        wait_s = cfg.config.index.lock_wait_seconds
        with open_for_update(database_url(cfg), notes, wait_s=wait_s) as writer:
            yield writer

    def describe(self, cfg: LoadedConfig) -> str:
        """Return the database URL (never with a password)."""
        try:
            return location(database_url(cfg))
        except StoreError:
            return "(no database configured)"

    def parallel_selection(self, cfg: LoadedConfig) -> bool:
        """Say whether to select topics in forked processes: yes (each opens its own session).

        Most of a topic's selection is briefgen's scoring in Python, and the server's share runs
        in each worker's own session; on a small corpus the fork and the session cost ~20 ms.
        """
        return True


BACKEND = PgBackend()
