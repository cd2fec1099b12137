"""Load: many `briefgen run-due` processes at once on one config build each due brief once.

Real subprocesses run the real CLI with the fake build of tests/fake_pipeline.py
(injected by tests/fake_briefgen.py), which logs one line per build to a file; the test counts them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from briefgen.config.load import load_config
from briefgen.schedule.sqlite_history import RunState
from briefgen.schedule.state import runs_db_path

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
WAIT_LIMIT_S = 120.0  # a hang guard, never reached when all is well
BRIEFS = ("morning", "markets", "korea")
DAILY = {"cron": "0 7 * * *", "timezone": "Asia/Tokyo", "lateness_hours": 12}


def write_config(root: Path) -> Path:
    data = {
        "topics": {"t": {"title": "T", "terms": {"japan": 1}}},
        "topic_files": [],
        "briefs": {
            name: {"title": name.title(), "topics": ["t"], "formats": ["md", "json"], "schedule": DAILY}
            for name in BRIEFS
        },
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def start(n: int, config: Path, now: str, **env: str) -> list[subprocess.Popen[str]]:
    """Start ``n`` run-due processes as close together as Popen allows."""
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)]),
        **env,
    }
    cmd = [sys.executable, str(TESTS / "fake_briefgen.py"), "run-due", "-c", str(config), "--now", now]
    return [
        subprocess.Popen(cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(n)
    ]


def builds(log: Path) -> Counter[tuple[str, str]]:
    """Count the finished builds in the fake pipeline's log, by (event, brief)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter((e["event"], e["brief"]) for e in map(json.loads, lines) if "brief" in e)


@pytest.mark.parametrize("n", [2, 10])
def test_simultaneous_run_due_processes_build_each_brief_once(tmp_path: Path, n: int) -> None:
    config = write_config(tmp_path)
    log, release = tmp_path / "builds.log", tmp_path / "release"

    # Wave 1: the first process to take the lock blocks inside its first build until every
    # other one has given up; each must exit 3 ("another run-due is running") without building.
    procs = start(n, config, "2025-03-10T07:05:00+09:00", FAKE_LOG=str(log),
                  FAKE_STARTED=str(tmp_path / "started"), FAKE_RELEASE=str(release))
    try:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while sum(p.poll() is not None for p in procs) < n - 1:
            assert time.monotonic() < deadline, "the losing processes never exited"
            time.sleep(0.02)
        losers = [p for p in procs if p.poll() is not None]
        for p in losers:
            out = p.communicate(timeout=WAIT_LIMIT_S)[0]
            assert p.returncode == 3 and "another briefgen run-due is running" in out, out
    finally:
        release.touch()
        outs = [p.communicate(timeout=WAIT_LIMIT_S)[0] for p in procs]
    assert sorted(p.returncode for p in procs) == [0] + [3] * (n - 1), outs

    # Wave 2, a day later: all at once, nothing held; whoever comes after the winner finds
    # the slot done (exit 0, nothing built) or the lock held (exit 3).
    procs = start(n, config, "2025-03-11T07:05:00+09:00", FAKE_LOG=str(log))
    outs = [p.communicate(timeout=WAIT_LIMIT_S)[0] for p in procs]
    assert all(p.returncode in (0, 3) for p in procs), outs

    # Wave 3, the same slot again: nothing is due.
    procs = start(n, config, "2025-03-11T07:30:00+09:00", FAKE_LOG=str(log))
    outs = [p.communicate(timeout=WAIT_LIMIT_S)[0] for p in procs]
    assert all(p.returncode in (0, 3) for p in procs), outs

    counts = builds(log)
    assert counts == Counter({(event, b): 2 for event in ("start", "end") for b in BRIEFS}), counts
    cfg = load_config(config)
    with RunState(runs_db_path(cfg)) as state:
        rows = state.history(None, limit=1000)
    done = Counter((r.brief, r.slot) for r in rows if r.status == "done")
    assert sorted(done.values()) == [1] * 6 and len(rows) == 6
    for name in BRIEFS:
        latest = tmp_path / "briefs" / name / "latest"
        assert os.readlink(latest) == "2025-03-11"
        assert json.loads((latest / "brief.json").read_text())["as_of"] == "2025-03-11"
