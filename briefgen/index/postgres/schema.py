"""The PostgreSQL index's tables (in the ``briefgen`` schema) and its corpus facts.

The layout follows the SQLite index (``briefgen.index.sqlite.schema``): ``files``,
``documents``, ``passages`` and ``settings`` (pipeline fingerprint, corpus facts, schema
versions). A passage row also holds ``ntok``, its number of tokens, and ``tsv``, its tokens as
a ``tsvector`` (see ``briefgen.index.postgres.tsv``) under a GIN index; ``token_passages``
counts the passages that hold each token. Text that is ordered or
compared (doc_id, paths, dates) is ``COLLATE "C"``: byte order, as in SQLite, whatever the
database's default collation, so that snapshot hashes and orderings agree between backends.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from briefgen.index.postgres.connection import SCHEMA, Connection, fetch_one, lock_key

INDEX_SCHEMA_VERSION = 1
INDEX_VERSION_KEY = "index_schema"
#: The ``settings`` key of the stored corpus facts (see :func:`store_corpus_facts`).
CORPUS_FACTS_KEY = "corpus_facts"
#: Keys of the index in ``settings`` (the run history keeps its own keys there).
INDEX_KEYS = ("pipeline", "inputs", CORPUS_FACTS_KEY)

S = SCHEMA
_INDEX_TABLES = ("passages", "documents", "files", "token_passages")
_INDEX_DDL = f"""
CREATE TABLE {S}.files (
    path text COLLATE "C" PRIMARY KEY,
    size bigint NOT NULL,
    mtime_ns bigint NOT NULL,
    sha256 text NOT NULL,
    warnings text NOT NULL DEFAULT '[]'
);
CREATE TABLE {S}.documents (
    id bigint PRIMARY KEY,
    doc_id text COLLATE "C" NOT NULL UNIQUE,
    source_path text COLLATE "C" NOT NULL,
    sha256 text NOT NULL,
    meta_key text NOT NULL DEFAULT '',
    title text, outlet text, author text, date text COLLATE "C", url text, kind text,
    warnings text NOT NULL DEFAULT '[]'
);
CREATE INDEX documents_source_path ON {S}.documents (source_path);
CREATE INDEX documents_date ON {S}.documents (date);
CREATE TABLE {S}.passages (
    id bigint PRIMARY KEY,
    doc bigint NOT NULL,
    ordinal integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    section text,
    text text NOT NULL,
    ntok integer NOT NULL,
    tsv tsvector NOT NULL
) WITH (toast_tuple_target = 8160);
-- A search reads the tsvector of every passage that matches: kept in the row, uncompressed
-- (a TOASTed one costs a lookup and a decompression per row, 30 % of a broad topic's search).
ALTER TABLE {S}.passages ALTER COLUMN tsv SET STORAGE MAIN;
CREATE INDEX passages_doc ON {S}.passages (doc);
CREATE INDEX passages_tsv ON {S}.passages USING gin (tsv);
-- How many passages hold each token: a single-word term's document frequency for bm25, kept
-- by the writer in the transactions that change passages (counting it in the GIN index reads
-- every matching row: 0.3 s for a common word over 400,000 passages).
CREATE TABLE {S}.token_passages (
    token text COLLATE "C" PRIMARY KEY,
    passages integer NOT NULL
);
"""


def ensure_settings(con: Connection) -> None:
    """Create the ``briefgen`` schema and its settings table if absent (any number of hosts at once)."""
    if fetch_one(con, "SELECT to_regclass(%s)", (f"{S}.settings",))[0] is not None:
        return
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("schema"),))
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {S}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {S}.settings "
                    "(key text PRIMARY KEY, value text NOT NULL)")


def setting(con: Connection, key: str) -> str | None:
    """Return a stored setting, or None (also when there is no settings table yet)."""
    if fetch_one(con, "SELECT to_regclass(%s)", (f"{S}.settings",))[0] is None:
        return None
    row = con.execute(f"SELECT value FROM {S}.settings WHERE key = %s", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_setting(con: Connection, key: str, value: str) -> None:
    """Store a setting."""
    con.execute(
        f"INSERT INTO {S}.settings (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (key, value),
    )


def index_version(con: Connection) -> int:
    """Return the stored index schema version (0: no index tables yet)."""
    value = setting(con, INDEX_VERSION_KEY)
    return int(value) if value and value.isdigit() else 0


def create_index_tables(con: Connection, notes: list[str]) -> None:
    """Create the index tables, or rebuild them if another schema version made them.

    Call holding the index update lock, with no transaction open.
    """
    ensure_settings(con)
    version = index_version(con)
    if version == INDEX_SCHEMA_VERSION:
        return
    with con.transaction():
        if version:
            notes.append(f"the index had schema version {version} (this briefgen uses "
                         f"{INDEX_SCHEMA_VERSION}); rebuilt it from scratch")
        for table in _INDEX_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {S}.{table}")
        con.execute(f"DELETE FROM {S}.settings WHERE key = ANY(%s)", (list(INDEX_KEYS),))
        con.execute(_INDEX_DDL)
        set_setting(con, INDEX_VERSION_KEY, str(INDEX_SCHEMA_VERSION))


def snapshot_hash_of(con: Connection) -> str:
    """Return a sha256 over the sorted (doc_id, sha256) pairs: equal hashes, equal corpus."""
    digest = hashlib.sha256()
    with con.cursor() as cur:
        cur.execute(f"SELECT doc_id, sha256 FROM {S}.documents ORDER BY doc_id")
        for doc_id, sha in cur:
            digest.update(f"{doc_id}\t{sha}\n".encode())
    return digest.hexdigest()


#: A document whose date starts with YYYY-MM-DD (as SQLite's GLOB in its date summary).
ISO_DATE_SQL = "date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'"


def date_summary_of(con: Connection) -> tuple[int, int, str | None, str | None]:
    """Return (sources, sources with an ISO date, earliest date, latest date), in one query."""
    row = fetch_one(con, 
        f"SELECT count(*), count(day), min(day), max(day) FROM (SELECT CASE WHEN {ISO_DATE_SQL} "
        f"THEN substr(date, 1, 10) END AS day FROM {S}.documents) d"
    )
    return int(row[0]), int(row[1]), row[2], row[3]


def passage_totals_of(con: Connection) -> tuple[int, int]:
    """Return (passages, tokens in them): the row count and total size BM25 needs."""
    row = fetch_one(con, f"SELECT count(*), coalesce(sum(ntok), 0) FROM {S}.passages")
    return int(row[0]), int(row[1])


def corpus_facts(con: Connection) -> dict[str, Any]:
    """Compute the corpus facts: snapshot hash, date summary, passage and token totals."""
    return {"snapshot_hash": snapshot_hash_of(con), "date_summary": list(date_summary_of(con)),
            "passage_totals": list(passage_totals_of(con))}


def stored_facts(con: Connection) -> dict[str, Any]:
    """Return the stored corpus facts ({} when absent or unreadable)."""
    value = setting(con, CORPUS_FACTS_KEY)
    try:
        facts = json.loads(value) if value is not None else {}
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}


def store_corpus_facts(con: Connection) -> bool:
    """Compute and store the corpus facts unless stored already; return whether it computed.

    As in the SQLite index, every writer method that changes ``documents`` or ``passages``
    deletes them in its own transaction, so a stored value is what a fresh computation would
    give. They are computed in a repeatable-read transaction that holds the row of the key
    (no change can slip in). Call with no transaction open, holding the update lock.
    """
    if stored_facts(con):
        return False
    with con.transaction():
        con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        facts = corpus_facts(con)
        set_setting(con, CORPUS_FACTS_KEY, json.dumps(facts, ensure_ascii=False))
    return True
