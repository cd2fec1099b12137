"""The run-history database: schema, one row per attempt, stale rows, clear errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from briefgen.errors import ScheduleError
from briefgen.schedule.history import DONE, FAILED
from briefgen.schedule.sqlite_history import RunState

SLOT = "2025-03-09T22:00:00Z"


def test_new_database_uses_wal_and_records_an_attempt_with_files(tmp_path: Path) -> None:
    with RunState(tmp_path / "state" / "runs.sqlite") as state:
        assert state.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        run_id = state.start("daily", SLOT, 1, "briefs/daily/2025-03-10")
        assert state.slot_state("daily", SLOT).status == "running"  # type: ignore[union-attr]
        state.finish(run_id, DONE, files=[("briefs/daily/2025-03-10/brief.md", "ab" * 32)])
        row = state.last_done("daily")
    assert row is not None and row.status == DONE and row.finished is not None
    assert row.files == (("briefs/daily/2025-03-10/brief.md", "ab" * 32),)


def test_the_same_attempt_cannot_be_started_twice(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunState(path) as one, RunState(path) as other:
        one.start("daily", SLOT, 1, "x")
        with pytest.raises(ScheduleError, match="already started by another process"):
            other.start("daily", SLOT, 1, "x")


def test_interrupted_running_rows_become_failed_and_count_as_attempts(tmp_path: Path) -> None:
    with RunState(tmp_path / "runs.sqlite") as state:
        state.start("daily", SLOT, 1, "x")
        stale = state.interrupt_running("interrupted")
        assert [r.slot for r in stale] == [SLOT]
        row = state.slot_state("daily", SLOT)
        assert row is not None and row.status == FAILED and row.error == "interrupted"
        assert state.attempts("daily", SLOT) == 1
        assert state.interrupt_running("interrupted") == []


def test_missed_slots_are_recorded_once_and_do_not_count_as_attempts(tmp_path: Path) -> None:
    with RunState(tmp_path / "runs.sqlite") as state:
        state.record_missed("daily", [SLOT, "2025-03-10T22:00:00Z"], reason="too late")
        state.record_missed("daily", [SLOT], reason="too late")
        assert [r.status for r in state.history("daily", limit=10)] == ["missed", "missed"]
        assert state.attempts("daily", SLOT) == 0
        assert state.last_slot("daily") == "2025-03-10T22:00:00Z"
        assert state.briefs() == ["daily"]


def test_history_is_newest_first_and_limited(tmp_path: Path) -> None:
    with RunState(tmp_path / "runs.sqlite") as state:
        for day in range(10, 15):
            state.finish(state.start("daily", f"2025-03-{day}T22:00:00Z", 1, "x"), DONE)
        state.finish(state.start("other", "2025-03-20T22:00:00Z", 1, "x"), DONE)
        assert [r.slot[:10] for r in state.history("daily", limit=3)] == [
            "2025-03-14",
            "2025-03-13",
            "2025-03-12",
        ]
        assert state.history(None, limit=1)[0].brief == "other"


def test_database_from_a_newer_briefgen_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(ScheduleError, match="newer briefgen"):
        RunState(path)


def test_corrupt_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ScheduleError, match="move the file aside"):
        RunState(path)


def test_reading_history_never_creates_the_database(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="no run history yet"):
        RunState(tmp_path / "runs.sqlite", create=False)
    assert not (tmp_path / "runs.sqlite").exists()
