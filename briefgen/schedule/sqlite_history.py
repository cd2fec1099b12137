"""The run history in SQLite (``RunState``): one file in the state folder, next to the index.

Tables: ``runs`` (one row per attempt at a slot or manual build), ``run_files`` (one per output
file), ``deliveries`` (one per run and channel, plus re-sends). Writes are short transactions
in WAL mode with a busy timeout, so ``briefgen history`` can read while ``run-due`` writes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from briefgen.errors import ScheduleError
from briefgen.schedule.history import (
    DELIVERY_STATUSES,
    STATUSES,
    DeliveryRow,
    RunRow,
    utc_now_text,
)

_SCHEMA_VERSION = 2


def _q(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


_RUNS = f"""
CREATE TABLE runs{{suffix}} (
    id        INTEGER PRIMARY KEY,
    brief     TEXT NOT NULL,
    kind      TEXT NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'manual')),
    slot      TEXT,                      -- UTC, YYYY-MM-DDTHH:MM:SSZ; NULL for a manual build
    attempt   INTEGER NOT NULL,          -- 1, 2, ...; 0 for a missed slot (never attempted)
    status    TEXT NOT NULL CHECK (status IN ({_q(STATUSES)})),
    started   TEXT NOT NULL,             -- UTC wall-clock time
    finished  TEXT,
    error     TEXT,
    out_dir   TEXT,                      -- the output folder, relative to the project root
    summary   TEXT,                      -- JSON: what a delivery says about the built brief
    CHECK ((kind = 'scheduled') = (slot IS NOT NULL)),
    UNIQUE (brief, slot, attempt)        -- two processes can never both start one attempt
);
"""
_REST = f"""
CREATE INDEX runs_by_brief ON runs (brief, slot);
CREATE TABLE IF NOT EXISTS run_files (
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path    TEXT NOT NULL,               -- relative to the project root
    sha256  TEXT NOT NULL
);
CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,            -- email, webhook
    resend     INTEGER NOT NULL DEFAULT 0,  -- 1: asked for with `briefgen deliver`
    recipients TEXT,                     -- JSON list replacing the configured ones (--to)
    status     TEXT NOT NULL CHECK (status IN ({_q(DELIVERY_STATUSES)})),
    attempts   INTEGER NOT NULL DEFAULT 0,
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL,
    next_try   TEXT,                     -- a failed delivery is tried again from then on (UTC)
    answer     TEXT                      -- the server's last answer (receipt or error)
);
-- A run is delivered once per channel; only `briefgen deliver` adds more.
CREATE UNIQUE INDEX deliveries_once ON deliveries (run_id, channel) WHERE resend = 0;
"""
_CREATE = _RUNS.format(suffix="") + _REST
# Version 1 had no manual builds (slot NOT NULL), summaries or deliveries. SQLite cannot
# relax NOT NULL in place: the table is copied (foreign keys are off meanwhile).
_FROM_V1 = (
    _RUNS.format(suffix="_v2")
    + "INSERT INTO runs_v2 (id, brief, kind, slot, attempt, status, started, finished, error, "
    "out_dir) SELECT id, brief, 'scheduled', slot, attempt, status, started, finished, error, "
    "out_dir FROM runs; DROP TABLE runs; ALTER TABLE runs_v2 RENAME TO runs;"
    + _REST
)


class RunState:
    """The run history in SQLite (a :class:`~briefgen.schedule.history.RunHistory`); use as a
    context manager."""

    shared = False

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.where = str(path)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise ScheduleError(f"{path}: no run history yet")
        try:
            # isolation_level=None: we open every write transaction ourselves, kept short.
            self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 30000")
            if create:
                self.db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
            self.db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise ScheduleError(
                f"{path}: cannot open the run history ({exc}); move the file aside to start a new one"
            ) from exc

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise ScheduleError(
                f"{self.path}: made by a newer briefgen (schema {version}); upgrade briefgen"
            )
        if version < _SCHEMA_VERSION:
            # executescript commits any open transaction first, so the script carries its own;
            # foreign keys are still off here (they are switched on after this).
            script = _CREATE if version == 0 else _FROM_V1
            self.db.executescript(
                f"BEGIN IMMEDIATE; {script} PRAGMA user_version = {_SCHEMA_VERSION}; COMMIT;"
            )

    def _write(self) -> _Transaction:
        return _Transaction(self.db)

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        if isinstance(exc[1], sqlite3.DatabaseError):  # a damaged file: one line, no traceback
            raise ScheduleError(f"{self.path}: the run history is damaged ({exc[1]}); move the "
                                "file aside to start a new one") from None

    # -- locks: the project's run-due lock (``state.run_lock``) is all there is ----------

    @contextlib.contextmanager
    def slot_lock(self, brief: str, slot: str) -> Iterator[str | None]:
        """Nothing more to hold: under the run-due lock no other process builds."""
        yield None

    @contextlib.contextmanager
    def delivery_lock(self) -> Iterator[str | None]:
        """Nothing more to hold: deliveries are sent under the run-due lock."""
        yield None

    # -- reading -----------------------------------------------------------------------

    def last_slot(self, brief: str, *, until: str | None = None) -> str | None:
        """Return the newest slot recorded for ``brief`` (at or before ``until``), or None."""
        sql = "SELECT max(slot) FROM runs WHERE brief = ? AND slot <= ?"
        row = self.db.execute(sql, (brief, until or "\uffff")).fetchone()
        return row[0] if row else None

    def slot_state(self, brief: str, slot: str) -> RunRow | None:
        """Return the newest attempt at one slot, or None if it was never recorded."""
        rows = self._select(
            "WHERE brief = ? AND slot = ? ORDER BY attempt DESC LIMIT 1", (brief, slot)
        )
        return rows[0] if rows else None

    def attempts(self, brief: str, slot: str) -> int:
        """Return how many times a slot has been attempted (missed rows do not count)."""
        row = self.db.execute(
            "SELECT count(*) FROM runs WHERE brief = ? AND slot = ? AND attempt > 0", (brief, slot)
        ).fetchone()
        return int(row[0])

    def last_done(self, brief: str) -> RunRow | None:
        """Return the newest successful scheduled run of ``brief``, with its files."""
        rows = self._select(
            "WHERE brief = ? AND kind = 'scheduled' AND status = 'done' "
            "ORDER BY slot DESC, attempt DESC LIMIT 1",
            (brief,),
        )
        return rows[0] if rows else None

    def latest_built(self, brief: str) -> RunRow | None:
        """Return the most recently built run of ``brief``, scheduled or manual."""
        rows = self._select(
            "WHERE brief = ? AND status = 'done' ORDER BY finished DESC, id DESC LIMIT 1", (brief,)
        )
        return rows[0] if rows else None

    def run(self, run_id: int) -> RunRow | None:
        """Return one run by its id."""
        rows = self._select("WHERE id = ?", (run_id,))
        return rows[0] if rows else None

    def history(self, brief: str | None, *, limit: int) -> list[RunRow]:
        """Return the newest ``limit`` rows, newest first (one brief or all)."""
        # A manual build has no slot: it sorts by when it started.
        order = "ORDER BY coalesce(slot, started) DESC, attempt DESC, id DESC LIMIT ?"
        if brief is None:
            return self._select(order, (limit,))
        return self._select("WHERE brief = ? " + order, (brief, limit))

    def briefs(self) -> list[str]:
        """Return every brief name that has history."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT brief FROM runs ORDER BY brief")]

    def deliveries_due(self, now: datetime, *, max_attempts: int) -> list[DeliveryRow]:
        """Return the deliveries to try now: pending, or failed with their next try due."""
        return self._deliveries(
            "WHERE (status = 'pending' OR (status = 'failed' AND next_try <= ?)) "
            "AND attempts < ? ORDER BY id",
            (utc_now_text(now), max_attempts),
        )

    def next_delivery_try(self, *, max_attempts: int) -> datetime | None:
        """Return when the earliest failed delivery that will be tried again is due."""
        row = self.db.execute(
            "SELECT min(next_try) FROM deliveries WHERE status = 'failed' AND attempts < ?",
            (max_attempts,),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def _select(self, where: str, params: tuple[object, ...]) -> list[RunRow]:
        rows = self.db.execute(
            "SELECT id, brief, slot, attempt, status, started, finished, error, out_dir, kind, "
            "summary FROM runs " + where,
            params,
        ).fetchall()
        result = []
        for row in rows:
            files = tuple(
                (p, h)
                for p, h in self.db.execute(
                    "SELECT path, sha256 FROM run_files WHERE run_id = ? ORDER BY path", (row[0],)
                )
            )
            deliveries = tuple(self._deliveries("WHERE run_id = ? ORDER BY id", (row[0],)))
            result.append(
                RunRow(
                    id=row[0], brief=row[1], slot=row[2], attempt=row[3], status=row[4],
                    started=row[5], finished=row[6], error=row[7], out_dir=row[8], files=files,
                    kind=row[9], summary=json.loads(row[10]) if row[10] else None,
                    deliveries=deliveries,
                )
            )
        return result

    def _deliveries(self, where: str, params: tuple[object, ...]) -> list[DeliveryRow]:
        rows = self.db.execute(
            "SELECT id, run_id, channel, resend, recipients, status, attempts, created, updated, "
            "next_try, answer FROM deliveries " + where,
            params,
        ).fetchall()
        return [
            DeliveryRow(
                id=r[0], run_id=r[1], channel=r[2], resend=bool(r[3]),
                recipients=tuple(json.loads(r[4])) if r[4] else None, status=r[5],
                attempts=r[6], created=r[7], updated=r[8], next_try=r[9], answer=r[10],
            )
            for r in rows
        ]

    # -- writing (each a short transaction) --------------------------------------------

    def start(self, brief: str, slot: str, attempt: int, out_dir: str) -> int:
        """Record that an attempt has started (status running) and return its row id.

        Raises ScheduleError if the same attempt was already started elsewhere.
        """
        try:
            with self._write():
                cur = self.db.execute(
                    "INSERT INTO runs (brief, slot, attempt, status, started, out_dir) "
                    "VALUES (?, ?, ?, 'running', ?, ?)",
                    (brief, slot, attempt, utc_now_text(), out_dir),
                )
        except sqlite3.IntegrityError as exc:
            raise ScheduleError(
                f"{brief}: attempt {attempt} at slot {slot} was already started by another process"
            ) from exc
        return int(cur.lastrowid or 0)

    def finish(
        self,
        run_id: int,
        status: str,
        *,
        error: str | None = None,
        files: Iterable[tuple[str, str]] = (),
        summary: dict[str, Any] | None = None,
        deliveries: Iterable[str] = (),
    ) -> None:
        """Record the end of an attempt: its status, error, output files, and (when it is done)
        the summary and a pending delivery per channel, in one transaction."""
        with self._write():
            self.db.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ?, summary = ? WHERE id = ?",
                (status, utc_now_text(), error, _json(summary), run_id),
            )
            self._add_files(run_id, files)
            self._add_deliveries(run_id, deliveries)

    def record_manual(
        self,
        brief: str,
        out_dir: str,
        files: Iterable[tuple[str, str]],
        summary: dict[str, Any],
        deliveries: Iterable[str] = (),
    ) -> int:
        """Record a finished manual build (``briefgen build``) and its pending deliveries."""
        now = utc_now_text()
        with self._write():
            cur = self.db.execute(
                "INSERT INTO runs (brief, kind, attempt, status, started, finished, out_dir, "
                "summary) VALUES (?, 'manual', 1, 'done', ?, ?, ?, ?)",
                (brief, now, now, out_dir, _json(summary)),
            )
            run_id = int(cur.lastrowid or 0)
            self._add_files(run_id, files)
            self._add_deliveries(run_id, deliveries)
        return run_id

    def _add_files(self, run_id: int, files: Iterable[tuple[str, str]]) -> None:
        self.db.executemany(
            "INSERT INTO run_files (run_id, path, sha256) VALUES (?, ?, ?)",
            [(run_id, p, h) for p, h in files],
        )

    def _add_deliveries(self, run_id: int, channels: Iterable[str]) -> None:
        now = utc_now_text()
        self.db.executemany(
            "INSERT INTO deliveries (run_id, channel, status, created, updated) "
            "VALUES (?, ?, 'pending', ?, ?)",
            [(run_id, channel, now, now) for channel in channels],
        )

    def record_missed(self, brief: str, slots: Iterable[str], *, reason: str) -> None:
        """Record slots that were not built (too old to catch up)."""
        now = utc_now_text()
        with self._write():
            self.db.executemany(
                "INSERT OR IGNORE INTO runs (brief, slot, attempt, status, started, finished, error) "
                "VALUES (?, ?, 0, 'missed', ?, ?, ?)",
                [(brief, s, now, now, reason) for s in slots],
            )

    def interrupt_running(self, reason: str) -> list[RunRow]:
        """Mark every 'running' row as failed; call only while holding the run-due lock.

        Whoever holds the lock is the only process that can be building, so a 'running'
        row seen then was left by a process that was killed mid-build.
        """
        stale = self._select("WHERE status = 'running'", ())
        if stale:
            with self._write():
                self.db.execute(
                    "UPDATE runs SET status = 'failed', finished = ?, error = ? WHERE status = 'running'",
                    (utc_now_text(), reason),
                )
        return stale

    def add_row(self, row: RunRow) -> bool:
        """Copy a run from another history (``briefgen migrate``), unless it is there."""
        with self._write():
            if row.slot is None and self.db.execute(  # a manual build: no slot to be unique on
                "SELECT 1 FROM runs WHERE brief = ? AND slot IS NULL AND started = ? AND out_dir IS ?",
                (row.brief, row.started, row.out_dir),
            ).fetchone():
                return False
            cur = self.db.execute(
                "INSERT OR IGNORE INTO runs (brief, kind, slot, attempt, status, started, finished, "
                "error, out_dir, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.brief, row.kind, row.slot, row.attempt, row.status, row.started,
                 row.finished, row.error, row.out_dir, _json(row.summary)),
            )
            if cur.rowcount:
                self._add_files(int(cur.lastrowid or 0), row.files)
        return bool(cur.rowcount)

    def add_resend(self, run_id: int, channel: str, recipients: Sequence[str] | None) -> int:
        """Record a pending re-send of a run on a channel (``briefgen deliver``)."""
        now = utc_now_text()
        with self._write():
            cur = self.db.execute(
                "INSERT INTO deliveries (run_id, channel, resend, recipients, status, created, "
                "updated) VALUES (?, ?, 1, ?, 'pending', ?, ?)",
                (run_id, channel, _json(list(recipients) if recipients else None), now, now),
            )
        return int(cur.lastrowid or 0)

    def start_delivery(self, delivery_id: int) -> None:
        """Record that a try begins (status sending, one more attempt), before anything is sent."""
        with self._write():
            self.db.execute(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated = ?, "
                "next_try = NULL WHERE id = ?",
                (utc_now_text(), delivery_id),
            )

    def end_delivery(
        self, delivery_id: int, status: str, answer: str, *, next_try: datetime | None = None
    ) -> None:
        """Record how a try ended: sent, failed (tried again from ``next_try``) or gave up."""
        with self._write():
            self.db.execute(
                "UPDATE deliveries SET status = ?, answer = ?, updated = ?, next_try = ? "
                "WHERE id = ?",
                (status, answer, utc_now_text(), next_try and utc_now_text(next_try), delivery_id),
            )

    def interrupt_sending(self, reason: str, now: datetime) -> list[DeliveryRow]:
        """Mark every 'sending' delivery failed, to be tried again from ``now``; call only
        while holding the run-due lock (deliveries are sent only under it, so such a row was
        left by a process killed mid-send: the server may or may not have the message)."""
        stale = self._deliveries("WHERE status = 'sending'", ())
        if stale:
            with self._write():
                self.db.execute(
                    "UPDATE deliveries SET status = 'failed', answer = ?, updated = ?, "
                    "next_try = ? WHERE status = 'sending'",
                    (reason, utc_now_text(), utc_now_text(now)),
                )
        return stale


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error): one short write."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")

