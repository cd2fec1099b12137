"""The deliveries half of the PostgreSQL run history (``PgRunState`` in ``pg_history``).

A delivery is one run sent on one channel (plus re-sends asked for with ``briefgen deliver``),
with its status, attempts, next try and the server's last answer, as in the SQLite history.
Deliveries are sent only by the session that holds the sending lock, so a "sending" one seen
by the holder was left by a host killed mid-send.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import psycopg

from briefgen.index.postgres.connection import SCHEMA, Connection, database_error, fetch_one
from briefgen.schedule.history import DeliveryRow, utc_now_text

S = SCHEMA
_COLUMNS = ("id, run_id, channel, resend, recipients, status, attempts, created, updated, "
            "next_try, answer")


def to_json(value: object) -> str | None:
    """Return a value as stored (JSON text), or None."""
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


class PgDeliveries:
    """Delivery records in the shared database (a base of ``PgRunState``)."""

    con: Connection
    where: str

    @contextlib.contextmanager
    def _db(self) -> Iterator[Connection]:
        """Run database work; any error becomes one line naming the database."""
        try:
            yield self.con
        except psycopg.Error as exc:
            raise database_error(self.where, exc) from exc

    def _deliveries(self, where: str, params: tuple[Any, ...]) -> list[DeliveryRow]:
        with self._db() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM {S}.deliveries {where}", params).fetchall()
        return [
            DeliveryRow(id=r[0], run_id=r[1], channel=r[2], resend=bool(r[3]),
                        recipients=tuple(json.loads(r[4])) if r[4] else None, status=r[5],
                        attempts=r[6], created=r[7], updated=r[8], next_try=r[9], answer=r[10])
            for r in rows
        ]

    def deliveries_of(self, run_ids: Sequence[int]) -> dict[int, list[DeliveryRow]]:
        """Return the deliveries of these runs, in order."""
        found: dict[int, list[DeliveryRow]] = {}
        if run_ids:
            for row in self._deliveries("WHERE run_id = ANY(%s) ORDER BY id", (list(run_ids),)):
                found.setdefault(row.run_id, []).append(row)
        return found

    def _add_deliveries(self, con: Connection, run_id: int, channels: Iterable[str]) -> None:
        now = utc_now_text()
        with con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {S}.deliveries (run_id, channel, status, created, updated) "
                "VALUES (%s, %s, 'pending', %s, %s)",
                [(run_id, channel, now, now) for channel in channels],
            )

    def deliveries_due(self, now: datetime, *, max_attempts: int) -> list[DeliveryRow]:
        """Return the deliveries to try now: pending, or failed with their next try due."""
        return self._deliveries(
            "WHERE (status = 'pending' OR (status = 'failed' AND next_try <= %s)) "
            "AND attempts < %s ORDER BY id",
            (utc_now_text(now), max_attempts),
        )

    def next_delivery_try(self, *, max_attempts: int) -> datetime | None:
        """Return when the earliest failed delivery that will be tried again is due."""
        with self._db() as con:
            row = fetch_one(con, f"SELECT min(next_try) FROM {S}.deliveries WHERE status = 'failed' "
                                 "AND attempts < %s", (max_attempts,))
        return datetime.fromisoformat(row[0]) if row[0] else None

    def add_resend(self, run_id: int, channel: str, recipients: Sequence[str] | None) -> int:
        """Record a pending re-send of a run on a channel (``briefgen deliver``)."""
        now = utc_now_text()
        with self._db() as con:
            row = fetch_one(
                con,
                f"INSERT INTO {S}.deliveries (run_id, channel, resend, recipients, status, created, "
                "updated) VALUES (%s, %s, true, %s, 'pending', %s, %s) RETURNING id",
                (run_id, channel, to_json(list(recipients) if recipients else None), now, now),
            )
        return int(row[0])

    def start_delivery(self, delivery_id: int) -> None:
        """Record that a try begins (status sending, one more attempt), before anything is sent."""
        with self._db() as con:
            con.execute(f"UPDATE {S}.deliveries SET status = 'sending', attempts = attempts + 1, "
                        "updated = %s, next_try = NULL WHERE id = %s", (utc_now_text(), delivery_id))

    def end_delivery(
        self, delivery_id: int, status: str, answer: str, *, next_try: datetime | None = None
    ) -> None:
        """Record how a try ended: sent, failed (tried again from ``next_try``) or gave up."""
        with self._db() as con:
            con.execute(
                f"UPDATE {S}.deliveries SET status = %s, answer = %s, updated = %s, next_try = %s "
                "WHERE id = %s",
                (status, answer, utc_now_text(), next_try and utc_now_text(next_try), delivery_id),
            )

    def interrupt_sending(self, reason: str, now: datetime) -> list[DeliveryRow]:
        """Mark every 'sending' delivery failed, to be tried again from ``now``; call only while
        holding the sending lock (such a row was left by a host killed mid-send)."""
        stale = self._deliveries("WHERE status = 'sending'", ())
        if stale:
            with self._db() as con:
                con.execute(f"UPDATE {S}.deliveries SET status = 'failed', answer = %s, updated = %s, "
                            "next_try = %s WHERE status = 'sending'",
                            (reason, utc_now_text(), utc_now_text(now)))
        return stale
