"""Clocks, locks and one-line failures (issue 13): run state in the future, index updates that
wait (bounded) instead of failing, builds on a current index that need no lock, a busy index
that costs a scheduled run no attempt, and damaged or unwritable state reported in one line."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from indexdata import article, q
from test_schedule import DAILY_TOKYO, Run, make_cfg, statuses, tokyo, write_config

from briefgen import _fs
from briefgen.cli import cli
from briefgen.config.schema import LoadedConfig, Topic
from briefgen.errors import IndexBusyError, ScheduleError, StoreError
from briefgen.index.backends import open_store
from briefgen.index.update import update_index
from briefgen.schedule.sqlite_history import RunState
from briefgen.schedule.state import runs_db_path
from briefgen.select.selection import date_window

ROOT = Path(__file__).resolve().parent.parent
WAIT_LIMIT_S = 120.0  # bound for a subprocess; never reached when all is well


# --- run state in the future ----------------------------------------------------------------


def test_a_run_recorded_in_the_future_does_not_stop_later_runs(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    # One forward clock jump: a run was recorded for 2099-12-31.
    with RunState(runs_db_path(run.cfg)) as state:
        state.finish(state.start("daily", "2099-12-30T22:00:00Z", 1, "briefs/daily/2099-12-31"), "done")
    result = run(tokyo(2025, 3, 10, 7, 5))
    assert result.built == [("daily", "2025-03-09T22:00:00Z")]  # before: "nothing due" forever
    assert "warning: daily: the run history holds slot 2099-12-30T22:00:00Z, after now" in run.text
    idle = run(tokyo(2025, 3, 10, 9, 0))
    assert idle.built == []
    assert "nothing due; next: daily at 2025-03-11 Tue 07:00 JST" in run.text  # and it is true
    assert run(tokyo(2025, 3, 11, 7, 1)).built == [("daily", "2025-03-10T22:00:00Z")]


def test_the_next_line_skips_slots_already_recorded(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    run(tokyo(2025, 3, 11, 7, 5))  # the clock was a day ahead: 03-11's slot is done
    run(tokyo(2025, 3, 10, 7, 5))  # now it is right: 03-10's slot is due and built
    run(tokyo(2025, 3, 10, 8, 0))
    # 03-11's slot will not be built again: the next run that builds is 03-12's.
    assert "nothing due; next: daily at 2025-03-12 Wed 07:00 JST" in run.text


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_extreme_now_is_one_line(tmp_path: Path, now: str) -> None:
    config = write_config(tmp_path, {"daily": DAILY_TOKYO})
    result = CliRunner().invoke(cli, ["run-due", "-c", str(config), "--now", now])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "is out of range; use an instant between 1970-01-01 and 8999-12-31" in result.output
    assert "Traceback" not in result.output


def test_as_of_at_the_start_of_the_calendar_with_within_days() -> None:
    topic = Topic(title="T", terms={"x": 1.0}, within_days=30)
    assert date_window(topic, dt.date(1, 1, 1)) == (dt.date(1, 1, 1), dt.date(1, 1, 1))
    assert date_window(topic, dt.date(9999, 12, 31))[0] == dt.date(9999, 12, 1)


# --- locks ----------------------------------------------------------------------------------


@contextmanager
def held(lock: Path) -> Iterator[int]:
    """Hold the flock on ``lock`` in this process, as another briefgen would."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield fd
    finally:
        os.close(fd)


def with_index(cfg: LoadedConfig, **settings: Any) -> LoadedConfig:
    index = cfg.config.index.model_copy(update=settings)
    return cfg.model_copy(update={"config": cfg.config.model_copy(update={"index": index})})


def test_a_current_index_needs_no_update_lock(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    cfg = with_index(txt_corpus, lock_wait_seconds=0.0)
    with held(txt_corpus.root / ".briefgen" / "index.sqlite.lock"):
        summary = update_index(cfg, progress=False)  # before: "another `briefgen index`…"
    assert (summary.unchanged, summary.documents_total) == (3, 3)


def test_an_update_waits_for_the_lock_and_then_runs(
    txt_corpus: LoadedConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(txt_corpus, progress=False)
    (txt_corpus.root / "corpus" / "delta.txt").write_text(article("fishery"), encoding="utf-8")
    holder = os.open(txt_corpus.root / ".briefgen" / "index.sqlite.lock", os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    waits: list[float] = []

    def release_while_waiting(seconds: float) -> None:
        waits.append(seconds)  # the updater found the lock held and waits: let it go now
        os.close(holder)

    monkeypatch.setattr(_fs.time, "sleep", release_while_waiting)
    summary = update_index(txt_corpus, progress=False)
    assert len(waits) == 1 and summary.added == 1


def test_a_lock_not_released_in_time_is_a_busy_error(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    (txt_corpus.root / "corpus" / "delta.txt").write_text(article("fishery"), encoding="utf-8")
    busy = pytest.raises(IndexBusyError, match=r"waited 0.2 s \(index.lock_wait_seconds\)")
    with held(txt_corpus.root / ".briefgen" / "index.sqlite.lock"), busy:
        update_index(with_index(txt_corpus, lock_wait_seconds=0.2), progress=False)


def test_a_busy_index_costs_a_scheduled_run_no_attempt(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily={"schedule": {**DAILY_TOKYO["schedule"], "max_retries": 0}}))
    busy = [True]

    def refresh(cfg: Any, **kwargs: Any) -> None:
        if busy[0]:
            raise IndexBusyError("index.sqlite: another `briefgen index` is updating this index")

    run.refresh = refresh  # type: ignore[method-assign]
    first = run(tokyo(2025, 3, 10, 7, 1))
    assert first.exit_code == 3 and first.built == [] and first.failed == []
    assert first.postponed == [("daily", "2025-03-09T22:00:00Z")]
    assert "left for the next run, no attempt spent: daily" in run.text
    assert statuses(run.cfg, "daily") == []  # nothing recorded: no attempt spent
    busy[0] = False
    assert run(tokyo(2025, 3, 10, 7, 6)).built == [("daily", "2025-03-09T22:00:00Z")]
    assert statuses(run.cfg, "daily") == [("2025-03-09T22:00:00Z", "done", 1)]


@pytest.mark.slow
@pytest.mark.parametrize("stale", [False, True])
def test_six_concurrent_builds_all_succeed(project: Path, stale: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    briefgen = [sys.executable, "-m", "briefgen"]
    subprocess.run([*briefgen, "index", "-q"], cwd=project, env=env, check=True, timeout=WAIT_LIMIT_S)
    if stale:  # one of them updates the index; the others wait for it, then find it current
        (project / "seeds" / "new.txt").write_text(article("alliance", 6), encoding="utf-8")
    procs = [
        subprocess.Popen([*briefgen, "build", "--format", "md", "--out", f"out{i}"], cwd=project,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(6)
    ]
    results = [(p.wait(timeout=WAIT_LIMIT_S), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0] * 6, results
    assert not any("another `briefgen index`" in err for _, err in results)


# --- one line, not a traceback ----------------------------------------------------------------


def test_select_on_a_damaged_index_is_one_line(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    db = txt_corpus.root / ".briefgen" / "index.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'passages_fts_config'"
        ).fetchone()[0]
    with open(db, "r+b") as fh:  # garbage over the full-text table's settings
        fh.seek((root - 1) * page)
        fh.write(b"\xde\xad" * (page // 2))
    with open_store(txt_corpus) as store, pytest.raises(StoreError, match="the index is damaged"):
        store.search(q("tariff"))


def test_a_damaged_run_history_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"daily": DAILY_TOKYO})
    state = tmp_path / ".briefgen"
    state.mkdir()
    (state / "runs.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    for args in (["history"], ["run-due", "--now", "2025-03-10T07:05:00+09:00"]):
        result = CliRunner().invoke(cli, [args[0], "-c", str(config), *args[1:]])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "runs.sqlite: " in result.output and "move the file aside" in result.output


def test_a_state_folder_that_cannot_be_written_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_cfg(tmp_path, daily=DAILY_TOKYO)
    from briefgen.schedule import state

    def read_only(path: Path, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(state, "exclusive_lock", read_only)
    with pytest.raises(ScheduleError, match=r"run-due.lock: cannot use the state folder \(Permission denied\)"):
        Run(cfg)(tokyo(2025, 3, 10, 7, 5))
    # A state folder that is a file, through the CLI: one line, exit 1.
    config = write_config(tmp_path, {"daily": DAILY_TOKYO})
    text = config.read_text(encoding="utf-8") + "state_dir: config.yaml/state\n"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["run-due", "-c", str(config), "--now", "2025-03-10T07:05:00Z"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "cannot use the state folder" in result.output
