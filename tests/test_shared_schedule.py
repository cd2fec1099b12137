"""Shared run state: the RunHistory contract on both backends, and two hosts (two project folders
sharing one PostgreSQL database) running ``run-due`` at once: each slot is built exactly once,
and ``history`` on either host shows every run.

Hosts are real subprocesses running the real CLI with the fake build of tests/fake_pipeline.py
(tests/fake_briefgen.py); they are coordinated through files, never through sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig
from briefgen.errors import ScheduleError
from briefgen.schedule.history import DONE, FAILED, RUNNING
from briefgen.schedule.state import open_history

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
WAIT_LIMIT_S = 120.0  # a hang guard, never reached when all is well
DAILY = {"cron": "0 7 * * *", "timezone": "Asia/Tokyo", "lateness_hours": 12}


def write_project(root: Path, index: dict[str, object], briefs: tuple[str, ...] = ("morning",)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    data = {
        "index": index,
        "topics": {"t": {"title": "T", "terms": {"japan": 1}}},
        "topic_files": [],
        "briefs": {name: {"title": name.title(), "topics": ["t"], "formats": ["md", "json"],
                          "schedule": DAILY} for name in briefs},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the RunHistory contract, both backends ----------------------------------------------------


@pytest.fixture
def history_cfg(tmp_path: Path, index_settings: dict[str, object]) -> LoadedConfig:
    return load_config(write_project(tmp_path / "project", index_settings))


def test_reading_history_never_creates_it(history_cfg: LoadedConfig) -> None:
    with pytest.raises(ScheduleError, match="no run history yet"):
        open_history(history_cfg, create=False)


def test_attempts_files_missed_slots_and_order(history_cfg: LoadedConfig) -> None:
    with open_history(history_cfg) as state:
        run_id = state.start("morning", "2025-03-09T22:00:00Z", 1, "briefs/morning/2025-03-10")
        with pytest.raises(ScheduleError, match="already started by another process"):
            state.start("morning", "2025-03-09T22:00:00Z", 1, "briefs/morning/2025-03-10")
        state.finish(run_id, FAILED, error="boom")
        again = state.start("morning", "2025-03-09T22:00:00Z", 2, "briefs/morning/2025-03-10")
        state.finish(again, DONE, files=[("b.md", "1" * 64), ("a.json", "2" * 64)])
        state.record_missed("morning", ["2025-03-07T22:00:00Z", "2025-03-08T22:00:00Z"], reason="late")
        state.record_missed("morning", ["2025-03-08T22:00:00Z"], reason="late")  # recorded once
        assert state.attempts("morning", "2025-03-09T22:00:00Z") == 2
        assert state.attempts("morning", "2025-03-08T22:00:00Z") == 0
        assert state.last_slot("morning") == "2025-03-09T22:00:00Z"
        done = state.last_done("morning")
        assert done is not None and done.attempt == 2 and done.files == (("a.json", "2" * 64),
                                                                           ("b.md", "1" * 64))
        rows = state.history(None, limit=10)
        assert [(r.slot[:10], r.attempt, r.status) for r in rows] == [
            ("2025-03-09", 2, "done"), ("2025-03-09", 1, "failed"), ("2025-03-08", 0, "missed"),
            ("2025-03-07", 0, "missed")]
        assert state.history("morning", limit=1) == rows[:1] and state.briefs() == ["morning"]
        slot = state.slot_state("morning", "2025-03-09T22:00:00Z")
        assert slot is not None and slot.status == DONE


def test_a_running_row_is_interrupted_only_when_nobody_holds_its_slot(history_cfg: LoadedConfig) -> None:
    slot = "2025-03-09T22:00:00Z"
    with open_history(history_cfg) as state:
        state.start("morning", slot, 1, "out")
        with open_history(history_cfg) as other, other.slot_lock("morning", slot) as holder:
            assert holder is None
            if history_cfg.config.index.backend == "postgresql":
                # Another session (another host) holds the slot: it is building, not dead.
                with state.slot_lock("morning", slot) as busy:
                    assert busy is not None and "briefgen run-due" in busy
                assert state.interrupt_running("killed") == []
                assert state.slot_state("morning", slot).status == RUNNING  # type: ignore[union-attr]
        stale = state.interrupt_running("killed")
        assert [r.slot for r in stale] == [slot]
        row = state.slot_state("morning", slot)
        assert row is not None and (row.status, row.error) == (FAILED, "killed")


# --- two hosts, one database --------------------------------------------------------------


def start(config: Path, now: str, **env: str) -> subprocess.Popen[str]:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)]), **env}
    cmd = [sys.executable, str(TESTS / "fake_briefgen.py"), "run-due", "-c", str(config), "--now", now]
    return subprocess.Popen(cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def builds(*logs: Path) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for log in logs:
        lines = log.read_text().splitlines() if log.exists() else []
        counts.update((e["event"], e["brief"]) for e in map(json.loads, lines) if "brief" in e)
    return counts


def history_of(config: Path) -> str:
    res = subprocess.run([sys.executable, "-m", "briefgen", "history", "-c", str(config)],
                         capture_output=True, text=True, timeout=WAIT_LIMIT_S, check=False,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    return res.stdout


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_two_hosts_running_run_due_at_once_build_each_slot_once(tmp_path: Path, pg_url: str) -> None:
    index = {"backend": "postgresql", "url": pg_url}
    hosts = {name: write_project(tmp_path / name, index) for name in ("host-a", "host-b")}
    release = tmp_path / "release"
    procs = {name: start(config, "2025-03-10T07:05:00+09:00", FAKE_LOG=str(tmp_path / f"{name}.log"),
                         FAKE_STARTED=str(tmp_path / f"{name}.started"), FAKE_RELEASE=str(release))
             for name, config in hosts.items()}
    try:
        # One host takes the slot and blocks inside its build; the other finds it taken.
        wait_until(lambda: any((tmp_path / f"{n}.started").exists() for n in hosts), "a build started")
        winner = next(n for n in hosts if (tmp_path / f"{n}.started").exists())
        loser = next(n for n in hosts if n != winner)
        out = procs[loser].communicate(timeout=WAIT_LIMIT_S)[0]
        assert procs[loser].returncode == 3, out
        assert "morning: slot 2025-03-09T22:00:00Z is being built by another run-due (briefgen " \
               "run-due" in out, out
        assert procs[winner].poll() is None  # still inside its blocked build
    finally:
        release.touch()
        outs = {n: p.communicate(timeout=WAIT_LIMIT_S)[0] for n, p in procs.items()}
    assert procs[winner].returncode == 0, outs
    assert not (tmp_path / loser / "briefs").exists()  # nothing built on the losing host

    # The next day, both at once and nothing blocks: still one build.
    procs = {name: start(config, "2025-03-11T07:05:00+09:00", FAKE_LOG=str(tmp_path / f"{name}.log"))
             for name, config in hosts.items()}
    outs = {n: p.communicate(timeout=WAIT_LIMIT_S)[0] for n, p in procs.items()}
    assert sorted(p.returncode for p in procs.values()) in ([0, 0], [0, 3]), outs

    logs = [tmp_path / f"{n}.log" for n in hosts]
    assert builds(*logs) == Counter({("start", "morning"): 2, ("end", "morning"): 2})
    for config in hosts.values():
        shown = history_of(config)
        assert shown.count(" done ") == 2, shown
        assert f"on {socket.gethostname()}" in shown  # which host built it


def test_a_host_killed_mid_build_leaves_its_slot_to_another_host(tmp_path: Path, pg_url: str) -> None:
    index = {"backend": "postgresql", "url": pg_url}
    a, b = (write_project(tmp_path / name, index) for name in ("host-a", "host-b"))
    started = tmp_path / "a.started"
    proc = start(a, "2025-03-10T07:05:00+09:00", FAKE_STARTED=str(started),
                 FAKE_RELEASE=str(tmp_path / "never"))
    try:
        wait_until(started.exists, "host a's build started")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate(timeout=WAIT_LIMIT_S)

    def unlocked() -> bool:  # the server ends the dead session, and its locks with it
        with psycopg.connect(pg_url, autocommit=True) as con:
            row = con.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
            return row is not None and row[0] == 0

    wait_until(unlocked, "the killed host's session ended")
    proc = start(b, "2025-03-10T07:30:00+09:00", FAKE_LOG=str(tmp_path / "b.log"))
    out = proc.communicate(timeout=WAIT_LIMIT_S)[0]
    assert proc.returncode == 0, out
    assert "was interrupted by a killed run; it will be retried" in out
    assert builds(tmp_path / "b.log") == Counter({("start", "morning"): 1, ("end", "morning"): 1})
    with open_history(load_config(a), create=False) as state:
        rows = state.history("morning", limit=10)
    assert [(r.attempt, r.status) for r in rows] == [(2, DONE), (1, FAILED)]


@pytest.mark.parametrize("outputs", ["shared", "per-host"])
def test_a_failed_delivery_is_sent_once_by_a_host_that_has_the_brief(
    tmp_path: Path, pg_url: str, outputs: str,
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from fake_pipeline import FakeBuild
    from mailserver import closed_port, smtp_server

    from briefgen.schedule.run_due import run_due

    slot = datetime(2025, 3, 10, 7, 5, tzinfo=ZoneInfo("Asia/Tokyo"))
    with closed_port() as port:
        deliver = {"email": {"to": ["desk@example.org"], "from": "Briefs <briefs@example.org>",
                             "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
                             "attach": []}}
        cfgs = []
        for name in ("host-a", "host-b"):
            config = write_project(tmp_path / name, {"backend": "postgresql", "url": pg_url})
            data = yaml.safe_load(config.read_text(encoding="utf-8"))
            data["briefs"]["morning"]["deliver"] = deliver
            if outputs == "shared":  # one output folder on shared storage
                data["output"] = {"dir": str(tmp_path / "shared-briefs")}
            config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            cfgs.append(load_config(config))
        builds, lines = FakeBuild(), []

        def run(cfg: LoadedConfig, now: datetime) -> Any:
            return run_due(cfg, now=now, echo=lines.append, build=builds,
                           refresh_index=lambda *a, **k: None)

        down = run(cfgs[0], slot)  # host a builds; the mail server is down
        assert down.built == [("morning", "2025-03-09T22:00:00Z")] and down.delivered == []
    with smtp_server(port=port) as server:
        b = run(cfgs[1], slot + timedelta(minutes=6))  # host b: nothing to build
        a = run(cfgs[0], slot + timedelta(minutes=7))
        assert b.built == [] and a.built == []
        if outputs == "shared":  # host b has the files: it sends, host a finds it sent
            assert (b.delivered, a.delivered) == ([("morning", "email")], [])
        else:  # only host a has them: host b leaves the delivery to it
            assert (b.delivered, a.delivered) == ([], [("morning", "email")])
            assert "email delivery of run 1 left to" in "\n".join(lines)
        assert len(server.received) == 1
    assert len(builds.calls) == 1
    with open_history(cfgs[0], create=False) as state:
        [row] = state.history("morning", limit=5)
    assert [(d.channel, d.status, d.attempts) for d in row.deliveries] == [("email", "sent", 2)]
