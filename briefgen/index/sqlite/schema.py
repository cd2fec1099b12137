"""The SQLite index's tables, connection settings and corpus facts.

Layout (schema version in ``PRAGMA user_version``; every file briefgen creates is marked with
``PRAGMA application_id`` = :data:`APPLICATION_ID`, and a file that is not briefgen's is never
changed or rebuilt, see :func:`foreign_file_problem`):

- ``files``: one row per corpus file — size, mtime_ns and sha256 for change detection, and
  the warnings it produced (re-reported while the file is unchanged, so ``--strict`` stays honest).
- ``documents``: one row per article — doc_id, source_path, sha256, metadata, warnings.
- ``passages``: the passage spans and texts; ``passages_fts`` is an *external-content* FTS5
  table over ``passages.text``, so every text is stored once (a plain FTS5 table would store
  it twice; a contentless one cannot delete rows on SQLite < 3.43).
- ``settings``: the pipeline fingerprint and the *corpus facts* (snapshot hash and date
  range, see :func:`store_corpus_facts`): computed by the indexer, read by every build.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from briefgen._fs import open_regular
from briefgen.errors import IndexBusyError, StoreError

SCHEMA_VERSION = 1

#: ``PRAGMA application_id`` of a briefgen index ("BrGn"): stored in the SQLite file header.
APPLICATION_ID = 0x4272476E
_SQLITE_MAGIC = b"SQLite format 3\x00"
_OWN_TABLES = frozenset({"settings", "files", "documents", "passages", "passages_fts"})


BUSY_TIMEOUT_MS = 5000


#: The FTS5 tokenizer of the index; FtsAnalyzer tokenizes with the same one.
TOKENIZE = "porter unicode61 remove_diacritics 2"

_SCHEMA = f"""
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
    tokenize='{TOKENIZE}'
);
"""


_META_COLUMNS = ("title", "outlet", "author", "date", "url", "kind")


#: The ``settings`` key of the stored corpus facts (:func:`store_corpus_facts`).
CORPUS_FACTS_KEY = "corpus_facts"


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


def index_error(path: Path, exc: BaseException) -> StoreError:
    """Turn an SQLite or OS error about the index into a message that says what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return IndexBusyError(
            f"{path}: the index is locked by another process (is another `briefgen index` "
            "running?); try again when it has finished"
        )
    if "unable to open" in text or isinstance(exc, PermissionError) or "readonly" in text:
        return StoreError(
            f"{path}: cannot write the index ({text}); check that {path.parent} is a writable "
            "folder or set index.path in config.yaml"
        )
    damaged = ("malformed", "not a database", "vtable constructor failed", "corrupt")
    if any(word in text for word in damaged):
        return StoreError(f"{path}: the index is damaged ({text}); delete it and run `briefgen index`")
    return StoreError(f"{path}: {text}")


def schema_version(con: sqlite3.Connection) -> int:
    """Return the schema version stored in the database (0 for an empty database)."""
    return int(con.execute("PRAGMA user_version").fetchone()[0])


def create_schema(con: sqlite3.Connection) -> None:
    """Create the tables of an empty database and stamp the schema version and briefgen's mark."""
    con.executescript(
        "BEGIN;" + _SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION}; "
        f"PRAGMA application_id={APPLICATION_ID}; COMMIT;"
    )


def foreign_file_problem(path: Path) -> str | None:
    """Say why the file at ``path`` is not a briefgen index (None: it is one, or is new or empty).

    Read from the file header, before SQLite opens it for writing: a file of another
    application must not even be switched to WAL mode. Indexes made before briefgen marked
    its files (application_id 0) are recognised by their tables.
    """
    try:
        with open_regular(path) as fh:
            header = fh.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not header:
        return None  # an empty file: SQLite makes a new database in it
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "is not an SQLite database"
    application_id = int.from_bytes(header[68:72], "big")
    if application_id == APPLICATION_ID:
        return None
    if application_id != 0:
        return f"belongs to another application (SQLite application_id {application_id:#x})"
    try:
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            # Tables only: briefgen's own indexes (documents_source_path, …) are not tables.
            names = [row[0] for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"is an SQLite database that cannot be read ({exc})"
    other = sorted(
        n for n in names if n not in _OWN_TABLES and not n.startswith(("passages_", "sqlite_"))
    )
    if other:
        return f"holds tables briefgen does not make ({', '.join(other[:5])})"
    return None


def foreign_file_error(path: Path, problem: str) -> StoreError:
    """Return the error for an ``index.path`` that names a file which is not briefgen's."""
    return StoreError(
        f"{path}: {problem}; it is not a briefgen index, so briefgen leaves it alone. Point "
        "index.path at another file (or, if it is a damaged briefgen index, delete it)"
    )


def snapshot_hash_of(con: sqlite3.Connection) -> str:
    """Return a sha256 over the sorted (doc_id, sha256) pairs: equal hashes, equal corpus."""
    digest = hashlib.sha256()
    for doc_id, sha in con.execute("SELECT doc_id, sha256 FROM documents ORDER BY doc_id"):
        digest.update(f"{doc_id}\t{sha}\n".encode())
    return digest.hexdigest()


#: SQL condition: the document's date is an ISO date (``YYYY-MM-DD``, maybe with a time).
ISO_DATE_SQL = "date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"


def date_summary_of(con: sqlite3.Connection) -> tuple[int, int, str | None, str | None]:
    """Return (sources, sources with an ISO date, earliest date, latest date), in one query."""
    row = con.execute(
        f"SELECT COUNT(*), COUNT(day), MIN(day), MAX(day) FROM (SELECT CASE WHEN {ISO_DATE_SQL} "
        "THEN substr(date, 1, 10) END AS day FROM documents)"
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
