"""Scheduled generation: each promise of issue 5 with a fake clock and a fake build.

Subprocess tests (lock, SIGTERM, kill -9) use tests/fake_pipeline.py through the
fake_briefgen.py driver (injection through the CLI context) and coordinate with files, never with sleeps that assume speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from fake_pipeline import FakeBuild, load_config
from pydantic import ValidationError

from briefgen._fs import exclusive_lock
from briefgen.config.schema import Schedule
from briefgen.errors import ScheduleError
from briefgen.listing import format_schedule_list
from briefgen.schedule import foreground
from briefgen.schedule import run_due as schedule
from briefgen.schedule.foreground import run_forever
from briefgen.schedule.report import format_history
from briefgen.schedule.run_due import parse_now, run_due
from briefgen.schedule.sqlite_history import RunState
from briefgen.schedule.state import runs_db_path

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
BRIEFGEN = [sys.executable, str(TESTS / "fake_briefgen.py")]
WAIT_LIMIT_S = 30.0  # bound for waiting on a subprocess event; never reached when all is well

TOKYO = ZoneInfo("Asia/Tokyo")


def write_config(root: Path, briefs: dict[str, dict[str, Any]]) -> Path:
    """Write a minimal config.yaml with the given briefs (each needs only its schedule)."""
    data = {
        "topics": {"t": {"title": "T", "terms": {"japan": 1}}},
        "topic_files": [],
        "briefs": {
            name: {"title": name.title(), "topics": ["t"], "formats": ["md", "json"], **extra}
            for name, extra in briefs.items()
        },
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def make_cfg(root: Path, **briefs: dict[str, Any]) -> Any:
    return load_config(write_config(root, briefs))


DAILY_TOKYO = {"schedule": {"cron": "0 7 * * *", "timezone": "Asia/Tokyo", "lateness_hours": 12}}


def tokyo(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TOKYO)


class Run:
    """Call run_due with a fake build and collect what it printed."""

    def __init__(self, cfg: Any, build: FakeBuild | None = None) -> None:
        self.cfg, self.build, self.lines, self.index_calls = cfg, build or FakeBuild(), [], 0

    def refresh(self, cfg: Any, *, progress: bool, warn: Any, max_warnings: int | None = None) -> None:
        self.index_calls += 1

    def __call__(self, now: datetime) -> schedule.RunDueResult:
        self.lines.clear()
        return run_due(
            self.cfg, now=now, echo=self.lines.append, build=self.build, refresh_index=self.refresh
        )

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def statuses(cfg: Any, brief: str) -> list[tuple[str, str, int]]:
    with RunState(runs_db_path(cfg)) as state:
        return [(r.slot, r.status, r.attempt) for r in reversed(state.history(brief, limit=1000))]


# -- --now -------------------------------------------------------------------------------


def test_parse_now_needs_an_offset() -> None:
    assert parse_now("2025-03-10T07:00:00Z") == datetime(2025, 3, 10, 7, tzinfo=UTC)
    assert parse_now("2025-03-10T07:00:00+09:00") == tokyo(2025, 3, 10, 7)
    assert parse_now(None) is None
    with pytest.raises(ScheduleError, match="add an offset or Z"):
        parse_now("2025-03-10T07:00:00")
    with pytest.raises(ScheduleError, match="not an ISO-8601"):
        parse_now("tomorrow")


# -- exactly once, catch-up, missed --------------------------------------------------------


def test_exactly_once_per_slot(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    assert run(tokyo(2025, 3, 10, 7, 5)).built == [("daily", "2025-03-09T22:00:00Z")]
    second = run(tokyo(2025, 3, 10, 7, 10))
    assert second.exit_code == 0 and second.built == []
    assert "nothing due" in run.text
    assert run.build.built() == [date(2025, 3, 10)]


def test_missed_slots_are_caught_up_once_and_older_ones_recorded(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    run(tokyo(2025, 3, 10, 7, 1))
    # The machine was off Tuesday and Wednesday; it comes back Thursday 09:00.
    result = run(tokyo(2025, 3, 13, 9, 0))
    assert result.built == [("daily", "2025-03-12T22:00:00Z")]
    assert run.build.built() == [date(2025, 3, 10), date(2025, 3, 13)]
    assert statuses(run.cfg, "daily") == [
        ("2025-03-09T22:00:00Z", "done", 1),
        ("2025-03-10T22:00:00Z", "missed", 0),
        ("2025-03-11T22:00:00Z", "missed", 0),
        ("2025-03-12T22:00:00Z", "done", 1),
    ]
    assert "daily: 2 slot(s) missed, not built" in run.text


def test_slot_older_than_lateness_is_recorded_missed_not_built(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    result = run(tokyo(2025, 3, 10, 19, 30))  # 12.5 h after the 07:00 slot
    assert result.built == [] and result.exit_code == 0
    assert result.missed == [("daily", "2025-03-09T22:00:00Z")]
    assert run.build.calls == []
    assert run(tokyo(2025, 3, 10, 19, 35)).missed == []  # recorded once, not again


def test_first_call_of_a_new_schedule_past_its_window_says_what_to_do(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    run(tokyo(2025, 3, 11, 5, 0))  # set up yesterday; the 07:00 slot was 22 h ago
    assert run.lines == [
        ("daily: slot 2025-03-10 Mon 07:00 JST missed (22 h late; schedule.lateness_hours is 12), "
         "not built; next run 2025-03-11 Tue 07:00 JST -> briefs/daily/2025-03-11; "
         "`briefgen build daily` makes one now"),
        "nothing due; next: daily at 2025-03-11 Tue 07:00 JST (2025-03-10T22:00:00Z)",
    ]


def test_clock_going_back_never_rebuilds_a_done_slot(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    run(tokyo(2025, 3, 11, 7, 5))
    back = run(tokyo(2025, 3, 10, 7, 5))
    # The 03-11 slot is done and never built again; 03-10's was never built and is due now
    # (issue 13: run state in the future must not hide due slots), with a loud warning.
    assert back.built == [("daily", "2025-03-09T22:00:00Z")]
    assert "after now" in run.text
    assert run(tokyo(2025, 3, 10, 7, 10)).built == []
    assert os.readlink(tmp_path / "briefs" / "daily" / "latest") == "2025-03-11"  # not moved back


# -- time zones and DST ----------------------------------------------------------------------

DST_CASES = [
    # zone, cron, first instant (UTC), expected local run times over five days
    (
        "America/New_York",
        "0 7 * * *",
        datetime(2025, 3, 7, 18, tzinfo=UTC),
        ["03-08 07:00", "03-09 07:00", "03-10 07:00", "03-11 07:00", "03-12 07:00"],
    ),
    (
        "America/New_York",
        "30 2 * * *",
        datetime(2025, 3, 7, 18, tzinfo=UTC),  # 02:30 does not exist on 03-09
        ["03-08 02:30", "03-09 03:00", "03-10 02:30", "03-11 02:30", "03-12 02:30"],
    ),
    (
        "Europe/Berlin",
        "0 7 * * *",
        datetime(2025, 3, 28, 12, tzinfo=UTC),
        ["03-29 07:00", "03-30 07:00", "03-31 07:00", "04-01 07:00", "04-02 07:00"],
    ),
    (
        "Europe/Berlin",
        "30 2 * * *",
        datetime(2025, 3, 28, 12, tzinfo=UTC),  # spring forward 03-30
        ["03-29 02:30", "03-30 03:00", "03-31 02:30", "04-01 02:30", "04-02 02:30"],
    ),
    (
        "America/New_York",
        "0 7 * * *",
        datetime(2025, 10, 31, 18, tzinfo=UTC),
        ["11-01 07:00", "11-02 07:00", "11-03 07:00", "11-04 07:00", "11-05 07:00"],
    ),
    (
        "America/New_York",
        "30 1 * * *",
        datetime(2025, 10, 31, 18, tzinfo=UTC),  # 01:30 happens twice on 11-02
        ["11-01 01:30", "11-02 01:30", "11-03 01:30", "11-04 01:30", "11-05 01:30"],
    ),
    (
        "Europe/Berlin",
        "0 7 * * *",
        datetime(2025, 10, 24, 12, tzinfo=UTC),
        ["10-25 07:00", "10-26 07:00", "10-27 07:00", "10-28 07:00", "10-29 07:00"],
    ),
    (
        "Europe/Berlin",
        "30 2 * * *",
        datetime(2025, 10, 24, 12, tzinfo=UTC),  # 02:30 happens twice on 10-26
        ["10-25 02:30", "10-26 02:30", "10-27 02:30", "10-28 02:30", "10-29 02:30"],
    ),
]


@pytest.mark.parametrize("zone, cron, start, expected", DST_CASES)
def test_daily_run_across_dst_neither_skips_nor_doubles(
    tmp_path: Path, zone: str, cron: str, start: datetime, expected: list[str]
) -> None:
    spec = {"schedule": {"cron": cron, "timezone": zone, "lateness_hours": 2}}
    run = Run(make_cfg(tmp_path, daily=spec))
    now = start
    while now < start + timedelta(days=5):  # a run-due every 20 minutes
        run(now)
        now += timedelta(minutes=20)
    tz = ZoneInfo(zone)
    slots = [s for s, status, _ in statuses(run.cfg, "daily") if status == "done"]
    local = [
        datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(tz) for s in slots
    ]
    assert [t.strftime("%m-%d %H:%M") for t in local] == expected
    assert len(run.build.calls) == 5
    # Dated folders follow the slot's date in the brief's zone, not UTC.
    assert [c["as_of"].strftime("%m-%d") for c in run.build.calls] == [e[:5] for e in expected]


# -- failure isolation and retries -----------------------------------------------------------


def test_failing_brief_is_isolated_retried_then_given_up(tmp_path: Path) -> None:
    failing = {"schedule": {**DAILY_TOKYO["schedule"], "max_retries": 2}}
    run = Run(make_cfg(tmp_path, bad=failing, good=DAILY_TOKYO), FakeBuild(fail={"bad": 99}))
    first = run(tokyo(2025, 3, 10, 7, 0))
    assert first.exit_code == 1
    assert first.built == [("good", "2025-03-09T22:00:00Z")]
    assert [f[0] for f in first.failed] == ["bad"] and "unexpected end of template" in first.failed[
        0
    ][2]
    assert "bad: FAILED (attempt 1 of 3, will retry" in run.text
    assert run(tokyo(2025, 3, 10, 7, 5)).exit_code == 1  # retry 1
    last = run(tokyo(2025, 3, 10, 7, 10))  # retry 2 = the last one allowed
    assert last.exit_code == 1 and "giving up" in run.text
    after = run(tokyo(2025, 3, 10, 7, 15))
    assert after.exit_code == 0 and after.built == [] and "nothing due" in run.text
    assert run.build.built("bad") == [date(2025, 3, 10)] * 3
    assert run.build.built("good") == [date(2025, 3, 10)]
    assert [s[1:] for s in statuses(run.cfg, "bad")] == [
        ("failed", 1),
        ("failed", 2),
        ("gave-up", 3),
    ]
    with RunState(runs_db_path(run.cfg)) as state:
        assert "unexpected end of template" in (
            state.slot_state("bad", "2025-03-09T22:00:00Z").error or ""
        )


def test_failed_slot_succeeds_on_retry(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO), FakeBuild(fail={"daily": 1}))
    assert run(tokyo(2025, 3, 10, 7, 0)).exit_code == 1
    assert run(tokyo(2025, 3, 10, 7, 5)).built == [("daily", "2025-03-09T22:00:00Z")]
    assert [s[1:] for s in statuses(run.cfg, "daily")] == [("failed", 1), ("done", 2)]


def test_index_failure_fails_the_due_briefs(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))

    def broken(cfg: Any, **kw: Any) -> None:
        raise OSError("disk full")

    result = run_due(
        run.cfg,
        now=tokyo(2025, 3, 10, 7),
        echo=run.lines.append,
        build=run.build,
        refresh_index=broken,
    )
    assert result.exit_code == 1 and run.build.calls == []
    assert "index refresh failed: OSError: disk full" in result.failed[0][2]


# -- index refresh and heavy imports ---------------------------------------------------------


def test_index_is_refreshed_before_a_build_and_not_when_idle(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    order: list[str] = []
    build = run.build

    def refresh(cfg: Any, *, progress: bool, warn: Any, max_warnings: int | None = None) -> None:
        order.append("index")

    def recording_build(*a: Any, **kw: Any) -> Any:
        order.append("build")
        return build(*a, **kw)

    run_due(
        run.cfg, now=tokyo(2025, 3, 10, 7), echo=print, build=recording_build, refresh_index=refresh
    )
    run_due(
        run.cfg,
        now=tokyo(2025, 3, 10, 7, 5),
        echo=print,
        build=recording_build,
        refresh_index=refresh,
    )
    assert order == ["index", "build"]


def test_nothing_due_does_not_import_the_heavy_pipeline(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"daily": DAILY_TOKYO})
    code = (
        "import sys; from fake_pipeline import load_config; from briefgen.schedule.run_due import run_due; "
        f"from briefgen.schedule.run_due import parse_now; cfg = load_config({str(config)!r}); "
        "r = run_due(cfg, now=parse_now('2025-03-10T20:00:00+09:00'), echo=print); "
        "heavy = [m for m in ('weasyprint', 'trafilatura', 'briefgen.build', 'briefgen.index.sqlite.store') if m in sys.modules]; "
        "print('HEAVY', heavy); sys.exit(r.exit_code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout


# -- outputs: dated folders, latest, retention, what's new -----------------------------------


def test_dated_outputs_latest_link_retention_and_previous(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily={**DAILY_TOKYO, "keep": 2}))
    briefs = tmp_path / "briefs" / "daily"
    briefs.mkdir(parents=True)
    (briefs / "notes").mkdir()  # not a dated folder: never touched by retention
    for day in (10, 11, 12, 13):
        assert run(tokyo(2025, 3, day, 7, 1)).exit_code == 0
    assert sorted(p.name for p in briefs.iterdir()) == [
        "2025-03-12",
        "2025-03-13",
        "latest",
        "notes",
    ]
    assert os.readlink(briefs / "latest") == "2025-03-13"
    assert (briefs / "latest" / "brief.md").read_text() == "# daily as of 2025-03-13\n"
    # What's new: each build is handed the previous run's brief.json.
    previous = [c["previous"] for c in run.build.calls]
    assert previous[0] is None
    assert previous[1:] == [briefs / f"2025-03-{d}" / "brief.json" for d in (10, 11, 12)]
    # Scheduled builds always write brief.json (the next run compares against it).
    assert all("json" in c["formats"] for c in run.build.calls)
    with RunState(runs_db_path(run.cfg)) as state:
        files = dict(state.last_done("daily").files)  # type: ignore[union-attr]
    import hashlib

    md = "briefs/daily/2025-03-13/brief.md"
    assert files[md] == hashlib.sha256((tmp_path / md).read_bytes()).hexdigest()


def test_retention_never_deletes_latest_target(tmp_path: Path) -> None:
    from briefgen.schedule.dated_output import point_latest, prune_dated
    from briefgen.schedule.slots import dated_name_regex

    for name in ("2025-03-01", "2025-03-02", "2025-03-03"):
        (tmp_path / name).mkdir()
    point_latest(tmp_path, "2025-03-01")
    removed = prune_dated(
        tmp_path, dated_name_regex("{brief}/{date}"), 1, protect={"2025-03-03"}, root=tmp_path
    )
    assert [p.name for p in removed] == ["2025-03-02"]


def test_failed_or_killed_build_leaves_previous_brief_and_latest(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO))
    run(tokyo(2025, 3, 10, 7, 1))
    briefs = tmp_path / "briefs" / "daily"
    before = (briefs / "latest" / "brief.md").read_bytes()

    class Killed(BaseException):
        """Stands in for the process dying mid-build."""

    def dies_midway(cfg: Any, name: str, *, out_dir: Path, **kw: Any) -> Any:
        (out_dir / "brief.md").write_text("half a bri")
        raise Killed

    with pytest.raises(Killed):
        run_due(
            run.cfg,
            now=tokyo(2025, 3, 11, 7, 1),
            echo=print,
            build=dies_midway,
            refresh_index=run.refresh,
        )
    assert os.readlink(briefs / "latest") == "2025-03-10"
    assert (briefs / "latest" / "brief.md").read_bytes() == before
    assert not (briefs / "2025-03-11" / "brief.md").exists()
    assert statuses(run.cfg, "daily")[-1] == ("2025-03-10T22:00:00Z", "running", 1)
    # The stale "running" row is retried on the next call.
    assert run(tokyo(2025, 3, 11, 7, 6)).built == [("daily", "2025-03-10T22:00:00Z")]
    assert "interrupted" in run.text
    assert [s[1:] for s in statuses(run.cfg, "daily")][-2:] == [("failed", 1), ("done", 2)]


# -- schedule --list and history -------------------------------------------------------------


def test_schedule_list_shows_next_three_runs_in_zone_and_utc(tmp_path: Path) -> None:
    weekdays = {"schedule": {"cron": "0 7 * * 1-5", "timezone": "Asia/Tokyo"}}
    cfg = make_cfg(tmp_path, japan=weekdays, adhoc={})
    text = format_schedule_list(cfg, now=tokyo(2025, 3, 7, 8))  # a Friday after the run
    assert '"0 7 * * 1-5" in Asia/Tokyo' in text
    assert "2025-03-10 Mon 07:00 JST" in text and "2025-03-09 22:00 UTC" in text
    assert "2025-03-12 Wed 07:00 JST" in text and "2025-03-13" not in text
    assert "adhoc: not scheduled" in text


def test_history_lists_runs_newest_first(tmp_path: Path) -> None:
    run = Run(make_cfg(tmp_path, daily=DAILY_TOKYO), FakeBuild(fail={"daily": 1}))
    assert "no runs yet" in format_history(run.cfg, None, limit=10)
    run(tokyo(2025, 3, 10, 7))
    run(tokyo(2025, 3, 10, 7, 5))
    lines = format_history(run.cfg, "daily", limit=10).splitlines()
    assert lines[0].startswith("RUN  BRIEF") and "STATUS" in lines[0]
    assert "done" in lines[1] and "briefs/daily/2025-03-10 (2 files)" in lines[1]
    assert "failed" in lines[2] and "unexpected end of template" in lines[2]
    assert "2025-03-10 Mon 07:00 JST" in lines[1]
    with pytest.raises(ScheduleError, match="unknown brief 'nope'"):
        format_history(run.cfg, "nope", limit=10)


# -- config validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"cron": "0 7 * *"}, "use five"),
        ({"cron": "0 25 * * *"}, "invalid cron expression"),
        ({"cron": "0 7 * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"cron": "0 7 * * *", "output": "{date}/{brief}"}, "last folder must contain {date}"),
        ({"cron": "0 7 * * *", "output": "{brief}/{day}"}, "unknown field"),
        ({"cron": "0 7 * * *", "output": "../{brief}/{date}"}, "inside the output folder"),
    ],
)
def test_schedule_config_is_validated(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule(**fields)


# -- the lock: two real processes ------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _events(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_two_run_due_processes_never_build_at_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"daily": DAILY_TOKYO})
    log, started, release = tmp_path / "log", tmp_path / "started", tmp_path / "release"
    env = _env(FAKE_LOG=str(log), FAKE_STARTED=str(started), FAKE_RELEASE=str(release))
    cmd = [*BRIEFGEN, "run-due", "-c", str(config), "--now", "2025-03-10T07:05:00+09:00"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    try:
        # One of them builds and blocks; the other must finish without building.
        _wait_for(lambda: any(p.poll() is not None for p in procs), "the second run-due to exit")
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        out = loser.communicate(timeout=WAIT_LIMIT_S)[0]
        assert loser.returncode == 3, out
        assert "another briefgen run-due is running (pid" in out
        assert winner.poll() is None  # still inside its (blocked) build
    finally:
        release.touch()
        for p in procs:
            p.communicate(timeout=WAIT_LIMIT_S)
    assert winner.returncode == 0
    assert [e["event"] for e in _events(log)] == ["index", "start", "end"]


def test_run_due_exits_3_while_the_lock_is_held(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path, daily=DAILY_TOKYO)
    run = Run(cfg)
    with exclusive_lock(cfg.state_dir / "run-due.lock") as holder:
        assert holder is None
        assert run(tokyo(2025, 3, 10, 7)).exit_code == 3
    assert run.build.calls == []
    assert run(tokyo(2025, 3, 10, 7)).exit_code == 0 and len(run.build.calls) == 1


def test_process_killed_mid_build_leaves_slot_not_done(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"daily": DAILY_TOKYO})
    cfg = load_config(config)
    Run(cfg)(tokyo(2025, 3, 10, 7, 1))  # a previous good brief
    latest = tmp_path / "briefs" / "daily" / "latest"
    before = (latest / "brief.md").read_bytes()
    started = tmp_path / "started"
    env = _env(FAKE_STARTED=str(started), FAKE_RELEASE=str(tmp_path / "never"))
    proc = subprocess.Popen(
        [*BRIEFGEN, "run-due", "-c", str(config), "--now", "2025-03-11T07:01:00+09:00"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(started.exists, "the build to start")
    proc.kill()
    proc.wait(timeout=WAIT_LIMIT_S)
    assert os.readlink(latest) == "2025-03-10" and (latest / "brief.md").read_bytes() == before
    assert statuses(cfg, "daily")[-1][1] == "running"
    run = Run(cfg)
    assert run(tokyo(2025, 3, 11, 7, 6)).built == [("daily", "2025-03-10T22:00:00Z")]
    assert not list((tmp_path / "briefs" / "daily").glob(".staging-*"))


# -- the foreground scheduler ----------------------------------------------------------------


def test_schedule_finishes_the_brief_in_progress_on_sigterm(tmp_path: Path) -> None:
    # Two briefs due now; SIGTERM arrives while the first is building.
    # Every minute: {time} in the folder, or two runs would share one (validate refuses that).
    due_now = {"schedule": {"cron": "* * * * *", "timezone": "UTC", "output": "{brief}/{date}-{time}"}}
    config = write_config(tmp_path, {"first": due_now, "second": due_now})
    log, started, release = tmp_path / "log", tmp_path / "started", tmp_path / "release"
    env = _env(FAKE_LOG=str(log), FAKE_STARTED=str(started), FAKE_RELEASE=str(release))
    proc = subprocess.Popen(
        [*BRIEFGEN, "schedule", "-c", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(started.exists, "the build to start")
        proc.send_signal(signal.SIGTERM)
        # The handler announces itself on stderr; only then release the build.
        for line in proc.stderr:  # type: ignore[union-attr]
            if "stopping after the brief in progress" in line:
                break
        else:
            raise AssertionError("schedule did not acknowledge SIGTERM (killed by it?)")
        release.touch()
        out, err = proc.communicate(timeout=WAIT_LIMIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert [(e["event"], e.get("brief")) for e in _events(log)] == [
        ("index", None),
        ("start", "first"),
        ("end", "first"),
    ]
    assert "left for the next run: second" in out
    assert (tmp_path / "briefs" / "first" / "latest" / "brief.md").exists()


def test_schedule_sleeps_until_slots_and_reloads_an_edited_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"a": DAILY_TOKYO})
    clock = [tokyo(2025, 3, 10, 6, 58)]
    waits: list[float] = []
    build = FakeBuild()
    lines: list[str] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clock[0] += timedelta(seconds=seconds)
        if clock[0] >= tokyo(2025, 3, 10, 7, 30) and len(build.calls) == 1:
            # Add a brief due at 07:45 while the scheduler is sleeping.
            write_config(
                tmp_path,
                {
                    "a": DAILY_TOKYO,
                    "b": {"schedule": {"cron": "45 7 * * *", "timezone": "Asia/Tokyo"}},
                },
            )
            os.utime(config, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        return clock[0] >= tokyo(2025, 3, 10, 8)

    code = run_forever(
        config,
        topic_files=[],
        echo=lines.append,
        build=build,
        refresh_index=lambda cfg, **kw: None,
        clock=lambda: clock[0],
        wait=wait,
        load=load_config,
    )
    assert code == 0
    assert [c["brief"] for c in build.calls] == ["a", "b"]
    assert "briefgen schedule: config changed; reloaded" in lines
    assert max(waits) <= foreground.MAX_SLEEP
    assert waits[1] == 60  # first sleep after start-up catch-up: 2 minutes to go, capped at 60 s


# -- the commands ----------------------------------------------------------------------------


def test_cli_run_due_schedule_list_and_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from briefgen.cli import cli

    config = str(write_config(tmp_path, {"daily": DAILY_TOKYO}))
    from fake_briefgen import HOOKS
    monkeypatch.delenv("FAKE_RELEASE", raising=False)
    runner = CliRunner()
    first = runner.invoke(cli, obj=HOOKS, args=["run-due", "-c", config, "--now", "2025-03-10T07:00:00+09:00"])
    assert first.exit_code == 0, first.output
    assert "daily: done" in first.output
    again = runner.invoke(cli, obj=HOOKS, args=["run-due", "-c", config, "--now", "2025-03-10T07:05:00+09:00"])
    assert (
        again.exit_code == 0
        and "nothing due; next: daily at 2025-03-11 Tue 07:00 JST" in again.output
    )
    naive = runner.invoke(cli, obj=HOOKS, args=["run-due", "-c", config, "--now", "2025-03-10T07:05:00"])
    assert naive.exit_code == 1 and "add an offset or Z" in naive.output
    assert "Traceback" not in naive.output
    listed = runner.invoke(cli, ["schedule", "--list", "-c", config])
    assert listed.exit_code == 0 and "07:00 JST" in listed.output
    history = runner.invoke(cli, ["history", "daily", "-c", config])
    assert history.exit_code == 0 and "done" in history.output


# -- with the real pipeline ------------------------------------------------------------------

NEW_ARTICLE = """Zephyrine Tariff Talks

Japan and China opened talks on tariffs, export controls and semiconductor supply chains in
the port city of Zephyrine, officials said, as both sides weighed economic security.
"""


def test_real_build_sees_an_article_dropped_into_the_corpus(project: Path) -> None:
    pytest.importorskip("briefgen.build", reason="needs briefgen.build (not written yet)")
    cfg = load_config(project / "config.yaml")
    lines: list[str] = []
    first = run_due(cfg, now=tokyo(2025, 3, 10, 7, 1), echo=lines.append)
    assert first.exit_code == 0, lines
    latest = project / "briefs" / "japan-daily" / "latest"
    assert (
        json.loads((latest / "brief.json").read_text(encoding="utf-8"))["new_since_previous"]
        is None
    )
    (project / "seeds" / "999_zephyrine.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    second = run_due(cfg, now=tokyo(2025, 3, 11, 7, 1), echo=lines.append)
    assert second.built == [("japan-daily", "2025-03-10T22:00:00Z")], lines
    assert os.readlink(latest) == "2025-03-11"
    record = json.loads((latest / "brief.json").read_text(encoding="utf-8"))
    quoted = [q for sec in record["sections"] for q in sec["passages"] if "Zephyrine" in q["text"]]
    assert quoted, "the new article should be quoted in the next brief"
    # What's new: the new article's passages are marked new against the previous run.
    assert {q["citation"] for q in quoted} <= set(record["new_since_previous"])
    assert len(record["new_since_previous"]) < len(
        [q for sec in record["sections"] for q in sec["passages"]]
    )
    assert (latest / "brief.pdf").read_bytes().startswith(b"%PDF")
