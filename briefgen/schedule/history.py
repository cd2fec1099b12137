"""The run history: scheduled runs, manual builds and the deliveries of each.

What the scheduler, ``briefgen history``, ``briefgen build`` and ``briefgen deliver`` need from
it is the :class:`RunHistory` protocol, over the plain rows below; ``sqlite_history.RunState``
implements it in one SQLite file next to the index, ``pg_history.PgRunState`` in the PostgreSQL
database hosts share (``state.open_history`` opens the one ``index.backend`` chooses). What it holds:

- runs: one per attempt at a slot (kind ``scheduled``; a slot's state is its newest attempt)
  or per manual build (kind ``manual``, no slot), with the output folder, the output files
  (path and sha256) and, once built, a summary of the brief that deliveries report;
- deliveries: one per run and channel, plus one per ``briefgen deliver`` (``resend``), with
  its status, attempts, next try and the server's last answer.

Deliveries are sent only under the run-due lock, so a ``sending`` delivery seen under the lock
was left by a process that was killed while sending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, Self

RUNNING, DONE, FAILED, MISSED, GAVE_UP = "running", "done", "failed", "missed", "gave-up"
STATUSES = (RUNNING, DONE, FAILED, MISSED, GAVE_UP)
SCHEDULED, MANUAL = "scheduled", "manual"
# A delivery: PENDING (not tried yet), SENDING (a try under way; seen by a later run-due it was
# interrupted), SENT, FAILED (tried again from next_try on), GAVE_UP (refused, or tries used up).
PENDING, SENDING, SENT = "pending", "sending", "sent"
DELIVERY_STATUSES = (PENDING, SENDING, SENT, FAILED, GAVE_UP)


def utc_now_text(now: datetime | None = None) -> str:
    """Return an instant (default: now) as stored: UTC ISO-8601 to the second."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery of one run on one channel."""

    id: int
    run_id: int
    channel: str
    resend: bool
    recipients: tuple[str, ...] | None  # replacing the configured ones (briefgen deliver --to)
    status: str
    attempts: int
    created: str
    updated: str
    next_try: str | None
    answer: str | None


@dataclass(frozen=True)
class RunRow:
    """One attempt at one slot of one brief, or one manual build (``slot`` None)."""

    id: int
    brief: str
    slot: str | None
    attempt: int
    status: str
    started: str
    finished: str | None
    error: str | None
    out_dir: str | None
    files: tuple[tuple[str, str], ...] = field(default=())  # (path, sha256)
    kind: str = SCHEDULED
    summary: dict[str, Any] | None = None
    deliveries: tuple[DeliveryRow, ...] = field(default=())
    host: str | None = None  # the host that made it (a history shared by hosts records it)


class RunHistory(Protocol):
    """What briefgen reads and writes in the run history (one implementation per store).

    Locks: ``run-due`` holds the project's run lock (``state.run_lock``) for its whole call,
    ``slot_lock(brief, slot)`` from planning a slot to the end of its build, and
    ``delivery_lock()`` while it sends. A history that is one project's own file has an
    exclusive run lock and free slot and delivery locks; a database shared by hosts the
    reverse, across hosts. Each yields None when held, else who holds it. Either way a
    "running" row (or a "sending" delivery) whose lock is free was left by a killed process.
    """

    where: str  # the file or database, for messages
    shared: bool  # several hosts use it (each may hold the output files of its own runs only)

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def close(self) -> None: ...

    # -- locks --
    def slot_lock(self, brief: str, slot: str) -> AbstractContextManager[str | None]: ...
    def delivery_lock(self) -> AbstractContextManager[str | None]: ...

    # -- scheduled slots (manual builds never count here) --
    def last_slot(self, brief: str, *, until: str | None = None) -> str | None: ...
    def slot_state(self, brief: str, slot: str) -> RunRow | None: ...
    def attempts(self, brief: str, slot: str) -> int: ...
    def last_done(self, brief: str) -> RunRow | None: ...
    def start(self, brief: str, slot: str, attempt: int, out_dir: str) -> int: ...
    def finish(
        self, run_id: int, status: str, *, error: str | None = None,
        files: Iterable[tuple[str, str]] = (), summary: dict[str, Any] | None = None,
        deliveries: Iterable[str] = (),
    ) -> None: ...
    def record_missed(self, brief: str, slots: Iterable[str], *, reason: str) -> None: ...
    def interrupt_running(self, reason: str) -> list[RunRow]: ...
    def add_row(self, row: RunRow) -> bool: ...  # copy from another history (migrate)

    # -- manual builds, reading any run --
    def record_manual(
        self, brief: str, out_dir: str, files: Iterable[tuple[str, str]],
        summary: dict[str, Any], deliveries: Iterable[str] = (),
    ) -> int: ...
    def run(self, run_id: int) -> RunRow | None: ...
    def latest_built(self, brief: str) -> RunRow | None: ...
    def history(self, brief: str | None, *, limit: int) -> list[RunRow]: ...
    def briefs(self) -> list[str]: ...

    # -- deliveries --
    def add_resend(self, run_id: int, channel: str, recipients: Sequence[str] | None) -> int: ...
    def deliveries_due(self, now: datetime, *, max_attempts: int) -> list[DeliveryRow]: ...
    def next_delivery_try(self, *, max_attempts: int) -> datetime | None: ...
    def start_delivery(self, delivery_id: int) -> None: ...
    def end_delivery(
        self, delivery_id: int, status: str, answer: str, *, next_try: datetime | None = None
    ) -> None: ...
    def interrupt_sending(self, reason: str, now: datetime) -> list[DeliveryRow]: ...
