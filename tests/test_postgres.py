"""The PostgreSQL backend's own behaviour: URLs and logins, one-line errors, the advisory update
lock, schema versions, kill -9 mid-index. (The Store contract itself is in test_store.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from indexdata import article, make_cfg, q

from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig
from briefgen.errors import ConfigError, StoreError
from briefgen.index.backends import open_store
from briefgen.index.postgres import schema as pg_schema
from briefgen.index.postgres import writer as pg_writer
from briefgen.index.postgres.connection import DATABASE_URL_ENV, database_url, lock_key
from briefgen.index.update import update_index

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
WAIT_LIMIT_S = 120.0  # a hang guard, never reached when all is well


def corpus_cfg(root: Path, url: str, docs: int = 3) -> LoadedConfig:
    folder = root / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(docs):
        (folder / f"doc{i:03d}.txt").write_text(article(f"subject{i}"), encoding="utf-8")
    return make_cfg(root, index={"backend": "postgresql", "url": url})


def write_config(root: Path, index_lines: str) -> Path:
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    (root / "corpus" / "a.txt").write_text(article("tariff"), encoding="utf-8")
    path = root / "config.yaml"
    path.write_text(f"corpus:\n  path: corpus\n  metadata: null\nindex:\n{index_lines}topic_files: []\n",
                    encoding="utf-8")
    return path


# --- URLs and passwords (no server needed) --------------------------------------------------


@pytest.mark.parametrize("url", [
    "postgresql://briefgen:hunter2@db.example.org/briefgen",
    "postgres://u:@db/x",
    "postgresql://briefgen@db.example.org/briefgen?password=hunter2",
])
def test_a_url_with_a_password_is_refused_with_file_and_line(tmp_path: Path, url: str) -> None:
    config = write_config(tmp_path, f"  backend: postgresql\n  url: {url}\n")
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert len(info.value.problems) == 1
    line = info.value.problems[0]
    assert line.startswith(f"{config}:6:8: index.url: ") and "contains a password" in line and "PGPASSWORD" in line
    assert "hunter2" not in line


def test_a_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  backend: postgresql\n  url: mysql://db/x\n")
    with pytest.raises(ConfigError, match="not a PostgreSQL URL"):
        load_config(config)


def test_the_url_comes_from_the_environment_and_is_checked_there_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = load_config(write_config(tmp_path, "  backend: postgresql\n"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    with pytest.raises(StoreError, match=f"needs a database and none is given.*{DATABASE_URL_ENV}"):
        database_url(cfg)
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://a:b@h/d")
    with pytest.raises(StoreError, match=f"{DATABASE_URL_ENV}: .*contains a password") as info:
        database_url(cfg)
    assert ":b@" not in str(info.value)
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://a@h/d")
    assert database_url(cfg) == "postgresql://a@h/d"


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    from pgserver import free_port

    url = f"postgresql://briefgen@127.0.0.1:{free_port()}/briefgen"
    config = write_config(tmp_path, f"  backend: postgresql\n  url: {url}\n")
    result = CliRunner().invoke(cli, ["index", "-c", str(config), "-q"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {url}: cannot reach the database")
    assert "Traceback" not in result.output


# --- logins ----------------------------------------------------------------------------------


def test_logins_take_the_password_from_pgpassword_or_pgpass(
    pg_server: object, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pgserver

    url = pg_url.replace("postgres@", f"{pgserver.PASSWORD_ROLE}@")
    cfg = corpus_cfg(tmp_path, url)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    with pytest.raises(StoreError, match="refused the login.*PGPASSWORD or ~/.pgpass"):
        update_index(cfg, progress=False)
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(StoreError, match="refused the login") as info:
        update_index(cfg, progress=False)
    assert "\n" not in str(info.value) and "wrong" not in str(info.value)
    monkeypatch.setenv("PGPASSWORD", pgserver.PASSWORD)
    assert update_index(cfg, progress=False).added == 3
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:*:*:{pgserver.PASSWORD_ROLE}:{pgserver.PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with open_store(cfg) as ix:
        assert len(ix.search(q("subject1"))) == 3


def test_a_missing_database_or_index_says_what_to_do(pg_server: object, pg_url: str, tmp_path: Path) -> None:
    cfg = corpus_cfg(tmp_path, pg_url)
    with pytest.raises(StoreError, match="no index in this database yet; run `briefgen index`"):
        open_store(cfg)
    missing = corpus_cfg(tmp_path / "other", pg_url.rsplit("/", 1)[0] + "/nosuchdb")
    with pytest.raises(StoreError, match='database "nosuchdb" does not exist; create it first'):
        update_index(missing, progress=False)


# --- the update lock and schema versions -----------------------------------------------------


def waiting_for_lock(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as con:
        row = con.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
        return bool(row and row[0])


def test_a_second_update_waits_for_the_first_and_gives_up_after_the_limit(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = corpus_cfg(tmp_path, pg_url)
    update_index(cfg, progress=False)
    holder = psycopg.connect(pg_url, autocommit=True, application_name="the other host")
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(*pg_writer.INDEX_LOCK),))
        monkeypatch.setattr(pg_writer, "LOCK_WAIT_S", 0.2)
        with pytest.raises(StoreError, match=r"another `briefgen index` is updating this index "
                                             r"\(the other host"):
            update_index(cfg, progress=False)
        monkeypatch.setattr(pg_writer, "LOCK_WAIT_S", WAIT_LIMIT_S)
        outcome: list[object] = []
        thread = threading.Thread(target=lambda: outcome.append(update_index(cfg, progress=False)))
        thread.start()
        deadline = time.monotonic() + WAIT_LIMIT_S
        while not waiting_for_lock(pg_url):  # the second update is now queued behind the lock
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.02)
        holder.execute("SELECT pg_advisory_unlock_all()")
        thread.join(WAIT_LIMIT_S)
    finally:
        holder.close()
    summary = outcome[0]
    assert summary.unchanged == 3  # type: ignore[attr-defined]
    assert any("waited for another update" in n for n in summary.notes)  # type: ignore[attr-defined]


def test_an_index_of_another_schema_version_is_rebuilt(pg_url: str, tmp_path: Path) -> None:
    cfg = corpus_cfg(tmp_path, pg_url)
    update_index(cfg, progress=False)
    with psycopg.connect(pg_url, autocommit=True) as con:
        pg_schema.set_setting(con, pg_schema.INDEX_VERSION_KEY, str(pg_schema.INDEX_SCHEMA_VERSION + 7))
    with pytest.raises(StoreError, match="schema version"):
        open_store(cfg)
    summary = update_index(cfg, progress=False)
    assert summary.added == 3 and "rebuilt it from scratch" in summary.format()


def test_cli_index_backend_option_fills_the_database(pg_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, f"  url: {pg_url}\n")  # backend stays sqlite
    result = CliRunner().invoke(cli, ["index", "-c", str(config), "--backend", "postgresql"])
    assert result.exit_code == 0, result.output
    assert f"index: {pg_url}" in result.output and "1 added" in result.output
    assert not (tmp_path / ".briefgen" / "index.sqlite").exists()


# --- kill -9 mid-index ------------------------------------------------------------------------

CRASH_SCRIPT = """
import sys, time
from pathlib import Path
from typing import Any
sys.path.insert(0, sys.argv[3])
import briefgen.index.update as indexer
from briefgen.index.postgres.writer import PgWriter
from indexdata import make_cfg

indexer.BATCH_DOCS = 10
signal_file = Path(sys.argv[2])
real_commit, commits = PgWriter.commit, []

def commit_then_pause(self):
    real_commit(self)
    commits.append(1)
    if len(commits) == 3:                  # planning commit, then two document batches
        signal_file.write_text("committed")
        time.sleep(600)                    # wait here to be killed

PgWriter.commit = commit_then_pause
cfg = make_cfg(Path(sys.argv[1]), index={"backend": "postgresql", "url": sys.argv[4]})
indexer.update_index(cfg, progress=False)
"""


def test_kill_9_mid_index_leaves_the_previous_index_usable(pg_url: str, tmp_path: Path) -> None:
    cfg = corpus_cfg(tmp_path, pg_url, docs=60)
    signal_file = tmp_path / "paused"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), str(signal_file), str(TESTS), pg_url],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while not signal_file.exists():
            assert proc.poll() is None, "the indexing subprocess ended before pausing"
            assert time.monotonic() < deadline, "the indexing subprocess never paused"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    with psycopg.connect(pg_url, autocommit=True) as con:
        docs, passages, orphans = con.execute(
            "SELECT (SELECT count(*) FROM briefgen.documents), (SELECT count(*) FROM briefgen.passages), "
            "(SELECT count(*) FROM briefgen.passages WHERE doc NOT IN (SELECT id FROM briefgen.documents))"
        ).fetchone() or (None, None, None)
    assert (docs, passages, orphans) == (20, 60, 0)  # two committed batches, no half document
    with open_store(cfg) as ix:
        assert len(ix.search(q("subject0", limit=5))) == 3  # the previous index is usable
    # The killed session's lock died with it: the next update runs at once and completes.
    summary = update_index(cfg, progress=False)
    assert (summary.added, summary.unchanged, summary.documents_total) == (40, 20, 60)
    assert not summary.notes


# --- the server stopped mid-build -------------------------------------------------------------

PAUSE_IN_SEARCH = """
import sys, time
from pathlib import Path
from typing import Any
from briefgen.index.postgres.store import PgStore
from briefgen.cli import main

paused, go = Path(sys.argv[1]), Path(sys.argv[2])
real = PgStore.search

def search(self, query):
    if not paused.exists():
        paused.write_text("paused")
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return real(self, query)

PgStore.search = search
sys.argv = ["briefgen", *sys.argv[3:]]
main()
"""


def run_pausing(project: Path, *args: str, stop: object) -> subprocess.CompletedProcess[str]:
    """Run `briefgen ARGS`; once it is inside its first search, call ``stop``, then let it go on."""
    paused, go = project.parent / "paused", project.parent / "go"
    paused.unlink(missing_ok=True)
    go.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSE_IN_SEARCH, str(paused), str(go), *args], cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while not paused.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "never reached the first search"
            time.sleep(0.02)
        stop()  # type: ignore[operator]
    finally:
        go.touch()
        out, err = proc.communicate(timeout=WAIT_LIMIT_S)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_the_server_stopped_mid_build_is_one_line_and_no_half_built_brief(
    pg_server: Any, pg_url: str, tmp_path: Path,
) -> None:
    from conftest import copy_project

    project = copy_project(tmp_path / "project")
    config = project / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("index:\n", f"index:\n  backend: postgresql\n  url: {pg_url}\n", 1),
                      encoding="utf-8")
    assert CliRunner().invoke(cli, ["index", "-c", str(config), "-q"]).exit_code == 0
    out = project / "out"
    try:
        res = run_pausing(project, "build", "--format", "md,json", "--out", str(out),
                          stop=lambda: pg_server.stop("fast"))
    finally:
        if not pg_server.running():
            pg_server.start()
    assert res.returncode == 1, res
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {pg_url}: cannot reach the database"), lines
    assert not out.exists() or not any(out.iterdir())  # nothing written, not even a part
    again = CliRunner().invoke(cli, ["build", "-c", str(config), "--format", "md", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert (out / "brief.md").is_file()


def test_a_scheduled_run_cut_off_from_the_database_is_retried_later(
    pg_server: Any, pg_url: str, tmp_path: Path,
) -> None:
    from conftest import copy_project

    project = copy_project(tmp_path / "project")
    config = project / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("index:\n", f"index:\n  backend: postgresql\n  url: {pg_url}\n", 1)
                      + "\n", encoding="utf-8")
    cfg = load_config(config)
    name = next(n for n, b in cfg.config.briefs.items() if b.schedule is not None)
    zone = cfg.config.briefs[name].schedule.timezone  # type: ignore[union-attr]
    now = "2026-03-16T09:00:00"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    instant = datetime.fromisoformat(now).replace(tzinfo=ZoneInfo(zone)).isoformat()
    try:
        res = run_pausing(project, "run-due", "--now", instant, stop=lambda: pg_server.stop("fast"))
    finally:
        if not pg_server.running():
            pg_server.start()
    assert res.returncode == 1, res
    assert res.stderr.strip().startswith(f"error: {pg_url}: cannot reach the database"), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not list((project / "briefs").rglob("brief.md"))  # no brief published
    again = subprocess.run([sys.executable, "-m", "briefgen", "run-due", "--now", instant], cwd=project,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                           timeout=WAIT_LIMIT_S, check=False)
    assert again.returncode == 0, again
    assert "interrupted by a killed run; it will be retried" in again.stdout
    assert len(list((project / "briefs").rglob("brief.md"))) == 1


def test_stored_corpus_facts_and_token_counts_are_what_a_fresh_count_gives(pg_url: str, tmp_path: Path) -> None:
    cfg = corpus_cfg(tmp_path, pg_url, docs=4)
    folder = tmp_path / "corpus"
    seen = []
    for change in (None, lambda: (folder / "doc001.txt").write_text(article("reactor"), encoding="utf-8"),
                   lambda: (folder / "doc002.txt").unlink(), None):
        if change:
            change()
        update_index(cfg, progress=False)
        with psycopg.connect(pg_url, autocommit=True) as con:
            stored, fresh = pg_schema.stored_facts(con), pg_schema.corpus_facts(con)
            kept = dict(con.execute("SELECT token, passages FROM briefgen.token_passages").fetchall())
            counted = dict(con.execute("SELECT lexeme, count(*) FROM briefgen.passages, unnest(tsv) "
                                       "GROUP BY lexeme").fetchall())
        assert stored == fresh
        assert kept == counted and kept
        seen.append(stored)
    assert seen[0] != seen[1] != seen[2] and seen[3] == seen[2]
    assert seen[2]["passage_totals"][0] == 9  # three documents of three passages
    assert kept["reactor"] == 3 and "subject2" not in kept  # the changed and the deleted file
