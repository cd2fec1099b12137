"""The run history of scheduled builds: one SQLite file next to the index.

One row per attempt at a slot (``runs``) and one row per output file (``run_files``). A
slot's state is its newest attempt. Writes are short transactions in WAL mode with a busy
timeout, so ``briefgen history`` can read while ``run-due`` writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from briefgen.errors import ScheduleError

RUNNING, DONE, FAILED, MISSED, GAVE_UP = "running", "done", "failed", "missed", "gave-up"
STATUSES = (RUNNING, DONE, FAILED, MISSED, GAVE_UP)

_SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    id        INTEGER PRIMARY KEY,
    brief     TEXT NOT NULL,
    slot      TEXT NOT NULL,             -- UTC, YYYY-MM-DDTHH:MM:SSZ
    attempt   INTEGER NOT NULL,          -- 1, 2, ...; 0 for a missed slot (never attempted)
    status    TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    started   TEXT NOT NULL,             -- UTC wall-clock time
    finished  TEXT,
    error     TEXT,
    out_dir   TEXT,                      -- the dated folder, relative to the project root
    UNIQUE (brief, slot, attempt)        -- two processes can never both start one attempt
);
CREATE INDEX IF NOT EXISTS runs_by_brief ON runs (brief, slot);
CREATE TABLE IF NOT EXISTS run_files (
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path    TEXT NOT NULL,               -- relative to the project root
    sha256  TEXT NOT NULL
);
"""


def utc_now_text() -> str:
    """Return the current wall-clock time as stored: UTC ISO-8601 to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RunRow:
    """One attempt at one slot of one brief."""

    id: int
    brief: str
    slot: str
    attempt: int
    status: str
    started: str
    finished: str | None
    error: str | None
    out_dir: str | None
    files: tuple[tuple[str, str], ...] = field(default=())  # (path, sha256)


class RunState:
    """The run-history database; use as a context manager."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise ScheduleError(f"{path}: no run history yet")
        try:
            # isolation_level=None: we open every write transaction ourselves, kept short.
            self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute("PRAGMA foreign_keys = ON")
            if create:
                self.db.execute("PRAGMA journal_mode = WAL")
                self._migrate()
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
            # executescript commits any open transaction first, so the script carries its own.
            self.db.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {_SCHEMA_VERSION}; COMMIT;"
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

    # -- reading -----------------------------------------------------------------------

    def last_slot(self, brief: str) -> str | None:
        """Return the newest slot recorded for ``brief`` (any status), or None."""
        row = self.db.execute("SELECT max(slot) FROM runs WHERE brief = ?", (brief,)).fetchone()
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
        """Return the newest successful run of ``brief``, with its files."""
        rows = self._select(
            "WHERE brief = ? AND status = 'done' ORDER BY slot DESC, attempt DESC LIMIT 1", (brief,)
        )
        return rows[0] if rows else None

    def history(self, brief: str | None, *, limit: int) -> list[RunRow]:
        """Return the newest ``limit`` rows, newest first (one brief or all)."""
        if brief is None:
            return self._select("ORDER BY slot DESC, attempt DESC, id DESC LIMIT ?", (limit,))
        return self._select(
            "WHERE brief = ? ORDER BY slot DESC, attempt DESC, id DESC LIMIT ?", (brief, limit)
        )

    def briefs(self) -> list[str]:
        """Return every brief name that has history."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT brief FROM runs ORDER BY brief")]

    def _select(self, where: str, params: tuple[object, ...]) -> list[RunRow]:
        rows = self.db.execute(
            "SELECT id, brief, slot, attempt, status, started, finished, error, out_dir FROM runs "
            + where,
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
            result.append(
                RunRow(
                    id=row[0],
                    brief=row[1],
                    slot=row[2],
                    attempt=row[3],
                    status=row[4],
                    started=row[5],
                    finished=row[6],
                    error=row[7],
                    out_dir=row[8],
                    files=files,
                )
            )
        return result

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
    ) -> None:
        """Record the end of an attempt: its status, error and output files."""
        with self._write():
            self.db.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ? WHERE id = ?",
                (status, utc_now_text(), error, run_id),
            )
            self.db.executemany(
                "INSERT INTO run_files (run_id, path, sha256) VALUES (?, ?, ?)",
                [(run_id, p, h) for p, h in files],
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
