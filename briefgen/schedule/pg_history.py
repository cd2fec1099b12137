"""The run history in the shared PostgreSQL database (``PgRunState``): every host's runs and
deliveries, and the locks that make a slot built, and a delivery sent, once between hosts.

Tables ``runs``, ``run_files`` and ``deliveries`` in the ``briefgen`` schema, as in the SQLite
history (``briefgen.schedule.sqlite_history``), plus the host that made each run. The locks are
session-level advisory locks (one per brief and slot, one for sending): the server releases them
when a session ends, so a killed or disconnected host never leaves one held, and a "running"
run or "sending" delivery whose lock is free was left by such a host. The delivery methods are
in ``briefgen.schedule.pg_deliveries``.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterable, Iterator
from typing import Any, Self

import psycopg

from briefgen.errors import ScheduleError
from briefgen.index.postgres import schema as dbschema
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
from briefgen.schedule.history import DELIVERY_STATUSES, STATUSES, RunHistory, RunRow, utc_now_text
from briefgen.schedule.pg_deliveries import PgDeliveries, to_json

S = SCHEMA
RUNS_SCHEMA_VERSION = 1
RUNS_VERSION_KEY = "runs_schema"


def _q(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_DDL = f"""
CREATE TABLE {S}.runs (
    id        bigserial PRIMARY KEY,
    brief     text COLLATE "C" NOT NULL,
    kind      text NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'manual')),
    slot      text COLLATE "C",            -- UTC, YYYY-MM-DDTHH:MM:SSZ; NULL for a manual build
    attempt   integer NOT NULL,            -- 1, 2, ...; 0 for a missed slot (never attempted)
    status    text NOT NULL CHECK (status IN ({_q(STATUSES)})),
    started   text COLLATE "C" NOT NULL,
    finished  text COLLATE "C",
    error     text,
    out_dir   text,
    summary   text,
    host      text,
    CHECK ((kind = 'scheduled') = (slot IS NOT NULL)),
    UNIQUE (brief, slot, attempt)          -- two hosts can never both start one attempt
);
CREATE INDEX runs_by_brief ON {S}.runs (brief, slot);
CREATE TABLE {S}.run_files (
    run_id  bigint NOT NULL REFERENCES {S}.runs (id) ON DELETE CASCADE,
    path    text COLLATE "C" NOT NULL,
    sha256  text NOT NULL
);
CREATE INDEX run_files_run ON {S}.run_files (run_id);
CREATE TABLE {S}.deliveries (
    id         bigserial PRIMARY KEY,
    run_id     bigint NOT NULL REFERENCES {S}.runs (id) ON DELETE CASCADE,
    channel    text NOT NULL,
    resend     boolean NOT NULL DEFAULT false,
    recipients text,
    status     text NOT NULL CHECK (status IN ({_q(DELIVERY_STATUSES)})),
    attempts   integer NOT NULL DEFAULT 0,
    created    text NOT NULL,
    updated    text NOT NULL,
    next_try   text COLLATE "C",
    answer     text
);
CREATE UNIQUE INDEX deliveries_once ON {S}.deliveries (run_id, channel) WHERE NOT resend;
"""
_COLUMNS = "id, brief, slot, attempt, status, started, finished, error, out_dir, kind, summary, host"


def create_runs_tables(con: Connection) -> None:
    """Create the run tables if absent (several hosts may try at once: one does it)."""
    dbschema.ensure_settings(con)
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("schema"),))
        version = dbschema.setting(con, RUNS_VERSION_KEY)
        if version is None:
            con.execute(_DDL)
            dbschema.set_setting(con, RUNS_VERSION_KEY, str(RUNS_SCHEMA_VERSION))
        elif int(version) > RUNS_SCHEMA_VERSION:
            raise ScheduleError("the run history in the database was made by a newer briefgen "
                                f"(schema {version}); upgrade briefgen on this host")


class PgRunState(PgDeliveries):
    """The run history of every host, in the shared database; use as a context manager."""

    shared = True

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.where = location(url)
        self.host = socket.gethostname()
        self.con = connect(url, "run-due")
        try:
            if create:
                create_runs_tables(self.con)
            elif dbschema.setting(self.con, RUNS_VERSION_KEY) is None:
                raise ScheduleError(f"{self.where}: no run history yet")
        except psycopg.Error as exc:
            self.con.close()
            raise database_error(self.where, exc) from exc
        except BaseException:
            self.con.close()
            raise

    def close(self) -> None:
        """Close the session (the server releases any lock it still held)."""
        with contextlib.suppress(psycopg.Error):
            self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- locks --------------------------------------------------------------------------

    def slot_lock(self, brief: str, slot: str) -> contextlib.AbstractContextManager[str | None]:
        """Hold the advisory lock of one slot of one brief; yield None, or who holds it."""
        return self._advisory("run", brief, slot)

    def delivery_lock(self) -> contextlib.AbstractContextManager[str | None]:
        """Hold the lock of sending deliveries (one host at a time); yield None, or who holds it."""
        return self._advisory("deliveries")

    @contextlib.contextmanager
    def _advisory(self, *name: str) -> Iterator[str | None]:
        key = lock_key(*name)
        with self._db() as con:
            if not fetch_one(con, "SELECT pg_try_advisory_lock(%s)", (key,))[0]:
                yield lock_holder(con, key)
                return
        try:
            yield None
        finally:
            with contextlib.suppress(psycopg.Error):  # a lost session has released it already
                self.con.execute("SELECT pg_advisory_unlock(%s)", (key,))

    # -- reading ------------------------------------------------------------------------

    def last_slot(self, brief: str, *, until: str | None = None) -> str | None:
        """Return the newest slot recorded for ``brief`` (any status; at or before ``until``
        if given), or None."""
        sql, params = f"SELECT max(slot) FROM {S}.runs WHERE brief = %s", [brief]
        if until is not None:
            sql, params = sql + " AND slot <= %s", [brief, until]
        with self._db() as con:
            row = fetch_one(con, sql, params)
        return None if row[0] is None else str(row[0])

    def slot_state(self, brief: str, slot: str) -> RunRow | None:
        """Return the newest attempt at one slot, or None if it was never recorded."""
        rows = self._select("WHERE brief = %s AND slot = %s ORDER BY attempt DESC LIMIT 1", (brief, slot))
        return rows[0] if rows else None

    def attempts(self, brief: str, slot: str) -> int:
        """Return how many times a slot has been attempted (missed rows do not count)."""
        with self._db() as con:
            row = fetch_one(con, f"SELECT count(*) FROM {S}.runs WHERE brief = %s AND slot = %s "
                                 "AND attempt > 0", (brief, slot))
        return int(row[0])

    def last_done(self, brief: str) -> RunRow | None:
        """Return the newest successful scheduled run of ``brief``, with its files."""
        rows = self._select("WHERE brief = %s AND kind = 'scheduled' AND status = 'done' "
                            "ORDER BY slot DESC, attempt DESC LIMIT 1", (brief,))
        return rows[0] if rows else None

    def latest_built(self, brief: str) -> RunRow | None:
        """Return the most recently built run of ``brief``, scheduled or manual."""
        rows = self._select("WHERE brief = %s AND status = 'done' ORDER BY finished DESC, id DESC "
                            "LIMIT 1", (brief,))
        return rows[0] if rows else None

    def run(self, run_id: int) -> RunRow | None:
        """Return one run by its id."""
        rows = self._select("WHERE id = %s", (run_id,))
        return rows[0] if rows else None

    def history(self, brief: str | None, *, limit: int) -> list[RunRow]:
        """Return the newest ``limit`` rows, newest first (one brief or all)."""
        order = "ORDER BY coalesce(slot, started) DESC, attempt DESC, id DESC LIMIT %s"
        if brief is None:
            return self._select(order, (limit,))
        return self._select("WHERE brief = %s " + order, (brief, limit))

    def briefs(self) -> list[str]:
        """Return every brief name that has history."""
        with self._db() as con:
            return [r[0] for r in con.execute(f"SELECT DISTINCT brief FROM {S}.runs ORDER BY brief")]

    def _select(self, where: str, params: tuple[Any, ...]) -> list[RunRow]:
        with self._db() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM {S}.runs {where}", params).fetchall()
            ids = [r[0] for r in rows]
            files: dict[int, list[tuple[str, str]]] = {}
            for run_id, path, sha in con.execute(
                f"SELECT run_id, path, sha256 FROM {S}.run_files WHERE run_id = ANY(%s) ORDER BY path",
                (ids,),
            ):
                files.setdefault(run_id, []).append((path, sha))
        sent = self.deliveries_of(ids)
        return [
            RunRow(id=r[0], brief=r[1], slot=r[2], attempt=r[3], status=r[4], started=r[5],
                   finished=r[6], error=r[7], out_dir=r[8], files=tuple(files.get(r[0], ())),
                   kind=r[9], summary=None if r[10] is None else json.loads(r[10]),
                   deliveries=tuple(sent.get(r[0], ())), host=r[11])
            for r in rows
        ]

    # -- writing (each a short transaction) -------------------------------------------

    def start(self, brief: str, slot: str, attempt: int, out_dir: str) -> int:
        """Record that an attempt has started (status running); return its row id."""
        try:
            row = fetch_one(
                self.con,
                f"INSERT INTO {S}.runs (brief, slot, attempt, status, started, out_dir, host) "
                "VALUES (%s, %s, %s, 'running', %s, %s, %s) RETURNING id",
                (brief, slot, attempt, utc_now_text(), out_dir, self.host),
            )
        except psycopg.errors.UniqueViolation as exc:
            raise ScheduleError(f"{brief}: attempt {attempt} at slot {slot} was already "
                                "started by another process") from exc
        except psycopg.Error as exc:
            raise database_error(self.where, exc) from exc
        return int(row[0])

    def finish(
        self, run_id: int, status: str, *, error: str | None = None,
        files: Iterable[tuple[str, str]] = (), summary: dict[str, Any] | None = None,
        deliveries: Iterable[str] = (),
    ) -> None:
        """Record the end of an attempt: its status, error, files, summary and pending
        deliveries, in one transaction."""
        with self._db() as con, con.transaction():
            con.execute(f"UPDATE {S}.runs SET status = %s, finished = %s, error = %s, summary = %s "
                        "WHERE id = %s", (status, utc_now_text(), error, to_json(summary), run_id))
            self._add_files(con, run_id, files)
            self._add_deliveries(con, run_id, deliveries)

    def record_manual(
        self, brief: str, out_dir: str, files: Iterable[tuple[str, str]],
        summary: dict[str, Any], deliveries: Iterable[str] = (),
    ) -> int:
        """Record a finished manual build (``briefgen build``) and its pending deliveries."""
        now = utc_now_text()
        with self._db() as con, con.transaction():
            run_id = int(fetch_one(
                con,
                f"INSERT INTO {S}.runs (brief, kind, attempt, status, started, finished, out_dir, "
                "summary, host) VALUES (%s, 'manual', 1, 'done', %s, %s, %s, %s, %s) RETURNING id",
                (brief, now, now, out_dir, to_json(summary), self.host),
            )[0])
            self._add_files(con, run_id, files)
            self._add_deliveries(con, run_id, deliveries)
        return run_id

    def _add_files(self, con: Connection, run_id: int, files: Iterable[tuple[str, str]]) -> None:
        with con.cursor() as cur:
            cur.executemany(f"INSERT INTO {S}.run_files (run_id, path, sha256) VALUES (%s, %s, %s)",
                            [(run_id, p, h) for p, h in files])

    def record_missed(self, brief: str, slots: Iterable[str], *, reason: str) -> None:
        """Record slots that were not built (too old to catch up); another host may have already."""
        now = utc_now_text()
        with self._db() as con, con.transaction(), con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {S}.runs (brief, slot, attempt, status, started, finished, error, host) "
                "VALUES (%s, %s, 0, 'missed', %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(brief, s, now, now, reason, self.host) for s in slots],
            )

    def interrupt_running(self, reason: str) -> list[RunRow]:
        """Mark the 'running' rows whose slot nobody holds (their host died) as failed."""
        stale = []
        for row in self._select("WHERE status = 'running' ORDER BY id", ()):
            with self.slot_lock(row.brief, row.slot or "") as holder:
                if holder is not None:
                    continue  # being built right now, on this host or another
                with self._db() as con:
                    done = con.execute(
                        f"UPDATE {S}.runs SET status = 'failed', finished = %s, error = %s "
                        "WHERE id = %s AND status = 'running'", (utc_now_text(), reason, row.id))
                    if done.rowcount:
                        stale.append(row)
        return stale

    def add_row(self, row: RunRow) -> bool:
        """Copy a run from another history (``briefgen migrate``), unless it is there."""
        with self._db() as con, con.transaction():
            if row.slot is None and con.execute(  # a manual build: no slot to be unique on
                f"SELECT 1 FROM {S}.runs WHERE brief = %s AND slot IS NULL AND started = %s "
                "AND out_dir IS NOT DISTINCT FROM %s", (row.brief, row.started, row.out_dir),
            ).fetchone():
                return False
            found = con.execute(
                f"INSERT INTO {S}.runs (brief, kind, slot, attempt, status, started, finished, "
                "error, out_dir, summary, host) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING id",
                (row.brief, row.kind, row.slot, row.attempt, row.status, row.started, row.finished,
                 row.error, row.out_dir, to_json(row.summary), row.host),
            ).fetchone()
            if found is None:
                return False
            self._add_files(con, int(found[0]), row.files)
        return True


def as_run_history(state: PgRunState) -> RunHistory:
    """Return ``state`` as a RunHistory (mypy checks here that it is one)."""
    return state
