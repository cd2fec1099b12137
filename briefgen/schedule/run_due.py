"""``run-due``: build what is due, once per slot, then deliver it.

For each brief with a ``schedule:``, ``run_due`` takes the latest cron slot at or before
now (in the brief's zone, see ``slots``) and builds it unless the run history says it
is done, given up or missed. Once built and published, the brief gets a pending delivery per
channel of its ``deliver:``; then every delivery that is due is sent (``deliveries``), the new
ones and the retries of earlier failures alike. The run history gives the locks
(``RunHistory``): on SQLite everything happens under one file lock next to the index, so two
``run-due`` processes never build or send at once; on PostgreSQL each slot of each brief has
its own advisory lock in the shared database, and sending has one, so ``run-due`` started on
several hosts at once builds each slot exactly once and sends each delivery once. Either way a
"running" run or a "sending" delivery whose lock is free can only be left by a killed process.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from briefgen import pipeline
from briefgen._fs import sha256_file
from briefgen.errors import BriefgenError, ConfigError, IndexBusyError, ScheduleError
from briefgen.schedule import dated_output, deliveries
from briefgen.schedule import slots as cronslots
from briefgen.schedule.clock import check_now, last_slot_until, nothing_due_message
from briefgen.schedule.history import DONE, FAILED, GAVE_UP, RunHistory
from briefgen.schedule.state import history_exists, open_history, run_lock, runs_db_path

if TYPE_CHECKING:
    from briefgen.config.schema import BriefSpec, LoadedConfig, Schedule

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "RunDueResult", "run_due", "runs_db_path"]

EXIT_OK, EXIT_FAILED, EXIT_LOCKED = 0, 1, 3
MISSED_CAP = 1000  # at most this many missed slots are recorded per brief and call

Echo = Callable[[str], Any]


class BuildFunction(Protocol):
    """The shape of ``briefgen.build.build_brief`` that run_due relies on."""

    def __call__(
        self,
        cfg: LoadedConfig,
        brief_name: str | None = None,
        *,
        formats: list[str] | None = None,
        out_dir: Path | None = None,
        as_of: date | None = None,
        previous: Path | None = None,
        strict: bool = False,
    ) -> Any: ...


RefreshFunction = Callable[..., Any]


@dataclass
class RunDueResult:
    """What one run-due call did; ``exit_code``: 0 ok or nothing due, 1 a failure, 3 locked."""

    exit_code: int = EXIT_OK
    built: list[tuple[str, str]] = field(default_factory=list)  # (brief, slot)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (brief, slot, error)
    missed: list[tuple[str, str]] = field(default_factory=list)
    stopped_early: bool = False  # a stop request left due briefs for the next call
    postponed: list[tuple[str, str]] = field(default_factory=list)  # index busy: not attempted
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (brief, channel)
    undelivered: list[tuple[str, str, str]] = field(default_factory=list)  # (brief, channel, answer)
    next_delivery_try: datetime | None = None  # when a failed delivery is tried again


@dataclass(frozen=True)
class _Due:
    """A brief's slot that this call will build."""

    name: str
    spec: BriefSpec
    schedule: Schedule
    slot: datetime  # aware, in the brief's zone
    key: str  # stored form (UTC)
    attempt: int


def parse_now(text: str | None) -> datetime | None:
    """Parse ``--now``: an ISO-8601 instant with an offset or Z (None stays None)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(
            f"--now {text!r} is not an ISO-8601 date and time; e.g. 2025-03-10T07:00:00+09:00"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(
            f"--now {text!r} has no time zone; add an offset or Z, "
            f"e.g. {text.strip()}Z or {text.strip()}+09:00"
        )
    return value


# -- run-due -------------------------------------------------------------------------------


def run_due(
    cfg: LoadedConfig,
    *,
    now: datetime | None,
    echo: Echo,
    build: BuildFunction | None = None,
    refresh_index: RefreshFunction | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunDueResult:
    """Build every scheduled brief whose latest slot is due, each at most once per slot.

    ``build`` and ``refresh_index`` default to the real pipeline; ``should_stop`` is asked
    before each brief (the foreground scheduler uses it to stop after the brief in progress).
    """
    now = now or datetime.now(UTC)
    if now.utcoffset() is None:
        raise ScheduleError(
            "run_due needs an aware `now` (with a time zone), e.g. datetime.now(UTC)"
        )
    check_now(now)
    result = RunDueResult()
    scheduled = {n: s for n, s in cfg.config.briefs.items() if s.schedule is not None}
    nothing_scheduled = "nothing scheduled: no brief in the config has a `schedule:`"
    if not scheduled and not history_exists(cfg):  # and no delivery of a build to retry
        echo(nothing_scheduled)
        return result
    with run_lock(cfg) as holder, contextlib.ExitStack() as opened:
        if holder is not None:
            echo(f"another briefgen run-due is running ({holder}); exiting without building")
            result.exit_code = EXIT_LOCKED
            return result
        state = opened.enter_context(open_history(cfg))
        for row in state.interrupt_running(
            "interrupted: the process building it stopped before finishing"
        ):
            echo(f"{row.brief}: slot {row.slot} was interrupted by a killed run; it will be retried")
        with contextlib.ExitStack() as held:  # the slot locks, until the builds are over
            due, busy = [], []
            for name, spec in scheduled.items():
                key = _latest_key(spec, now)
                other = None if key is None else held.enter_context(state.slot_lock(name, key))
                if other is not None:
                    busy.append(name)
                    echo(f"{name}: slot {key} is being built by another run-due ({other}); skipped")
                elif d := _plan(state, name, spec, now, result, echo, cfg):
                    due.append(d)
            if due:
                _build_due(cfg, state, due, result, echo, build, refresh_index, should_stop)
            elif busy:
                result.exit_code = EXIT_LOCKED
            else:
                echo(nothing_due_message(state, scheduled, now) if scheduled else nothing_scheduled)
        if not (should_stop and should_stop()):
            _send_deliveries(cfg, state, now, result, echo)
        result.next_delivery_try = state.next_delivery_try(max_attempts=deliveries.MAX_ATTEMPTS)
    if result.failed or result.undelivered:
        result.exit_code = EXIT_FAILED
    return result


def _send_deliveries(
    cfg: LoadedConfig, state: RunHistory, now: datetime, result: RunDueResult, echo: Echo
) -> None:
    """Send the deliveries that are due, unless another run-due (another host) is sending."""
    with state.delivery_lock() as holder:
        if holder is not None:
            return  # that run-due sends them
        for sending in state.interrupt_sending(deliveries.INTERRUPTED, now):
            echo(f"{sending.channel} delivery of run {sending.run_id} was interrupted "
                 "while sending (the server may have it); sending it again")
        sent = deliveries.send_due(cfg, state, now=now, echo=echo)
        result.delivered, result.undelivered = sent.sent, sent.failed


def _latest_key(spec: BriefSpec, now: datetime) -> str | None:
    """Return the stored form of the brief's latest slot at or before ``now`` (None: no slot)."""
    sched = spec.schedule
    assert sched is not None
    slot = cronslots.latest_slot(sched.cron, sched.timezone, now)
    return None if slot is None else cronslots.format_slot(slot)


def _plan(
    state: RunHistory, name: str, spec: BriefSpec, now: datetime, result: RunDueResult, echo: Echo,
    cfg: LoadedConfig,
) -> _Due | None:
    """Decide whether ``name`` is due now; record slots that are too old to build as missed."""
    sched = spec.schedule
    assert sched is not None
    slot = cronslots.latest_slot(sched.cron, sched.timezone, now)
    if slot is None:
        return None
    key = cronslots.format_slot(slot)
    last = last_slot_until(state, name, now, echo)
    if last is not None and key < last:
        return None  # never build a slot older than one already recorded
    too_late = (now - slot).total_seconds() > sched.lateness_hours * 3600
    reason = f"more than {sched.lateness_hours:g} h late (schedule.lateness_hours)"
    if last is not None and last != key:
        older, more = cronslots.slots_between(
            sched.cron, sched.timezone, cronslots.parse_slot(last), slot, cap=MISSED_CAP
        )
        _record_missed(
            state,
            name,
            [cronslots.format_slot(s) for s in older],
            more,
            "a newer slot superseded it",
            result,
            echo,
        )
    row = state.slot_state(name, key)
    if row is None:
        if too_late:
            _record_missed(state, name, [key], False, reason, result,
                           lambda _: echo(_too_late(cfg, name, sched, slot, now)))
            return None
        return _Due(name, spec, sched, slot, key, attempt=1)
    if row.status != FAILED or too_late:
        return None
    attempts = state.attempts(name, key)
    if attempts > sched.max_retries:
        state.finish(row.id, GAVE_UP, error=row.error)  # e.g. the last try was killed
        return None
    return _Due(name, spec, sched, slot, key, attempt=attempts + 1)


def _record_missed(
    state: RunHistory,
    name: str,
    keys: list[str],
    more: bool,
    reason: str,
    result: RunDueResult,
    echo: Echo,
) -> None:
    if not keys:
        return
    state.record_missed(name, keys, reason=reason)
    result.missed.extend((name, k) for k in keys)
    span = keys[0] if len(keys) == 1 else f"{keys[0]} … {keys[-1]}"
    extra = " (and older ones, not recorded)" if more else ""
    echo(f"{name}: {len(keys)} slot(s) missed, not built: {span}{extra}; {reason}")


def _too_late(cfg: LoadedConfig, name: str, sched: Schedule, slot: datetime, now: datetime) -> str:
    """Say that the latest slot was missed, when the next one comes, and how to get a brief now."""
    upcoming = next(cronslots.slots_after(sched.cron, sched.timezone, now), None)
    then = (f"next run {cronslots.local_time(upcoming)} -> {cronslots.dated_path(cfg, name, upcoming)}; "
            if upcoming else "")
    late = (now - slot).total_seconds() / 3600
    return (f"{name}: slot {cronslots.local_time(slot)} missed ({late:.0f} h late; "
            f"schedule.lateness_hours is {sched.lateness_hours:g}), not built; {then}"
            f"`briefgen build {name}` makes one now")


def _build_due(
    cfg: LoadedConfig,
    state: RunHistory,
    due: list[_Due],
    result: RunDueResult,
    echo: Echo,
    build: BuildFunction | None,
    refresh_index: RefreshFunction | None,
    should_stop: Callable[[], bool] | None,
) -> None:
    """Refresh the index once, then build each due brief, isolating failures."""
    build, refresh_index = _pipeline(build, refresh_index)
    index_error = None
    try:
        pipeline.refresh_index(cfg, warn=lambda m: echo(f"warning: {m}"), refresh=refresh_index)
    except IndexBusyError as exc:  # not the briefs' fault: no attempt is spent on it
        echo(f"{exc}; left for the next run, no attempt spent: {', '.join(d.name for d in due)}")
        result.postponed.extend((d.name, d.key) for d in due)
        result.exit_code = EXIT_LOCKED
        return
    except Exception as exc:  # noqa: BLE001  every due brief is recorded failed with this error
        index_error = f"index refresh failed: {_describe(exc)}"
        echo(f"error: {index_error}")
    for item in due:
        if should_stop is not None and should_stop():
            left = ", ".join(d.name for d in due[due.index(item) :])
            echo(f"stopping: left for the next run: {left}")
            result.stopped_early = True
            return
        _build_one(cfg, state, item, result, echo, build, index_error)


def _build_one(
    cfg: LoadedConfig,
    state: RunHistory,
    item: _Due,
    result: RunDueResult,
    echo: Echo,
    build: BuildFunction,
    index_error: str | None,
) -> None:
    """Build one slot into staging, publish it, point `latest` at it, then mark it done."""
    root = cfg.resolve(cfg.config.output.dir)
    final = root / cronslots.dated_folder(item.schedule.output, item.name, item.slot)
    parent = final.parent
    tries = f"attempt {item.attempt} of {item.schedule.max_retries + 1}"
    echo(f"{item.name}: building slot {cronslots.local_time(item.slot)} ({item.key}), {tries}")
    run_id = state.start(item.name, item.key, item.attempt, cfg.relative(final))
    started = time.monotonic()
    staging = None
    try:
        if index_error:
            raise ScheduleError(index_error)
        dated_output.check_inside(final, root)  # filled in and resolved: nothing written outside
        dated_output.remove_stale_staging(parent)
        staging = dated_output.new_staging_dir(parent)
        formats = deliveries.formats_to_build(item.spec, list(item.spec.formats))
        if "json" not in formats:
            formats.append("json")  # the next run's "what's new" compares against it
        built = build(
            cfg,
            item.name,
            formats=formats,
            out_dir=staging,
            as_of=item.slot.date(),
            previous=_previous_json(cfg, state, item.name),
            strict=True,  # an empty corpus fails the slot (recorded, retried), never an empty brief
        )
        files = dated_output.publish(staging, built.files, final)
        dated_output.point_latest(parent, final.name)
    except Exception as exc:  # noqa: BLE001  one brief's failure must not stop the others
        error = _describe(exc, with_traceback=not isinstance(exc, BriefgenError))
        gave_up = item.attempt > item.schedule.max_retries
        state.finish(run_id, GAVE_UP if gave_up else FAILED, error=error)
        result.failed.append((item.name, item.key, error))
        then = "giving up on this slot" if gave_up else "will retry on the next run"
        echo(f"{item.name}: FAILED ({tries}, {then}): {_describe(exc)}")
        return
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    recorded = [(cfg.relative(f), sha256_file(f)) for f in files]
    state.finish(
        run_id, DONE, files=recorded,
        summary=deliveries.summary_from_files(cfg, recorded, item.slot.date().isoformat()),
        deliveries=deliveries.channels_of(item.spec),
    )
    result.built.append((item.name, item.key))
    took = time.monotonic() - started
    echo(
        f"{item.name}: done in {took:.1f} s -> {cfg.relative(final)} "
        f"({', '.join(f.name for f in files)})"
    )
    if item.spec.keep:
        try:
            removed = dated_output.prune_dated(
                parent,
                cronslots.dated_name_regex(item.schedule.output),
                item.spec.keep,
                protect={final.name},
                root=root,
            )
        except (OSError, ScheduleError) as exc:
            echo(f"warning: {item.name}: could not remove old output folders: {exc}")
        else:
            if removed:
                echo(f"{item.name}: removed {len(removed)} old folder(s) (keep: {item.spec.keep})")


def _previous_json(cfg: LoadedConfig, state: RunHistory, name: str) -> Path | None:
    """Return the brief.json of the brief's newest successful run, if it still exists."""
    row = state.last_done(name)
    for path, _ in row.files if row else ():
        if Path(path).name == "brief.json" and cfg.resolve(path).is_file():
            return cfg.resolve(path)
    return None


def _pipeline(
    build: BuildFunction | None, refresh_index: RefreshFunction | None
) -> tuple[BuildFunction, RefreshFunction]:
    """Fill in the real build and index refresh (imported only now: they are heavy)."""
    if build is None:
        build = importlib.import_module("briefgen.build").build_brief
    if refresh_index is None:
        refresh_index = importlib.import_module("briefgen.index.update").update_index
    return build, refresh_index


def _describe(exc: BaseException, *, with_traceback: bool = False) -> str:
    """Return an error as one line (a user's mistake) or with its traceback (a bug)."""
    if isinstance(exc, ConfigError):
        return "; ".join(exc.problems)
    line = str(exc) if isinstance(exc, BriefgenError) else f"{type(exc).__name__}: {exc}"
    if with_traceback:
        return line + "\n" + "".join(traceback.format_exception(exc)).rstrip()
    return line


def next_slot(spec: BriefSpec, now: datetime) -> datetime | None:
    """Return the brief's first slot after ``now`` (in its zone)."""
    sched = spec.schedule
    assert sched is not None
    return next(cronslots.slots_after(sched.cron, sched.timezone, now), None)
