"""Connections to the PostgreSQL database: its URL, one-line errors, advisory locks.

The URL comes from ``index.url`` in config.yaml or ``BRIEFGEN_DATABASE_URL``, never with a
password in it (libpq reads PGPASSWORD or ~/.pgpass). Every psycopg error that reaches the user
goes through :func:`database_error`, which says in one line what went wrong and what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from briefgen.config.dburl import database_url_problem, redact_url
from briefgen.errors import StoreError

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

DATABASE_URL_ENV = "BRIEFGEN_DATABASE_URL"
CONNECT_TIMEOUT_S = 10
#: The schema (namespace) every briefgen table lives in, so that nothing clashes with other
#: tables of the database.
SCHEMA = "briefgen"

Connection = psycopg.Connection[tuple[Any, ...]]


def database_url(cfg: LoadedConfig) -> str:
    """Return the configured database URL; raise StoreError if there is none or it is unusable."""
    url = cfg.config.index.url
    where = f"{cfg.path.name}: index.url"
    if url is None:
        url = os.environ.get(DATABASE_URL_ENV, "").strip() or None
        where = f"environment variable {DATABASE_URL_ENV}"
    if url is None:
        raise StoreError(
            f"{cfg.path.name}: the postgresql backend needs a database and none is given; set index.url "
            f"(e.g. postgresql://briefgen@db.example.org:5432/briefgen) or {DATABASE_URL_ENV}"
        )
    problem = database_url_problem(url)
    if problem:
        raise StoreError(f"{where}: {problem}")
    return url


def location(url: str) -> str:
    """Return the URL as shown in messages and summaries (never with a password)."""
    return redact_url(url)


def application_name(purpose: str) -> str:
    """Name a session after what it does and where it runs (pg_stat_activity shows it)."""
    return f"briefgen {purpose} {socket.gethostname()} pid {os.getpid()}"[:63]


def connect(url: str, purpose: str, *, autocommit: bool = True) -> Connection:
    """Open a session; raise StoreError (one line saying what to do) if that fails."""
    try:
        return psycopg.connect(
            url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S,
            application_name=application_name(purpose),
        )
    except psycopg.Error as exc:
        raise database_error(location(url), exc) from exc


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[:1]).strip()
    for prefix in ("connection failed: ", "connection is bad: "):
        text = text.removeprefix(prefix)
    return text or type(exc).__name__


def database_error(where: str, exc: BaseException) -> StoreError:
    """Turn a psycopg error into a one-line StoreError that says what to do."""
    text = _first_line(exc)
    full = str(exc)
    if "password authentication failed" in full or "no password supplied" in full or (
        "authentication failed" in full
    ):
        return StoreError(
            f"{where}: the database refused the login ({text}); give the password in PGPASSWORD "
            "or ~/.pgpass (never in config.yaml)"
        )
    if "does not exist" in full and "database" in full and isinstance(exc, psycopg.OperationalError):
        return StoreError(f"{where}: {text}; create it first (see docs/scaling.md)")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return StoreError(
            f"{where}: permission denied ({text}); the database user must own the database or "
            f"the `{SCHEMA}` schema (see docs/scaling.md)"
        )
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return StoreError(f"{where}: timed out waiting for a lock ({text}); try again later")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreError(
            f"{where}: cannot reach the database ({text}); check that the server is running and "
            "reachable, then try again"
        )
    return StoreError(f"{where}: database error ({text})")


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Raise any psycopg error inside the block as a one-line StoreError."""
    try:
        yield
    except psycopg.Error as exc:
        raise database_error(where, exc) from exc


def lock_key(*parts: str) -> int:
    """Return the advisory-lock key (a signed 64-bit number) for a named lock."""
    digest = hashlib.sha256("\x1f".join(("briefgen", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_holder(con: Connection, key: int) -> str:
    """Describe the session holding the advisory lock ``key`` (for messages)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = con.execute(
        "SELECT a.application_name, a.client_addr::text, a.pid, "
        "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
        "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) LIMIT 1",
        (unsigned >> 32, unsigned & 0xFFFFFFFF),
    ).fetchone()
    if row is None:
        return "another session"
    name, addr, pid, since = row
    who = name or f"server pid {pid}"
    return f"{who}{f' from {addr}' if addr else ''}{f' since {since}' if since else ''}"


def fetch_one(con: Connection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """Run a query that returns exactly one row (an aggregate, EXISTS) and return that row."""
    row = con.execute(sql, params).fetchone()
    if row is None:  # cannot happen for such queries; a clear error if it ever did
        raise StoreError(f"the database returned no row for: {sql[:60]}")
    return row
