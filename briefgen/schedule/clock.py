"""The schedule against the run history when clocks are wrong: a slot recorded in the future
(the clock was ahead when it ran, or is behind now) neither hides the slots due now nor makes
the "next" line lie; an instant the calendar arithmetic cannot handle is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from briefgen.errors import ScheduleError
from briefgen.schedule import slots as cronslots
from briefgen.schedule.history import FAILED, RunHistory

if TYPE_CHECKING:
    from briefgen.config.schema import BriefSpec

LOOK_AHEAD = 1000  # slots looked at when searching for the next one not yet recorded
# Instants the slot arithmetic handles with room to spare (cron years, lateness, catch-up).
EARLIEST_NOW, LATEST_NOW = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def check_now(now: datetime) -> None:
    """Refuse an instant the calendar arithmetic cannot handle (``--now 0001-01-01T00:00Z``)."""
    if not EARLIEST_NOW <= now < LATEST_NOW:
        last = LATEST_NOW - timedelta(seconds=1)
        raise ScheduleError(
            f"the time {now.isoformat()} (--now) is out of range; use an instant between "
            f"{EARLIEST_NOW:%Y-%m-%d} and {last:%Y-%m-%dT%H:%M:%SZ}"
        )


def last_slot_until(
    state: RunHistory, name: str, now: datetime, echo: Callable[[str], Any]
) -> str | None:
    """Return the newest slot recorded at or before ``now``; say loudly if newer ones exist.

    The due slots are planned from the newest one not in the future, so that one bad clock
    reading (a run recorded for 2099) does not stop every later run.
    """
    now_key = cronslots.format_slot(now)
    newest = state.last_slot(name)
    if newest is None or newest <= now_key:
        return newest
    echo(
        f"warning: {name}: the run history holds slot {newest}, after now ({now_key}): the "
        "clock is wrong, or was when that run was recorded; slots due now are still built "
        f"(see `briefgen history {name}`)"
    )
    return state.last_slot(name, until=now_key)


def next_unbuilt(state: RunHistory, name: str, spec: BriefSpec, now: datetime) -> datetime | None:
    """Return the brief's first slot after ``now`` that the run history does not settle already
    (done, missed or given up; a failed one will be retried)."""
    sched = spec.schedule
    assert sched is not None
    upcoming = cronslots.slots_after(sched.cron, sched.timezone, now)
    for _, slot in zip(range(LOOK_AHEAD), upcoming):
        row = state.slot_state(name, cronslots.format_slot(slot))
        if row is None or row.status == FAILED:
            return slot
    return None


def nothing_due_message(state: RunHistory, scheduled: dict[str, BriefSpec], now: datetime) -> str:
    """Return the "nothing due" line, naming the first slot that will really be built."""
    upcoming = [(s, n) for n, spec in scheduled.items() if (s := next_unbuilt(state, n, spec, now))]
    if not upcoming:
        return "nothing due"
    slot, name = min(upcoming, key=lambda t: t[0])
    return f"nothing due; next: {name} at {cronslots.local_time(slot)} ({cronslots.format_slot(slot)})"
