"""Injected faults: kill -9, a full disk, permission denied, files changing under the indexer,
a locked index, a missing output folder. After each: a clear error, nothing half-written,
the previous outputs and index intact, and the next run completes.

Processes are paused at a known point by patching the function they are in (a file says
"I am there"), then killed: no sleeps that assume how fast the machine is.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import pypdf
import pytest
from click.testing import CliRunner
from indexdata import q

from briefgen import _fs as atomic
from briefgen.build import build_brief
from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig
from briefgen.corpus import files as corpus
from briefgen.errors import StoreError
from briefgen.index.backends import open_store
from briefgen.index.sqlite import store as index
from briefgen.index.update import update_index

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-03-15"
WAIT_LIMIT_S = 120.0  # a hang guard for subprocess events, never reached when all is well


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "config.yaml", dest / "config.yaml")
    for name in ("seeds", "topics", "templates"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def article(subject: str, n: int = 3) -> str:
    """A plain-text article that cleaning keeps whole."""
    return "\n\n".join(
        f"The government said on Monday that {subject} talks would continue next week, "
        f"according to officials familiar with the matter. Paragraph {i} adds detail on {subject}."
        for i in range(1, n + 1)
    ) + "\n"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder``, hidden ones included, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def integrity(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
        orphans = con.execute(
            "SELECT COUNT(*) FROM passages WHERE doc NOT IN (SELECT id FROM documents)"
        ).fetchone()[0]
        assert orphans == 0
    finally:
        con.close()


def wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not path.exists():
        assert proc.poll() is None, f"the subprocess ended before pausing: {proc.returncode}"
        assert time.monotonic() < deadline, "the subprocess never paused"
        time.sleep(0.02)


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `briefgen` command in ``project``."""
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *args], cwd=project, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=WAIT_LIMIT_S, check=False,
    )


# --- kill -9 ------------------------------------------------------------------------------

# Runs the real CLI; pauses (to be killed) at the point named by argv[1].
PAUSING_CLI = """
import os, sys, time
from pathlib import Path
import briefgen.index.update as indexer
from briefgen.index.sqlite.writer import SqliteWriter
from briefgen.cli import main

point, signal_file = sys.argv[1], Path(sys.argv[2])

def pause():
    signal_file.write_text("paused")
    time.sleep(600)

if point == "index-batch":                  # after the second document batch is committed
    indexer.BATCH_DOCS = 10
    real_commit, commits = SqliteWriter.commit, []
    def commit(self):
        real_commit(self)
        commits.append(1)
        if len(commits) == 3:
            pause()
    SqliteWriter.commit = commit
elif point == "output-temp":                # after the last output's temporary file is complete
    real_chmod = os.chmod
    def chmod(path, mode, *args, **kwargs):
        real_chmod(path, mode, *args, **kwargs)
        if Path(path).name.startswith(".brief.json."):
            pause()
    os.chmod = chmod
sys.argv = ["briefgen", *sys.argv[3:]]
main()
"""


def kill_at(project: Path, point: str, *args: str) -> None:
    """Start `briefgen ARGS` in ``project``, wait until it pauses at ``point``, kill -9 it."""
    signal_file = project.parent / f"paused-{point}"
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSING_CLI, point, str(signal_file), *args],
        cwd=project, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(signal_file, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_during_index_then_build_completes(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    for i in range(40):
        (project / "seeds" / f"extra{i:02d}.txt").write_text(article(f"subject{i}"), "utf-8")
    kill_at(project, "index-batch", "index", "-q")
    db = project / ".briefgen" / "index.sqlite"
    integrity(db)
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 20  # two whole batches
    con.close()

    done = run_cli(project, "build", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    integrity(db)
    with open_store(load_config(project / "config.yaml")) as ix:
        assert len(ix.sources()) == 45  # the 5 seeds and the 40 extra articles
    folder = project / "briefs" / "japan-daily"
    assert sorted(p.name for p in folder.iterdir()) == ["brief.json", "brief.md", "brief.pdf"]
    assert pypdf.PdfReader(folder / "brief.pdf").pages


def test_kill_9_during_build_leaves_the_previous_outputs(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    assert run_cli(project, "build", "--as-of", AS_OF).returncode == 0
    folder = project / "briefs" / "japan-daily"
    before = snapshot(folder)
    (project / "seeds" / "extra.txt").write_text(article("Taiwan Strait defense"), "utf-8")

    kill_at(project, "output-temp", "build", "--as-of", "2026-03-16")
    after = snapshot(folder)
    leftovers = sorted(set(after) - set(before))
    # Killed with all three new files written but not yet renamed: every output is the
    # previous one (not a mix of old and new), and the temporary files are hidden.
    assert {name: after[name] for name in before} == before
    assert [n.split(".")[2] for n in leftovers] == ["json", "md", "pdf"], leftovers
    assert all(n.startswith(".brief.") and n.endswith(".tmp") for n in leftovers)
    integrity(project / ".briefgen" / "index.sqlite")

    old = time.time() - 7200  # as temporary files of a build killed two hours ago
    for name in leftovers:
        os.utime(folder / name, (old, old))
    done = run_cli(project, "build", "--as-of", "2026-03-16")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["brief.json", "brief.md", "brief.pdf"]
    assert '"as_of": "2026-03-16"' in (folder / "brief.json").read_text("utf-8")


# --- disk full, permission denied ------------------------------------------------------------


class _HalfWritten:
    """A file whose disk fills up halfway through the first write."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh

    def write(self, data: bytes) -> int:
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


class _Proxy:
    """A module stand-in: ``overrides`` first, then the real module."""

    def __init__(self, module: Any, **overrides: Callable[..., Any]) -> None:
        self._module, self._overrides = module, overrides

    def __getattr__(self, name: str) -> Any:
        return self._overrides.get(name) or getattr(self._module, name)


def _denied(*_args: Any, **_kwargs: Any) -> Any:
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


def _disk_full(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


FAULTS: dict[str, tuple[str, dict[str, Callable[..., Any]], str]] = {
    # name: (module in briefgen._fs to replace, overrides, strerror in the message)
    "disk full mid-write": (
        "os",
        {"fdopen": lambda fd, mode, **kw: _HalfWritten(os.fdopen(fd, mode, **kw))},
        "No space left on device",
    ),
    "disk full at fsync": ("os", {"fsync": _disk_full}, "No space left on device"),
    "permission denied": ("tempfile", {"mkstemp": _denied}, "Permission denied"),
}


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("faults") / "project")
    cfg = load_config(project / "config.yaml")
    update_index(cfg, progress=False)
    return project


@pytest.mark.parametrize("fault", list(FAULTS))
def test_output_write_fault_is_one_line_and_keeps_previous_outputs(
    built_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    out = tmp_path / "out"
    config = str(built_project / "config.yaml")
    args = ["build", "-c", config, "--format", "md,json", "--out", str(out), "--as-of", AS_OF]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = snapshot(out)
    module, overrides, strerror = FAULTS[fault]
    monkeypatch.setattr(atomic, module, _Proxy(getattr(atomic, module), **overrides))
    result = CliRunner().invoke(cli, [*args[:-1], "2026-03-16"])
    assert result.exit_code == 1
    assert result.output == f"error: brief japan-daily: cannot write to {out}: {strerror}\n"
    assert snapshot(out) == before  # nothing half-written, no temporary file left


def test_disk_full_while_indexing_is_one_line_and_keeps_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    config = str(project / "config.yaml")
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "-q", "-c", config]).exit_code == 0
    db = project / ".briefgen" / "index.sqlite"
    for i in range(40):
        (project / "seeds" / f"extra{i:02d}.txt").write_text(article(f"subject{i}", 20), "utf-8")
    real_connect = index.connect

    def nearly_full(path: Path) -> sqlite3.Connection:
        # SQLite's own "disk full" (SQLITE_FULL): the database may grow by a few pages only.
        con = real_connect(path)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count={pages + 8}")
        return con

    monkeypatch.setattr("briefgen.index.sqlite.writer.connect", nearly_full)
    result = runner.invoke(cli, ["index", "-q", "-c", config])
    assert result.exit_code == 1
    assert result.output == f"error: {db}: database or disk is full\n"
    integrity(db)
    cfg = load_config(project / "config.yaml")
    with open_store(cfg) as ix:
        assert len(ix.sources()) == 5 and ix.search(q("Takaichi", limit=5))  # the previous index

    monkeypatch.undo()
    summary = update_index(cfg, progress=False)
    assert (summary.added, summary.documents_total) == (40, 45)
    integrity(db)


# --- the corpus changing under the indexer; a locked index ------------------------------------


def test_corpus_files_deleted_or_changed_while_indexing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(tmp_path / "project")
    seeds = project / "seeds"
    for i in range(8):
        (seeds / f"a{i}.txt").write_text(article(f"topic{i}"), "utf-8")
    cfg = load_config(project / "config.yaml")
    real_list, real_read = corpus.corpus_files, corpus.read_raw

    def list_then_delete(cfg: LoadedConfig, warn: Any = None) -> list[Path]:
        paths = real_list(cfg, warn)
        (seeds / "a1.txt").unlink()  # gone between listing and the stat
        return paths

    def read_and_meddle(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == "a0.txt":  # between the stat and reading of the later files
            (seeds / "a3.txt").unlink()
            (seeds / "a5.txt").write_text(article("zanzibar", 4), "utf-8")
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(corpus, "corpus_files", list_then_delete)
    monkeypatch.setattr(corpus, "read_raw", read_and_meddle)
    summary = update_index(cfg, progress=False)
    assert summary.skipped == ["seeds/a3.txt: cannot read the file (No such file or directory)"]
    integrity(cfg.resolve(cfg.config.index.path))
    with open_store(cfg) as ix:
        assert {s.doc_id for s in ix.sources()} >= {"a0", "a2", "a4", "a5"}
        assert not {"a1", "a3"} & {s.doc_id for s in ix.sources()}
        assert [s.doc_id for _, s, _ in ix.search(q("zanzibar", limit=10))] == ["a5"] * 4

    monkeypatch.undo()
    again = update_index(cfg, progress=False)
    assert (again.added, again.updated, again.removed, again.skipped) == (0, 0, 0, [])
    with open_store(cfg) as ix:
        assert [s.doc_id for _, s, _ in ix.search(q("zanzibar", limit=10))] == ["a5"] * 4


LOCK_HOLDER = """
import sqlite3, sys, time
from pathlib import Path
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
con.execute("INSERT INTO settings VALUES ('held', 'yes')")
Path(sys.argv[2]).write_text("locked")
while not Path(sys.argv[3]).exists():
    time.sleep(0.01)
con.execute("ROLLBACK")
"""


def test_index_locked_by_another_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path / "project")
    cfg = load_config(project / "config.yaml")
    update_index(cfg, progress=False)
    db = project / ".briefgen" / "index.sqlite"
    (project / "seeds" / "extra.txt").write_text(article("locked"), "utf-8")
    locked, release = tmp_path / "locked", tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(db), str(locked), str(release)])
    try:
        wait_for(locked, holder)
        monkeypatch.setattr(
            "briefgen.index.sqlite.schema.BUSY_TIMEOUT_MS", 200
        )  # the wait is the product's; keep it short
        with pytest.raises(StoreError) as err:
            update_index(cfg, progress=False)
        assert str(err.value) == (
            f"{db}: the index is locked by another process (is another `briefgen index` "
            "running?); try again when it has finished"
        )
        with open_store(cfg) as ix:  # readers are not blocked (WAL): builds keep working
            assert ix.search(q("Takaichi", limit=3))
    finally:
        release.touch()
        holder.wait(timeout=WAIT_LIMIT_S)
    integrity(db)
    summary = update_index(cfg, progress=False)
    assert (summary.added, summary.documents_total) == (1, 6)


def test_missing_output_folder_is_created(built_project: Path, tmp_path: Path) -> None:
    cfg = load_config(built_project / "config.yaml")
    out = tmp_path / "not" / "yet" / "there"
    files = build_brief(cfg, formats=["md"], out_dir=out, as_of=dt.date(2026, 3, 15)).files
    assert files == [out / "brief.md"] and files[0].read_text("utf-8").startswith("# ")
    shutil.rmtree(built_project / "briefs", ignore_errors=True)
    result = CliRunner().invoke(cli, ["build", "-c", str(cfg.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert (built_project / "briefs" / "japan-daily" / "brief.json").is_file()


def test_temporary_files_never_look_like_outputs(tmp_path: Path) -> None:
    # The names a killed writer can leave behind: hidden, and not brief.md/pdf/json.
    fd, name = tempfile.mkstemp(prefix=".brief.md.", suffix=".tmp", dir=tmp_path)
    os.close(fd)
    assert Path(name).name.startswith(".") and not Path(name).name.endswith((".md", ".pdf", ".json"))
    atomic.remove_stale_temps(tmp_path, ["brief.md"], older_than_s=3600)
    assert Path(name).exists()  # young: may belong to a build running now
    os.utime(name, (time.time() - 7200,) * 2)
    atomic.remove_stale_temps(tmp_path, ["brief.md"], older_than_s=3600)
    assert not Path(name).exists()
